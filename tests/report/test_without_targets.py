"""A scorecard without targets is reported by direction of travel, not greyed out."""

from __future__ import annotations

import pytest

import kpitools
from kpitools.report import fragments
from kpitools.report.deck import build_deck

# An annual city scorecard: no targets, polarity only; an overspend forecast is monitored.
MEASURES = """\
measure_id,service,title,polarity,unit,frequency
A,City,Residents satisfied with parks,up,percent,annual
B,City,Missed bin collections,down,count,annual
C,City,Homes built,up,count,annual
D,City,Forecast overspend (£000s),neutral,number,annual
E,City,Library visits,up,count,annual
"""
VALUES = """\
measure_id,period,value
A,2014/15,71
A,2015/16,76
B,2014/15,1200
B,2015/16,950
C,2014/15,480
C,2015/16,410
D,2014/15,8
D,2015/16,110
E,2015/16,5000
"""


@pytest.fixture
def city(make_data):
    return kpitools.load(make_data(measures=MEASURES, values=VALUES))


def test_directions_are_the_verdict(city):
    rows = kpitools.rate(city, period="2015/16").set_index("measure_id")
    assert rows["rag"].tolist() == ["grey"] * 5
    assert rows["direction"].to_dict() == {
        "A": "improving",
        "B": "improving",
        "C": "worsening",
        "D": "monitored",
        "E": "no_earlier_figure",
    }
    assert rows.loc["D", "change_pct"] == pytest.approx(102 / 8)


def test_the_report_says_which_improve_and_which_worsen(city):
    report = kpitools.build_cpr(city, "City", "2015/16 Q4")
    assert [line.measure_id for line in report.whats_good] == ["A", "B"]
    # Successes are measures on target: none has one. The improving ones are on slide 2,
    # and slide 1 says so.
    assert report.successes == ()
    assert report.successes_empty == (
        "No measure is on target this quarter. 2 measures are improving but not yet on target "
        "(slide 2)."
    )
    assert [line.measure_id for line in report.improving] == ["A", "B"]
    assert report.areas_for_development == (
        "Homes built: worsening, from 480 to 410 (2015/16, latest available); no target",
        "Forecast overspend (£000s): monitored, up 1,275% from 8 to 110 (2015/16, latest "
        "available)",
    )
    slide_2 = build_deck(report).slides[1]
    [table] = [shape.table for shape in slide_2.shapes if shape.has_table]
    shown = [table.cell(r, 0).text.split("\n")[-1] for r in range(1, len(table.rows))]
    assert shown == ["A", "B"]
    assert [table.cell(r, 5).text for r in range(1, len(table.rows))] == ["↑ improving"] * 2
    html = fragments.whats_good(report) + fragments.summary(report)
    assert "No measure is on target or improving" not in html
    # A page has no slides: it points to its own section.
    assert "2 measures are improving but not yet on target (see What&#x27;s good)." in html
    assert "slide" not in html.lower()
    assert "↑ improving" in html
    assert "monitored, up 1,275% from 8 to 110 (2015/16, latest available)" in html
    full = fragments.scorecard(report)
    assert "◇ monitored, up 1,275%" in full and "∅ no earlier figure" in full


def test_five_distinct_words_and_symbols():
    from kpitools.report.words import direction_label

    labels = [
        direction_label(d)
        for d in ("improving", "worsening", "stable", "not_comparable", "no_earlier_figure")
    ]
    assert labels == [
        "↑ improving",
        "↓ worsening",
        "→ stable",
        "≠ not comparable",
        "∅ no earlier figure",
    ]
    assert len({label.split()[0] for label in labels}) == 5


def test_a_figure_from_an_earlier_period_says_which(make_data):
    """A 2024/25 Q1 report shows an annual measure's 2023/24 result, labelled as such."""
    data = make_data(
        measures="measure_id,service,title,polarity,unit,frequency,target\n"
        "Y,S,Residents satisfied,up,percent,annual,75\n"
        "M,S,Calls answered,up,percent,monthly,80\n",
        values="measure_id,period,value\nY,2022/23,74\nY,2023/24,70\n"
        "M,2024-04,85\nM,2024-05,85\nM,2024-06,85\n",
    )
    report = kpitools.build_cpr(kpitools.load(data), "S", "2024/25 Q1")
    [line] = [x for x in report.exceptions if x.measure_id == "Y"]
    assert line.value_text == "70% (2023/24, latest available)"
    slide_3 = build_deck(report).slides[2]
    [table] = [shape.table for shape in slide_3.shapes if shape.has_table]
    assert table.cell(1, 1).text.startswith("70% (2023/24, latest available)\n")
    assert "70% (2023/24, latest available)" in fragments.exceptions(report)
    assert "2023/24, latest available" in fragments.scorecard(report)
