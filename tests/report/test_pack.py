"""The board pack: cover, corporate summary, RAG dashboard by month, every service's CPR."""

from __future__ import annotations

import io
import re

import pytest
from pptx import Presentation

from kpitools.core.periods import Granularity
from kpitools.report.content import build_cpr
from kpitools.report.deck import build_deck
from kpitools.report.pack import build_pack, movement, pack_deck_bytes, pack_html
from tests.conftest import QUARTER

SERVICES = ["Finance", "Waste & Environment"]


@pytest.fixture
def pack(example):
    reports = [build_cpr(example, s, QUARTER) for s in SERVICES]
    return build_pack(example, QUARTER, reports, {r.service: r.signoff_text for r in reports},
                      left_out=(("ICT & Digital", "⚠ Failed"),))  # fmt: skip


def titles(blob: bytes) -> list[str]:
    deck = Presentation(io.BytesIO(blob))
    return [slide.shapes.title.text for slide in deck.slides]


def test_the_pack_holds_cover_summary_dashboard_and_each_service(pack, example):
    shown = titles(pack_deck_bytes(pack))
    assert shown[0] == "Northfield Borough Council: Corporate Performance Report, 2024/25 Q1"
    assert shown[1] == "Corporate summary, 2024/25 Q1"
    dashboard = [t for t in shown if t.startswith("RAG by month, Jun 23 to Jun 24")]
    assert len(dashboard) >= 2 and dashboard[0].endswith(f"(1 of {len(dashboard)})")
    finance = shown.index("1. Finance")
    waste = shown.index("2. Waste & Environment")
    # Each service's own slides follow its heading, as its own deck has them.
    own = titles_of_deck(build_cpr(example, "Finance", QUARTER))
    assert shown[finance + 1 : waste] == own
    assert shown[waste + 1 :] == titles_of_deck(build_cpr(example, "Waste & Environment", QUARTER))


def titles_of_deck(report) -> list[str]:
    return [slide.shapes.title.text for slide in build_deck(report).slides]


def test_the_same_reports_make_the_same_bytes(pack):
    assert pack_deck_bytes(pack) == pack_deck_bytes(pack)


def test_the_summary_counts_and_movement_are_the_reports(pack, example):
    import kpitools

    finance = pack.services[0]
    assert finance.report.counts == {"green": 3, "amber": 6, "red": 2, "blue": 0, "white": 0,
                                     "grey": 0}  # fmt: skip
    before = kpitools.rate(example, period="2023/24 Q4", services=["Finance"], carry_forward=True)
    before = before[before["include"]]
    assert finance.previous == {r: int((before["rag"] == r).sum()) for r in finance.previous}
    assert finance.previous_label == "2023/24 Q4"
    assert movement(finance) == "amber 8 → 6, green 1 → 3"


def test_the_dashboard_is_the_monthly_ratings(pack, example):
    import kpitools

    assert pack.months[0] == "Jun 23" and pack.months[-1] == "Jun 24"
    assert len(pack.months) == 13
    monthly = kpitools.rate(example, by=Granularity.MONTH, measures=["FIN_KPI_01"])
    by_month = dict(zip(monthly["period"], monthly["rag"], strict=True))
    row = next(r for r in pack.dashboard if r.measure_id == "FIN_KPI_01")
    assert row.cells == tuple(by_month.get(m, "") for m in [
        "2023-06", "2023-07", "2023-08", "2023-09", "2023-10", "2023-11", "2023-12", "2024-01",
        "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"])  # fmt: skip
    assert row.target == "97.5%" and row.polarity == "Bigger is better"
    assert all(row.cells)  # reported every month
    # A quarterly measure shows in the last month of each quarter only.
    quarterly = next(r for r in pack.dashboard if r.measure_id == "WST_WF_02")
    assert [i for i, rag in enumerate(quarterly.cells) if rag] == [0, 3, 6, 9, 12]


def test_the_html_pack_is_tables_with_headers_and_words(pack):
    page = pack_html(pack, {"Finance": "finance/finance.html"})
    assert page.startswith('<!DOCTYPE html>\n<html lang="en-GB">')
    assert '<a href="finance/finance.html">Finance</a>' in page
    assert "Not in this pack: ICT &amp; Digital (⚠ Failed)" in page
    assert page.count("<caption>") >= 2
    assert '<th scope="rowgroup" colspan="16">Finance</th>' in page
    assert re.search(r'<span class="rag rag-red"[^>]*>▲ red</span>', page)
    assert '<h2 id="service-2">2. Waste &amp; Environment</h2>' in page
    assert "<script" not in page
