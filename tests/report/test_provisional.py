"""Unfinished periods are never passed off as finished; a month's RAG is never hidden."""

from __future__ import annotations

import datetime as dt

import pytest

import kpitools
from kpitools.batch.plan import plan_run
from kpitools.core.errors import KpiToolsError
from kpitools.report import fragments
from kpitools.report.deck import build_deck
from kpitools.report.summary import ReportSummary

MEASURES = "measure_id,service,title,polarity,unit,target\nM,S,Calls answered,up,percent,80\n"


def months(*pairs: tuple[str, str]) -> str:
    return "measure_id,period,value\n" + "".join(f"M,{m},{v}\n" for m, v in pairs)


@pytest.fixture
def to_august(make_data):
    """Data from April to August 2024: Q1 is finished, Q2 (July to September) is not."""
    return kpitools.load(
        make_data(
            measures=MEASURES,
            values=months(
                ("2024-04", 85), ("2024-05", 70), ("2024-06", 90), ("2024-07", 60), ("2024-08", 95)
            ),
        )
    )


def test_latest_is_the_latest_finished_period(to_august):
    calendar = to_august.calendar
    assert calendar.label(to_august.latest_period(kpitools.Granularity.QUARTER)) == "2024/25 Q1"
    assert calendar.label(to_august.latest_period(kpitools.Granularity.MONTH)) == "2024-08"
    assert to_august.latest_period(kpitools.Granularity.YEAR) is None  # 2024/25 runs to March
    assert kpitools.rate(to_august, period="latest")["period"].tolist() == ["2024/25 Q1"]


def test_run_latest_builds_the_finished_quarter(to_august, tmp_path):
    plan = plan_run(to_august.source, "latest", out_dir=tmp_path / "out")
    assert plan.quarter == "2024/25 Q1"


def test_no_finished_quarter_yet_is_explained(make_data, tmp_path):
    data = make_data(measures=MEASURES, values=months(("2024-04", 85)))
    with pytest.raises(KpiToolsError, match="covers no whole quarter yet"):
        plan_run(data, "latest", out_dir=tmp_path / "out")


def test_an_unfinished_quarter_named_is_provisional_everywhere(to_august):
    report = kpitools.build_cpr(to_august, "S", "2024/25 Q2")
    assert report.provisional == "Provisional: 2 of 3 months, to August 2024"
    assert report.report_date == dt.date(2024, 8, 31)  # not 30 September
    assert report.provisional in report.footer
    assert ReportSummary.of(report).provisional == report.provisional
    assert "Provisional: 2 of 3 months, to August 2024</strong>" in fragments.title(report)
    deck = build_deck(report)
    footers = [
        shape.text_frame.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame and "Slide " in shape.text_frame.text
    ]
    assert len(footers) == len(deck.slides) == 5  # the four slides and the appendix
    assert all(f.startswith("PROVISIONAL: 2 OF 3 MONTHS, TO AUGUST 2024 · ") for f in footers)


def test_a_finished_quarter_is_not_provisional(to_august):
    report = kpitools.build_cpr(to_august, "S", "2024/25 Q1")
    assert report.provisional == ""
    assert report.report_date == dt.date(2024, 6, 30)
    assert "provisional" not in fragments.title(report).lower()


def test_month_strips_are_for_the_exceptions(to_august):
    """May failed (70 against 80: red); the quarter takes June's 90, green, and is no
    exception, so its row (on "what's good") carries no strip."""
    report = kpitools.build_cpr(to_august, "S", "2024/25 Q1")
    [line] = report.whats_good
    assert (line.value, line.rag, line.months) == (90.0, "green", ())
    monthly = kpitools.rate(to_august, by="month").set_index("period")["rag"]
    assert monthly[["2024-04", "2024-05", "2024-06"]].tolist() == ["green", "red", "green"]


def test_a_month_strip_on_the_exceptions_slide_and_in_the_html(make_data):
    data = make_data(
        measures=MEASURES,
        values="measure_id,period,value,status\n"
        "M,2024-04,,not_available\nM,2024-05,60,\nM,2024-06,95,\n",
    )
    report = kpitools.build_cpr(kpitools.load(data), "S", "2024/25 Q1")
    [line] = report.exceptions
    assert line.rag == "red"
    assert line.months == (("2024-04", "red"), ("2024-05", "red"), ("2024-06", "green"))
    deck = build_deck(report)
    [table] = [s.table for s in deck.slides[2].shapes if s.has_table]
    reasons = table.cell(1, 4).text
    assert reasons == (
        "data due but not available (red)\n"
        "By month: Apr ▲ red · May ▲ red · Jun ● green\n"
        "Data: 1 of 3 months not available"
    )
    html = fragments.exceptions(report)
    assert '<th scope="col">By month</th>' in html
    assert html.count("<li>Apr ") == 1 and html.count("<li>Jun ") == 1
    assert "<strong>About the figures:</strong> 1 of 3 months not available</p>" in html


def test_a_part_quarter_is_not_compared_with_a_whole_one(make_data):
    """Calls answered, 1000 a month to August: July and August (2,000) are not 'worse' than
    April to June (3,000)."""
    months_to_august = [f"2024-{m:02d}" for m in range(4, 9)]
    data = make_data(
        measures="measure_id,service,title,polarity,unit,aggregation\nC,S,Calls answered,up,"
        "count,sum\n",
        values="measure_id,period,value\n" + "".join(f"C,{m},1000\n" for m in months_to_august),
    )
    dataset = kpitools.load(data)
    rows = kpitools.rate(dataset).set_index("period")
    assert rows.loc["2024/25 Q1", "direction"] == "no_earlier_figure"
    assert rows.loc["2024/25 Q2", ["value", "direction"]].tolist() == [2000.0, "not_comparable"]
    report = kpitools.build_cpr(dataset, "S", "2024/25 Q2")
    assert report.areas_for_development == ()
