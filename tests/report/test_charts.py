"""The report's plotly charts: fixed ids, a text alternative, and the report's own figures."""

import dataclasses
import math
import re

import pytest

import kpitools
from kpitools.report import charts
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER


@pytest.fixture(scope="module")
def reports():
    dataset = kpitools.load(EXAMPLE, config=kpitools.load_config(COUNCIL_CONFIG))
    return {s: kpitools.build_cpr(dataset, s, QUARTER, run_id="test-run") for s in dataset.services}


def exception(report, measure_id):
    return next(line for line in report.exceptions if line.measure_id == measure_id)


@pytest.mark.parametrize(
    "service", ["Finance", "Children's Services"], ids=["finance", "childrens"]
)
def test_rag_counts_snapshot(reports, html_snapshot, service):
    assert charts.rag_counts_chart(reports[service]).to_html() == html_snapshot


@pytest.mark.parametrize(
    ("service", "measure_id"),
    [
        ("Children's Services", "CHS_KPI_06"),  # six quarters, a target
        ("Children's Services", "CHS_KPI_04"),  # a month not available: red
        ("Finance", "FIN_KPI_03"),  # currency
    ],
    ids=["childrens-chs_kpi_06", "childrens-chs_kpi_04", "finance-fin_kpi_03"],
)
def test_trend_snapshot(reports, html_snapshot, service, measure_id):
    report = reports[service]
    assert charts.trend_chart(report, exception(report, measure_id)).to_html() == html_snapshot


def test_the_rag_counts_chart_shows_the_reports_counts(reports):
    report = reports["Finance"]
    chart = charts.rag_counts_chart(report)
    [bars] = chart.figure["data"]
    assert bars["x"] == ["● green", "◆ amber", "▲ red", "■ blue", "○ white", "– grey"]
    assert bars["y"] == [3, 6, 2, 0, 0, 0] == list(report.counts.values())
    assert bars["marker"]["color"] == [report.palette[r] for r in report.counts]
    assert chart.chart_id == "chart-finance-rag-counts"
    assert (
        chart.caption == "Finance, 2024/25 Q1: 11 measures by RAG rating (3 green, 6 amber, 2 red)."
    )
    assert chart.table_rows == (("● green", "3"), ("◆ amber", "6"), ("▲ red", "2"),
                                ("■ blue", "0"), ("○ white", "0"), ("– grey", "0"))  # fmt: skip


def test_the_html_is_reproducible_with_fixed_ids_and_no_plotly_js(reports):
    report = reports["Children's Services"]
    html = charts.rag_counts_chart(report).to_html()
    assert html == charts.rag_counts_chart(report).to_html()
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert ids == [
        "chart-childrens-services-rag-counts-caption",
        "chart-childrens-services-rag-counts",
    ]
    assert 'aria-labelledby="chart-childrens-services-rag-counts-caption"' in html
    assert '<div class="chart-plot" aria-hidden="true">' in html
    assert "<details><summary>Chart data as a table</summary>" in html
    assert (
        html.count("<script") == 1 and "<script src" not in html
    )  # plotly.js comes once, elsewhere
    assert len(html) < 10_000


def test_a_trend_chart_shows_the_measures_quarters_and_target(reports):
    report = reports["Children's Services"]
    chart = charts.trend_chart(report, exception(report, "CHS_KPI_06"))
    values, target = chart.figure["data"]
    assert values["x"] == ["2022/23 Q4", "2023/24 Q1", "2023/24 Q2", "2023/24 Q3", "2023/24 Q4",
                           "2024/25 Q1"]  # fmt: skip
    assert values["y"] == [14.5, 19.5, 19.9, 19.3, 18.4, 16.6]
    assert values["marker"]["color"] == report.palette["red"]
    assert target["y"] == [15.0] * 6 and target["name"] == "Target 15%"
    assert chart.chart_id == "chart-childrens-services-chs_kpi_06"
    assert chart.caption == (
        "Social worker vacancy rate (CHS_KPI_06): from 14.5% in 2022/23 Q4 to 16.6% in "
        "2024/25 Q1; target 15%."
    )
    assert chart.table_rows[-1] == ("2024/25 Q1", "16.6%")


def test_a_gap_in_the_data_is_no_point_and_no_value_in_the_table(reports):
    report = reports["Children's Services"]
    line = exception(report, "CHS_KPI_04")
    gap = dataclasses.replace(line, trend=(*line.trend[:2], ("2023/24 Q2", math.nan),
                                           *line.trend[3:]))  # fmt: skip
    chart = charts.trend_chart(report, gap)
    assert chart.figure["data"][0]["y"][1:4] == [58.64661654135338, None, 56.25]
    assert chart.table_rows[2] == ("2023/24 Q2", "no value")
    assert chart.caption == (
        "EHC plans issued within 20 weeks (CHS_KPI_04): from 57.7% in 2022/23 Q4 to 56% in "
        "2024/25 Q1; target 60%."
    )
    last = dataclasses.replace(line, trend=(*line.trend[:-1], ("2024/25 Q1", math.nan)))
    chart = charts.trend_chart(report, last)
    assert chart.caption == (
        "EHC plans issued within 20 weeks (CHS_KPI_04): with gaps in the data; target 60%."
    )


def test_the_figure_opens_as_a_plotly_figure(reports):
    chart = charts.rag_counts_chart(reports["Finance"])
    figure = chart.to_figure()
    assert list(figure.data[0].y) == [3, 6, 2, 0, 0, 0]
    bundle = chart._repr_mimebundle_()
    assert bundle["text/plain"] == chart.caption
    assert bundle["application/vnd.plotly.v1+json"]["config"] == charts.PLOTLY_CONFIG


def test_a_hostile_measure_id_cannot_reach_the_page(make_data):
    measure = 'M1");alert(1);//'
    quoted = '"M1"");alert(1);//"'  # as a CSV cell
    data = make_data(
        measures="measure_id,service,title,polarity,unit,frequency,target\n"
        f"{quoted},S,T,up,percent,monthly,80\n",
        values=f"measure_id,period,value\n{quoted},2024-03,70\n{quoted},2024-06,60\n",
    )
    report = kpitools.build_cpr(kpitools.load(data), "S", QUARTER)
    [line] = report.exceptions
    assert line.measure_id == measure
    chart = charts.trend_chart(report, line)
    safe = re.compile(r"[a-z0-9_-]+")
    assert safe.fullmatch(chart.chart_id)
    html = chart.to_html()
    assert html.count("alert(1)") == 1  # as text, in the caption
    assert "T (M1&quot;);alert(1);//)" in html


def every_chart(report):
    """Each kind of chart a report draws."""
    found = [charts.rag_counts_chart(report), charts.contract_chart(report)]
    for line in report.all_lines:
        found += [charts.xmr_chart(report, line), charts.trend_chart(report, line)]
        found += [charts.peer_chart(report, line, p) for p in line.benchmarks]
    return [chart for chart in found if chart is not None]


def test_a_charts_div_is_what_plotly_writes_whatever_json_engine_it_has(reports, monkeypatch):
    import plotly.io as pio

    monkeypatch.setattr(pio.json.config, "default_engine", "json")

    def plotlys(figure, div_id):
        return pio.to_html(figure, full_html=False, include_plotlyjs=False, div_id=div_id,
                           config=dict(charts.PLOTLY_CONFIG), validate=False)  # fmt: skip

    drawn = [chart for report in reports.values() for chart in every_chart(report)]
    assert len(drawn) > 100 and any("-xmr-" in chart.chart_id for chart in drawn)
    for chart in drawn:
        assert charts.plot_div(chart.figure, chart.chart_id) == plotlys(
            chart.figure, chart.chart_id
        )
    # Text from the data cannot end the script; NaN and infinities are null; any layout size.
    odd = {
        "data": [{"type": "bar", "y": [1.5, math.nan, math.inf], "name": "</script><b>é\u2028"}],
        "layout": {"height": 250, "width": 640, "title": {"text": "NaN & Infinity"}},
    }
    for figure in (odd, {"data": []}, {"layout": {"height": "50vh"}}):
        assert charts.plot_div(figure, "chart-x") == plotlys(figure, "chart-x")
    assert "</script><b>" not in charts.plot_div(odd, "chart-x")


def test_a_charts_table_cells_are_escaped_each_as_on_its_own():
    """Escaped in one pass, as each cell would be on its own, whatever the cells hold (the
    mark that joins them for that pass included)."""
    import html

    from kpitools.report.charts import _escaped

    for rows in [(("a<b", "x&y", '"q"'), ("z", "'", ""), (), ("",)),
                 (("\x00", "<"), ("&",)), ()]:  # fmt: skip
        assert _escaped(rows) == [[html.escape(cell) for cell in row] for row in rows]


def test_a_held_line_is_drawn_from_the_ends_of_each_value():
    """A chart's mean, limits and target are drawn from the first and last period of each
    value they hold (the same line: between values it steps as before, and a missing value
    is a gap); a line with no value keeps its every period, each a gap."""
    from kpitools.report.charts import _held

    nan = float("nan")
    periods = ["a", "b", "c", "d", "e", "f", "g"]
    assert _held(periods, [nan, nan, 1.0, 1.0, 1.0, 2.0, 2.0]) == (
        ["c", "e", "f", "g"], [1.0, 1.0, 2.0, 2.0])  # fmt: skip
    assert _held(periods, [1.0, nan, nan, 1.0, 1.0, 2.5, nan]) == (
        ["a", "b", "d", "e", "f", "g"], [1.0, None, 1.0, 1.0, 2.5, None])  # fmt: skip
    assert _held(periods[:3], [3.0, 3.0, 3.0]) == (["a", "c"], [3.0, 3.0])
    assert _held(periods[:1], [3.0]) == (["a"], [3.0])
    assert _held(periods[:2], [nan, nan]) == (["a", "b"], [None, None])
