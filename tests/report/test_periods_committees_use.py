"""Reports for the periods committees use: a month, a financial quarter, a financial year."""

from __future__ import annotations

import kpitools
from kpitools.report import fragments
from kpitools.report.deck import build_deck
from tests.conftest import EXAMPLE


def titles(report) -> list[str]:
    return [slide.shapes.title.text for slide in build_deck(report).slides]


def test_a_months_report_holds_the_monthly_measures():
    dataset = kpitools.load(EXAMPLE)
    report = kpitools.build_cpr(dataset, "ICT & Digital", "2024-06")
    assert report.quarter == "2024-06"
    assert report.period_words == "June 2024"
    assert report.title == "ICT & Digital: Corporate Performance Report, June 2024"
    assert titles(report)[0] == "ICT & Digital: at a glance, June 2024"
    frequencies = set(
        dataset.measures.loc[report.scorecard["measure_id"], "frequency"]  # type: ignore[index]
    )
    assert frequencies <= {"monthly", "termly"}
    assert set(report.scorecard["period"]) == {"2024-06"}
    monthly = kpitools.rate(dataset, period="2024-06", services=["ICT & Digital"])
    monthly = monthly[monthly["include"] & (monthly["value_period"] == "2024-06")]
    assert sum(report.counts.values()) == len(monthly)
    assert report.counts == {r: int((monthly["rag"] == r).sum()) for r in report.counts}
    assert "June 2024" in fragments.title(report)


def test_a_years_report():
    dataset = kpitools.load(EXAMPLE)
    report = kpitools.build_cpr(dataset, "Customer Services", "2023/24")
    assert (report.quarter, report.period_words, report.provisional) == ("2023/24", "2023/24", "")
    yearly = kpitools.rate(dataset, period="2023/24", services=["Customer Services"])
    assert report.counts == {
        r: int((yearly[yearly["include"]]["rag"] == r).sum()) for r in report.counts
    }


def test_an_unfinished_year_is_provisional():
    report = kpitools.build_cpr(kpitools.load(EXAMPLE), "Finance", "2024/25")
    assert report.provisional == "Provisional: 3 of 12 months, to June 2024"
