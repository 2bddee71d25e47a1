"""Ratio measures: numerator and denominator are needed only where a ratio is recomputed, and a
value that disagrees with its own numerator and denominator is a warning naming file and row."""

from __future__ import annotations

import kpitools

MEASURES = (
    "measure_id,service,title,polarity,unit,aggregation,target\n"
    "C,S,Calls abandoned,down,percent,ratio,10\n"
)


def test_a_published_value_that_disagrees_with_its_parts_is_a_warning(make_data):
    data = make_data(
        measures=MEASURES,
        values="measure_id,period,value,numerator,denominator\n"
        "C,2017-06,33.9%,961,2927\n"  # 961 / 2927 = 32.8%
        "C,2017-07,32.8%,961,2927\n"  # agrees to the precision written
        "C,2017-08,,229,2996\n",  # worked out from its parts
    )
    dataset = kpitools.load(data)
    assert [str(w) for w in dataset.warnings] == [
        "values.csv:2: value '33.9%' for C 2017-06 disagrees with numerator / denominator "
        "961 / 2927 = 32.8%"
    ]


def test_months_without_parts_are_allowed_and_said(make_data):
    """Older months kept as plain rates do not stop the data loading; a quarter recomputed
    from the months that have both parts says how many had none."""
    data = make_data(
        measures=MEASURES,
        values="measure_id,period,value,numerator,denominator\n"
        "C,2017-04,12,,\n"
        "C,2017-05,,100,1000\n"
        "C,2017-06,,300,1000\n"
        "C,2017-07,9,,\n"
        "C,2017-08,11,,\n"
        "C,2017-09,10,,\n",
    )
    dataset = kpitools.load(data)
    rows = kpitools.rate(dataset).set_index("period")
    q1, q2 = rows.loc["2017/18 Q1"], rows.loc["2017/18 Q2"]
    assert q1["value"] == 20.0  # (100 + 300) / (1000 + 1000), April left out
    assert (q1["numerator"], q1["denominator"]) == (400.0, 2000.0)
    assert q1["data_quality"] == "1 of 3 months without numerator and denominator"
    assert q2["value"] == 10.0  # no parts at all: the mean of the months
    assert q2["data_quality"] == (
        "3 of 3 months without numerator and denominator: the mean of the months"
    )
