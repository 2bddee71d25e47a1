"""A run of months (a contract's June to August) as a reporting period: worked cases."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import kpitools
from kpitools.core.naming import quarter_folder
from kpitools.core.periods import FiscalCalendar, Granularity
from kpitools.report.words import period_words

CALENDAR = FiscalCalendar()


@pytest.mark.parametrize(
    ("text", "label", "months", "words", "folder"),
    [
        ("2017-06..2017-08", "2017-06..2017-08", 3, "June to August 2017", "2017-06-to-2017-08"),
        ("Jun 2017 .. Aug 2017", "2017-06..2017-08", 3, "June to August 2017",
         "2017-06-to-2017-08"),
        ("2017-11..2018-02", "2017-11..2018-02", 4, "November 2017 to February 2018",
         "2017-11-to-2018-02"),
        ("2017-06..2017-06", "2017-06", 1, "June 2017", "2017-06"),
        # A run that is a financial quarter or year is that quarter or year.
        ("2017-04..2017-06", "2017/18 Q1", 3, "2017/18 Q1", "2017-18-q1"),
        ("2017-04..2018-03", "2017/18", 12, "2017/18", "2017-18-year"),
    ],
)  # fmt: skip
def test_a_run_of_months_is_parsed_labelled_and_named(text, label, months, words, folder):
    run = CALENDAR.parse(text)
    assert CALENDAR.label(run) == label
    assert CALENDAR.months(run) == months
    assert CALENDAR.parse(label) == run
    assert period_words(label) == words
    assert quarter_folder(label) == folder
    expected = {1: Granularity.MONTH, 12: Granularity.YEAR}.get(months, Granularity.RANGE)
    if label.endswith("Q1"):
        expected = Granularity.QUARTER
    assert CALENDAR.granularity(run) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2017-08..2017-06", "it ends before it starts"),
        ("2017/18 Q1..2017-08", "write its first and last months"),
        ("2017-06..", "write its first and last months"),
    ],
)
def test_a_run_that_is_not_one_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        CALENDAR.parse(text)


MEASURES = """\
measure_id,service,title,polarity,unit,aggregation,target,seasonal,frequency
R,Contract,Calls answered,up,percent,ratio,90,,monthly
S,Contract,Repairs done,up,count,sum,300,,monthly
L,Contract,Open cases,down,count,last,50,,monthly
Y,Contract,Seasonal demand,down,count,sum,,true,monthly
Q,Contract,Satisfaction,up,percent,last,80,,quarterly
"""


def _values() -> str:
    rows = ["measure_id,period,value,numerator,denominator,status"]
    # R: numerator / denominator by month, March to August 2017.
    parts = {"2017-03": (45, 50), "2017-04": (40, 50), "2017-05": (47, 50),
             "2017-06": (88, 100), "2017-07": (90, 100), "2017-08": (98, 100)}  # fmt: skip
    for month, (num, den) in parts.items():
        rows.append(f"R,{month},{100 * num / den},{num},{den},")
    for month, value in zip(parts, (90, 100, 110, 95, 105, 120), strict=True):
        rows.append(f"S,{month},{value},,,")
    for month, value in zip(parts, (60, 58, 55, 52, 49, 47), strict=True):
        rows.append(f"L,{month},{value},,,")
    # Y: a year of seasonal demand before the run.
    for offset in range(18):
        month = pd.Period("2016-03", freq="M") + offset
        rows.append(f"Y,{month},{10 + offset},,,")
    rows.append("Q,2017/18 Q1,82,,,")
    return "\n".join(rows) + "\n"


@pytest.fixture
def contract(make_data):
    return kpitools.load(make_data(measures=MEASURES, values=_values()))


def _rows(dataset, period):
    frame = kpitools.rate(dataset, period=period)
    return {row["measure_id"]: row for row in frame.to_dict("records")}


def test_monthly_measures_are_summarised_to_the_run_and_compared_with_the_run_before(contract):
    rows = _rows(contract, "2017-06..2017-08")
    # Ratio: (88 + 90 + 98) / 300 = 92.0%; March to May: 132 / 150 = 88.0%.
    assert rows["R"]["value"] == pytest.approx(92.0)
    assert rows["R"]["previous_value"] == pytest.approx(88.0)
    assert (rows["R"]["rag"], rows["R"]["direction"]) == ("green", "improving")
    # Sum: 95 + 105 + 120 = 320, judged against the sum of its months' targets (3 x 300).
    assert rows["S"]["value"] == 320
    assert rows["S"]["target"] == 900
    assert rows["S"]["previous_value"] == 300
    # Last: August's 47, May's 55 before it; lower is better.
    assert (rows["L"]["value"], rows["L"]["previous_value"]) == (47, 55)
    assert (rows["L"]["rag"], rows["L"]["direction"]) == ("green", "improving")
    for row in rows.values():
        assert row["period"] == "2017-06..2017-08"


def test_a_quarterly_measure_shows_its_latest_result_at_the_runs_end(contract):
    rows = _rows(contract, "2017-06..2017-08")
    assert (rows["Q"]["value_period"], rows["Q"]["value"]) == ("2017/18 Q1", 82)


def test_a_seasonal_measure_compares_with_the_same_months_a_year_before(contract):
    rows = _rows(contract, "2017-06..2017-08")
    # June to August 2017: offsets 15-17 -> 25 + 26 + 27 = 78; a year before: 13 + 14 + 15.
    assert rows["Y"]["value"] == 78
    assert rows["Y"]["previous_value"] == 42
    assert rows["Y"]["direction"] == "worsening"


def test_a_run_that_does_not_divide_the_year_has_no_same_point_a_year_before(contract):
    rows = _rows(contract, "2017-04..2017-08")
    assert rows["Y"]["direction"] == "not_comparable"
    assert math.isnan(rows["Y"]["previous_value"])
    # Other measures compare with the five months before: November to March, of which S
    # has March alone - a part, not compared with a whole.
    assert rows["S"]["previous_value"] != rows["S"]["previous_value"]  # NaN
    assert rows["S"]["direction"] == "not_comparable"
    assert _rows(contract, "2017-04..2017-08")["S"]["value"] == 100 + 110 + 95 + 105 + 120


def test_a_failed_month_inside_a_run_is_never_hidden(make_data):
    dataset = kpitools.load(
        make_data(
            measures="measure_id,service,title,polarity,unit,aggregation,tsl,msl\n"
            "K,Contract,Calls answered,up,percent,last,95,90\n",
            values="measure_id,period,value,status\n"
            "K,2017-06,,not_available\nK,2017-07,80,\nK,2017-08,97,\n",
        )
    )
    [row] = kpitools.rate(dataset, period="2017-06..2017-08").to_dict("records")
    assert (row["status"], row["rag"]) == ("not_available", "red")
    report = kpitools.build_cpr(dataset, "Contract", "2017-06..2017-08")
    [line] = report.exceptions
    assert [rag for _, rag in line.months] == ["red", "red", "green"]
    assert report.period_words == "June to August 2017"
    assert report.period_noun == "period"


def test_an_unfinished_run_is_provisional_and_its_part_not_compared(contract):
    rows = _rows(contract, "2017-07..2017-09")
    assert rows["S"]["data_quality"] == "2 of 3 months supplied"
    assert rows["S"]["direction"] == "not_comparable"
    report = kpitools.build_cpr(contract, "Contract", "2017-07..2017-09")
    assert report.provisional == "Provisional: 2 of 3 months, to August 2017"
    # The run's report holds the measures with figures of their own for months.
    assert set(report.scorecard["measure_id"]) == {"R", "S", "L", "Y"}


def test_a_scorecard_by_runs_aligns_its_runs_to_the_one_given(contract):
    run = contract.calendar.parse("2017-06..2017-08")
    frame = kpitools.rate(contract, by=run, measures=["S"])
    assert list(frame["period"]) == ["2017-03..2017-05", "2017-06..2017-08"]
    assert list(frame["value"]) == [300, 320]


def test_by_runs_needs_the_run(contract):
    with pytest.raises(ValueError, match="'range' is not one of month, quarter, year"):
        kpitools.rate(contract, by="range")
