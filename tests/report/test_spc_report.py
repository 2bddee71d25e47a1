"""SPC in the report: one truth with the scorecard, the summary matrix's order, the XmR
chart's text alternative, slide 3's labels and the overview's matrix."""

from __future__ import annotations

import math

import pytest

import kpitools
from kpitools.core.variation import spc_table
from kpitools.report import charts
from kpitools.report import fragments as show
from kpitools.report.content import attention_key
from kpitools.report.deck import _exception_cells, _spc_lines
from kpitools.report.matrix import MatrixRow
from kpitools.report.summary import ReportSummary

QUARTER = "2024/25 Q1"


@pytest.fixture
def reports(example):
    return {s: kpitools.build_cpr(example, s, QUARTER) for s in example.services}


def test_every_line_says_what_the_scorecard_says(example, reports):
    card = kpitools.rate(example, period=QUARTER).set_index("measure_id")
    for report in reports.values():
        for line in report.all_lines:
            row = card.loc[line.measure_id]
            assert (line.variation, line.assurance) == (row["variation"], row["assurance"])
            if line.variation:
                # The chart's latest point is the one the label reads.
                assert line.xmr[-1][5] == line.variation


def test_the_chart_in_a_report_stops_at_its_period(example):
    report = kpitools.build_cpr(example, "Customer Services", "2023/24 Q4")
    line = next(x for x in report.all_lines if x.measure_id == "CSC_KPI_03")
    assert line.xmr[-1][0] == "2024-03"
    whole = spc_table(example, measures=["CSC_KPI_03"])
    assert whole.iloc[-1]["period"] == "2024-06"


def test_the_example_council_shows_special_cause_improvement_and_concern(reports):
    seen = {line.variation for r in reports.values() for line in r.all_lines}
    assert {"improvement", "concern", "common_cause"} <= seen
    assurances = {line.assurance for r in reports.values() for line in r.all_lines}
    assert {"consistently_met", "consistently_missed", "hit_and_miss"} <= assurances


def test_the_matrix_puts_what_needs_attention_first(reports):
    for report in reports.values():
        keys = [attention_key(row) for row in report.matrix]
        assert keys == sorted(keys)
        assert len(report.matrix) == len(report.all_lines)
    row = MatrixRow("S", "A", "T", "1", "2024-06", "green", "concern", "low", "consistently_met")
    red = MatrixRow("S", "B", "T", "1", "2024-06", "red", "common_cause", "", "hit_and_miss")
    missed = MatrixRow("S", "C", "T", "1", "2024-06", "green", "common_cause", "",
                       "consistently_missed")  # fmt: skip
    assert sorted([red, missed, row], key=attention_key) == [row, missed, red]


def test_the_matrix_html_says_it_in_words_and_symbols(reports):
    report = reports["Finance"]
    html = show.spc_matrix(report)
    assert "<caption>Summary matrix for Finance" in html
    assert html.count('<th scope="row">') == len(report.all_lines)
    concern = next(r for r in report.matrix if r.variation == "concern")
    assert f'<span aria-hidden="true">{show.SIDE_SYMBOLS[concern.side]}</span> Concern' in html
    assert "Hit and miss" in html or "Target missed" in html


def test_the_xmr_chart_has_its_lines_and_a_text_alternative(reports):
    report = reports["Customer Services"]
    line = next(x for x in report.all_lines if x.variation == "improvement" and x.assurance)
    chart = charts.xmr_chart(report, line)
    assert chart is not None
    names = [trace.get("name") for trace in chart.figure["data"]]
    assert {"Mean", "Upper process limit", "Lower process limit", "Improvement"} <= set(names)
    assert chart.caption.startswith(f"Statistical process control (XmR chart) for {line.title}")
    assert "Special cause improvement" in chart.caption
    assert len(chart.table_rows) == len(line.xmr)
    assert chart.table_head[-1] == "Variation"
    # Special causes are triangles, common cause circles: shape as well as colour.
    markers = [t for t in chart.figure["data"] if t.get("mode") == "markers"]
    improvement = next(t for t in markers if t["name"] == "Improvement")
    assert set(improvement["marker"]["symbol"]) <= {"triangle-up", "triangle-down"}
    html = chart.to_html()
    assert f'id="chart-{report.slug}-xmr-' in html


def test_an_annual_measure_without_limits_says_so(reports):
    report = reports["Customer Services"]
    line = next(x for x in report.all_lines if x.measure_id == "CSC_KPI_04")
    chart = charts.xmr_chart(report, line)
    assert chart is not None
    assert math.isnan(line.xmr[-1][3])
    assert "no process limits (fewer than 13 points)" in chart.caption


def test_slide_3_shows_the_labels_beside_the_rag(reports):
    report = reports["Customer Services"]
    line = next(x for x in report.exceptions if x.variation and x.assurance)
    text = _spc_lines(line)
    assert text.startswith("\nSPC: ")
    assert text.split("\n")[-1] in ("Target met", "Target missed", "Hit and miss")

    class Builder:  # only what the cells need
        class frame:
            class measure:
                @staticmethod
                def fit(text, *args):
                    return text

        @staticmethod
        def rag_fill(rag):
            return {}

    cells = _exception_cells(Builder, line)  # type: ignore[arg-type]
    assert cells[3][0].endswith(text)


def test_the_summary_carries_the_matrix_for_the_overview(reports):
    report = reports["Finance"]
    summary = ReportSummary.of(report)
    again = ReportSummary.from_json(summary.to_json())
    assert again.matrix == report.matrix


def test_an_xmr_chart_names_its_periods_in_order(reports):
    """plotly orders a quarter's or a year's axis by the first trace that names each period:
    every chart's traces name the points' periods, then the forecast's, in time order (its
    held lines are drawn from fewer points)."""
    for report in reports.values():
        for line in report.all_lines:
            chart = charts.xmr_chart(report, line)
            if chart is None:
                continue
            named: dict[str, None] = {}
            for trace in chart.figure["data"]:
                named.update(dict.fromkeys(trace["x"]))
            assert list(named) == [p[0] for p in line.xmr] + [f[0] for f in line.forecast]
