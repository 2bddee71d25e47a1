"""Like compared with like: part-year and year-to-date figures are compared only with the same
point of the year before, and say what they cover wherever they are shown."""

from __future__ import annotations

import pytest

import kpitools
from kpitools.core.errors import ValidationError

CITY = """\
measure_id,service,title,polarity,unit,frequency
N,City,Noise complaints,down,count,annual
S,City,Invoices paid on time,up,percent,annual
"""


def test_a_part_year_figure_is_not_compared_with_a_full_year(make_data):
    """A city's 2015/16 '1,918 (Q3)' against 2014/15's full-year 13,805: not comparable."""
    data = make_data(
        measures=CITY,
        values="measure_id,period,value\n"
        'N,2014/15,"13,805"\nN,2015/16,"1,918 (Q3)"\n'
        "S,2014/15,97.10%\nS,2015/16,98.20% (Q3)\n",
    )
    rows = kpitools.rate(kpitools.load(data), period="2015/16").set_index("measure_id")
    assert rows.loc["N", "value"] == 1918
    assert rows.loc["N", "coverage"] == "to Q3"
    assert rows.loc["N", "direction"] == "not_comparable"  # never "improving"
    assert rows.loc["S", "direction"] == "not_comparable"
    assert rows.loc["N", "data_quality"] == "part-year (to Q3)"
    assert rows["previous_value"].isna().all()


def test_the_same_point_of_the_year_is_comparable(make_data):
    data = make_data(
        measures=CITY,
        values="measure_id,period,value,coverage\nN,2014/15,1500,to Q3\nN,2015/16,1918,Q3\n",
    )
    row = kpitools.rate(kpitools.load(data), period="2015/16").set_index("measure_id").loc["N"]
    assert (row["direction"], row["previous_value"]) == ("worsening", 1500)


def test_the_report_says_what_a_figure_covers(make_data):
    from kpitools.report import fragments

    data = make_data(
        measures=CITY,
        values='measure_id,period,value\nN,2014/15,"13,805"\nN,2015/16,"1,918 (Q3)"\n',
    )
    report = kpitools.build_cpr(kpitools.load(data), "City", "2015/16")
    assert "<td>1,918 (to Q3)</td>" in fragments.scorecard(report)
    assert "≠ not comparable" in fragments.scorecard(report)
    assert "Noise complaints: part-year (to Q3)" in fragments.data_notes(report)


YTD_VALUES = [("2023-04", 0.8), ("2023-05", 1.6), ("2023-06", 2.5),
              ("2024-04", 0.9), ("2024-05", 1.7), ("2024-06", 2.4)]  # fmt: skip


def test_a_year_to_date_measure_compares_with_the_same_month_last_year(make_data):
    from kpitools.report import fragments

    data = make_data(
        measures="measure_id,service,title,polarity,unit,basis\n"
        "D,HR,Sickness days lost per FTE,down,days,YTD\n",
        values="measure_id,period,value\n" + "".join(f"D,{m},{v}\n" for m, v in YTD_VALUES),
    )
    dataset = kpitools.load(data)
    monthly = kpitools.rate(dataset, by="month").set_index("period")
    # May 2024 (1.7) against May 2023 (1.6), not April 2024 (0.9), which it always exceeds.
    assert (monthly.loc["2024-05", "previous_value"], monthly.loc["2024-05", "direction"]) == (
        1.6,
        "worsening",
    )
    assert monthly.loc["2024-06", "direction"] == "improving"
    rows = kpitools.rate(dataset, period="2024/25 Q1")
    assert rows["basis"].tolist() == ["ytd"]
    report = kpitools.build_cpr(dataset, "HR", "2024/25 Q1")
    assert "<td>2.4 days (YTD)</td>" in fragments.scorecard(report)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("to Q5", "coverage 'to Q5': coverage is to Q1-Q3 or a number of months (9 of 12 months)"),
        ("13 months", "coverage '13 months': the period has 12 months"),
        ("9 of 10 months", "coverage '9 of 10 months': the period has 12 months"),
    ],
)
def test_bad_coverage_is_named(make_data, cell, message):
    data = make_data(
        measures=CITY, values=f"measure_id,period,value,coverage\nN,2015/16,1918,{cell}\n"
    )
    with pytest.raises(ValidationError) as caught:
        kpitools.load(data)
    assert [str(p) for p in caught.value.problems] == [f"values.csv:2: {message}"]


def test_coverage_of_a_quarter_and_in_the_value_cell_is_checked(make_data):
    data = make_data(
        measures="measure_id,service,title,polarity,unit,frequency\n"
        "Q,S,Quarterly,up,count,quarterly\nN,S,Annual,down,count,annual\n",
        values="measure_id,period,value,coverage\nQ,2015/16 Q2,10,to Q1\n"
        'N,2015/16,"1,918 (Q5)",\nQ,2015/16 Q3,12,1 months\n',
    )
    with pytest.raises(ValidationError) as caught:
        kpitools.load(data)
    assert [str(p) for p in caught.value.problems] == [
        "values.csv:2: coverage 'to Q1': 'to Q1' is part of a year; the period has 3 months",
        "values.csv:3: value '1,918 (Q5)' for N 2015/16 is not a number",
    ]


def test_a_part_year_figure_reaches_the_quarter_it_covers(make_data):
    """2024/25 '1,918 (Q3)' is the latest result in the 2024/25 Q3 report, not 2023/24's."""
    data = make_data(
        measures="measure_id,service,title,polarity,unit,frequency\n"
        "N,City,Noise complaints,down,count,annual\nM,City,Calls,up,count,monthly\n",
        values='measure_id,period,value\nN,2022/23,2000\nN,2023/24,2100\nN,2024/25,"1,918 (Q3)"\n'
        + "".join(f"M,2024-{m:02d},5\n" for m in range(4, 13)),
    )
    dataset = kpitools.load(data)
    q3 = kpitools.rate(dataset, period="2024/25 Q3").set_index("measure_id").loc["N"]
    assert (q3["value_period"], q3["value"], q3["coverage"]) == ("2024/25", 1918, "to Q3")
    assert q3["direction"] == "not_comparable"
    q2 = kpitools.rate(dataset, period="2024/25 Q2").set_index("measure_id").loc["N"]
    assert (q2["value_period"], q2["value"]) == ("2023/24", 2100)
