import math

import pytest

import kpitools
from kpitools.core.summaries import count_rag, count_service_levels

CONTRACT_MEASURES = """\
measure_id,service,title,polarity,unit,tsl,msl
R1,Revenues Contract,Calls answered within 60 seconds,up,percent,80,70
R2,Revenues Contract,Calls abandoned,down,percent,7,10
R3,Revenues Contract,Benefit claims processed within 20 days,up,percent,95,90
I1,ICT Contract,P1 incidents resolved within 4 hours,up,percent,95,90
I2,ICT Contract,Availability of core systems,up,percent,99.5,99.0
"""
# R1 is rebased from July: TSL 85%, MSL 75%.
CONTRACT_TARGETS = """\
measure_id,start,end,target,tsl,msl
R1,2023-07,,,85,75
"""
CONTRACT_VALUES = """\
measure_id,period,value,status
R1,2023-05,80,
R1,2023-06,72,
R1,2023-07,80,
R1,2023-08,74.9,
R2,2023-05,7.0%,
R2,2023-06,10,
R2,2023-07,10.1,
R2,2023-08,12,mitigated
R3,2023-05,95.0,
R3,2023-06,,not_available
R3,2023-07,89.99,
R3,2023-08,90,
I1,2023-05,94.9,
I1,2023-06,100,
I1,2023-07,,pending
I1,2023-08,89,
I2,2023-05,99.5,
I2,2023-06,99.0,
I2,2023-07,98.99,
I2,2023-08,99.7,
"""
# What the contract report publishes for the same values and levels.
CONTRACT_COUNTS = [
    # service, month, at TSL, at MSL, below MSL, mitigated
    ("Revenues Contract", "2023-05", 3, 0, 0, 0),
    ("Revenues Contract", "2023-06", 0, 2, 1, 0),
    ("Revenues Contract", "2023-07", 0, 1, 2, 0),
    ("Revenues Contract", "2023-08", 0, 1, 1, 1),
    ("ICT Contract", "2023-05", 1, 1, 0, 0),
    ("ICT Contract", "2023-06", 1, 1, 0, 0),
    ("ICT Contract", "2023-07", 0, 0, 1, 0),
    ("ICT Contract", "2023-08", 1, 0, 1, 0),
]


def test_contract_service_level_counts(make_data):
    data = make_data(measures=CONTRACT_MEASURES, targets=CONTRACT_TARGETS, values=CONTRACT_VALUES)
    scorecard = kpitools.rate(kpitools.load(data), by="month")
    counts = count_service_levels(scorecard)
    got = [tuple(row) for row in counts.itertuples(index=False)]
    assert got == CONTRACT_COUNTS


def test_contract_rebased_level_is_used_from_july(make_data):
    data = make_data(measures=CONTRACT_MEASURES, targets=CONTRACT_TARGETS, values=CONTRACT_VALUES)
    rows = kpitools.rate(kpitools.load(data), by="month").set_index(["measure_id", "period"])
    assert rows.loc[("R1", "2023-06"), ["tsl", "msl"]].tolist() == [80, 70]
    assert rows.loc[("R1", "2023-07"), ["tsl", "msl"]].tolist() == [85, 75]
    assert rows.loc[("R1", "2023-05"), "rag"] == "green"  # 80 meets TSL 80
    assert rows.loc[("R1", "2023-07"), "rag"] == "amber"  # 80 misses rebased TSL 85


DASHBOARD_MEASURES = """\
measure_id,service,title,polarity,unit,frequency,target,tolerance
D1,Corporate,On target,up,percent,quarterly,80,
D2,Corporate,Exactly 5% short,up,percent,quarterly,80,
D3,Corporate,Just over 5% short,up,percent,quarterly,80,
D4,Corporate,Smaller is better within 5%,down,days,quarterly,20,
D5,Corporate,Smaller is better over 5%,down,days,quarterly,20,
D6,Corporate,Own 10% tolerance,Bigger,percent,quarterly,95,10%
D7,Corporate,Well ahead,Up is Good,count,quarterly,1000,
D8,Corporate,Monitored only,Neutral,count,quarterly,,
"""
DASHBOARD_VALUES = """\
measure_id,period,value
D1,2023/24 Q2,80
D2,2023/24 Q2,76
D3,2023/24 Q2,75.9
D4,2023/24 Q2,20.8
D5,2023/24 Q2,21.2
D6,2023/24 Q2,90
D7,2023/24 Q2,"1,250"
D8,2023/24 Q2,17
"""
DASHBOARD_EXPECTED = {
    "D1": ("green", ""),
    "D2": ("amber", "adverse_variance"),
    "D3": ("red", "off_target adverse_variance"),
    "D4": ("amber", ""),
    "D5": ("red", "off_target adverse_variance"),
    "D6": ("amber", "adverse_variance"),  # amber by its tolerance, 5.3% short
    "D7": ("green", ""),
    "D8": ("grey", ""),
}


def test_committee_dashboard_colours_and_exceptions(make_data):
    data = make_data(measures=DASHBOARD_MEASURES, values=DASHBOARD_VALUES)
    rows = kpitools.rate(kpitools.load(data), period="2023/24 Q2").set_index("measure_id")
    got = {m: (r.rag, r.exception_reasons) for m, r in rows.iterrows()}
    assert got == DASHBOARD_EXPECTED
    assert rows.loc["D6", "variance_pct"] == pytest.approx(-5 / 95)
    assert rows.loc["D7", "value"] == 1250
    assert bool(rows.loc["D2", "exception"]) and not bool(rows.loc["D4", "exception"])
    counts = count_rag(rows.reset_index())
    assert counts[["green", "amber", "red", "grey", "total"]].iloc[0].tolist() == [2, 3, 2, 1, 8]


MONTHLY_MEASURES = """\
measure_id,service,title,polarity,unit,aggregation,target
S1,Waste,Missed bins,down,count,sum,10
A1,Customer,Calls abandoned,down,percent,ratio,8
M1,Adults,Days to start,down,days,mean,20
L1,Finance,Collection rate,up,percent,last,97
"""
MONTHLY_VALUES = """\
measure_id,period,value,numerator,denominator,status
S1,2023-04,9,,,
S1,2023-05,12,,,
S1,2023-06,10,,,
A1,2023-04,229 / 2996,,,
A1,2023-05,,300,3004,
A1,2023-06,7.5,150,2000,
M1,2023-04,18,,,
M1,2023-05,21,,,
M1,2023-06,24,,,
L1,2023-04,96.1,,,
L1,2023-05,97.3,,,
L1,2023-06,96.9,,,
"""


def test_quarter_summaries_by_aggregation(make_data):
    data = make_data(measures=MONTHLY_MEASURES, values=MONTHLY_VALUES)
    rows = kpitools.rate(kpitools.load(data), period="2023/24 Q1").set_index("measure_id")
    # sum: 9 + 12 + 10 = 31 against 3 months x 10 = 30: 3.3% over, amber
    assert rows.loc["S1", ["value", "target", "rag"]].tolist() == [31, 30, "amber"]
    # ratio: (229 + 300 + 150) / (2996 + 3004 + 2000) = 679 / 8000 = 8.4875%, over 8 x 1.05
    assert rows.loc["A1", "value"] == pytest.approx(8.4875)
    assert rows.loc["A1", ["numerator", "denominator", "rag"]].tolist() == [679, 8000, "red"]
    # mean: (18 + 21 + 24) / 3 = 21 days against 20: 5% over, amber and an exception
    assert rows.loc["M1", ["value", "rag", "exception_reasons"]].tolist() == [
        21,
        "amber",
        "adverse_variance",
    ]
    # last: June's 96.9
    assert rows.loc["L1", ["value", "rag"]].tolist() == [96.9, "amber"]


def test_quarter_status_from_its_months(make_data):
    data = make_data(
        measures="""\
        measure_id,service,title,polarity,aggregation,target
        N1,S,Not available in May,up,sum,10
        P1,S,Pending June,up,sum,10
        B1,S,Mitigated in May,up,sum,10
        W1,S,Nothing for the quarter,up,last,10
        """,
        values="""\
        measure_id,period,value,status
        N1,2023-04,10,
        N1,2023-05,,not_available
        N1,2023-06,10,
        P1,2023-04,10,
        P1,2023-05,10,
        P1,2023-06,,pending
        B1,2023-04,10,
        B1,2023-05,2,mitigated
        B1,2023-06,10,
        W1,2023-04,10,
        W1,2023-05,10,
        W1,2023-06,10,
        W1,2023-10,10,
        """,
    )
    rows = kpitools.rate(kpitools.load(data)).set_index(["measure_id", "period"])
    assert rows.loc[("N1", "2023/24 Q1"), ["rag", "status", "exception_reasons"]].tolist() == [
        "red",
        "not_available",
        "data_not_available",
    ]
    assert rows.loc[("P1", "2023/24 Q1"), ["rag", "status"]].tolist() == ["white", "pending"]
    # The mitigated May (2) is excused: April and June (10 + 10) meet their targets (20).
    assert rows.loc[("B1", "2023/24 Q1"), ["value", "rag", "status", "data_quality"]].tolist() == [
        20.0,
        "green",
        "reported",
        "1 of 3 months mitigated",
    ]
    missing = rows.loc[("W1", "2023/24 Q2")]
    assert (missing["rag"], missing["status"], missing["data_quality"]) == (
        "white",
        "missing",
        "no value supplied",
    )
    assert rows.loc[("W1", "2023/24 Q3"), "data_quality"] == "1 of 3 months supplied"


def test_time_varying_targets(make_data):
    data = make_data(
        measures="""\
        measure_id,service,title,polarity,unit,target
        T1,Customer,Digital take-up,up,percent,50
        """,
        targets="""\
        measure_id,start,end,target
        T1,2023-10,2024-03,55
        T1,2024/25,,60
        """,
        values="""\
        measure_id,period,value
        T1,2023-09,54
        T1,2023-12,54
        T1,2024-03,58
        T1,2024-06,58
        """,
    )
    rows = kpitools.rate(kpitools.load(data), by="month").set_index("period")
    assert rows.loc["2023-09", ["target", "rag"]].tolist() == [50, "green"]
    assert rows.loc["2023-12", ["target", "rag"]].tolist() == [55, "amber"]
    assert rows.loc["2024-06", ["target", "rag"]].tolist() == [60, "amber"]


def test_annual_measure_shows_its_latest_result_each_quarter(make_data):
    data = make_data(
        measures="""\
        measure_id,service,title,polarity,unit,frequency,target
        Y1,Customer,Residents satisfied,up,percent,annual,75
        Q1,Customer,Monthly measure,up,percent,monthly,75
        """,
        values="""\
        measure_id,period,value
        Y1,2022/23,74
        Y1,2023/24,70
        Q1,2023-04,80
        Q1,2024-06,80
        """,
    )
    dataset = kpitools.load(data)
    rows = (
        kpitools.rate(dataset, carry_forward=True).query("measure_id == 'Y1'").set_index("period")
    )
    assert rows.loc["2023/24 Q2", ["value_period", "value", "rag"]].tolist() == [
        "2022/23",
        74,
        "amber",
    ]
    latest = rows.loc["2024/25 Q1"]
    assert (latest["value_period"], latest["value"], latest["direction"]) == (
        "2023/24",
        70,
        "worsening",
    )
    assert latest["exception_reasons"] == "off_target adverse_variance"
    one = kpitools.rate(dataset, period="2024/25 Q1").query("measure_id == 'Y1'")
    assert one[["period", "value_period", "value"]].values.tolist() == [
        ["2024/25 Q1", "2023/24", 70]
    ]


def test_the_whole_scorecard_has_one_row_per_period_of_each_measures_frequency(make_data):
    """17 annual values are 17 rows, not one per quarter; periods come in order."""
    data = make_data(
        measures="measure_id,service,title,polarity,unit,frequency\n"
        "Y,City,Homes built,up,count,annual\nM,City,Calls,up,count,monthly\n",
        values="measure_id,period,value\nY,2013/14,1\nY,2014/15,2\nM,2015-01,5\nM,2015-02,6\n",
    )
    rows = kpitools.rate(kpitools.load(data))
    assert rows[["measure_id", "period"]].values.tolist() == [
        ["Y", "2013/14"], ["Y", "2014/15"], ["M", "2014/15 Q4"],
    ]  # fmt: skip


def test_rating_override_is_noted(make_data):
    data = make_data(
        measures="""\
        measure_id,service,title,polarity,tsl,msl
        K1,ICT,Patches applied,up,95,90
        """,
        values="""\
        measure_id,period,value,rag_override,note
        K1,2024-04,89.4,Amber,Disputed score re-checked at contract board
        """,
    )
    row = kpitools.rate(kpitools.load(data), by="month").iloc[0]
    assert (row["rag"], row["rag_calculated"]) == ("amber", "red")
    assert row["data_quality"] == "rating changed from red to amber"
    assert row["note"] == "Disputed score re-checked at contract board"
    assert row["exception_reasons"] == "adverse_variance"  # still 5.9% short of the TSL


def test_seasonal_measures_compare_with_last_year(make_data):
    months = [f"2022-{m:02d}" for m in range(4, 13)] + [f"2023-{m:02d}" for m in range(1, 10)]
    values = {m: 50 + (10 if m.endswith(("-06", "-07", "-08", "-09")) else 0) for m in months}
    values["2023-09"] = 58  # summer dip against last summer, still up on the spring
    body = "".join(f"W1,{m},{v}\n" for m, v in values.items())
    data = make_data(
        measures="""\
        measure_id,service,title,polarity,unit,target,seasonal
        W1,Waste,Recycling rate,up,percent,50,yes
        """,
        values="measure_id,period,value\n" + body,
    )
    rows = kpitools.rate(kpitools.load(data)).set_index("period")
    q2 = rows.loc["2023/24 Q2"]
    assert (q2["value"], q2["previous_value"], q2["direction"]) == (58, 60, "worsening")
    assert math.isnan(rows.loc["2022/23 Q2", "previous_value"])


def test_scorecard_for_one_period_and_latest(make_data):
    data = make_data(measures=MONTHLY_MEASURES, values=MONTHLY_VALUES)
    dataset = kpitools.load(data)
    assert kpitools.rate(dataset, period="latest")["period"].unique().tolist() == ["2023/24 Q1"]
    months = kpitools.rate(dataset, period="latest", by="month")
    assert months["period"].unique().tolist() == ["2023-06"]
    assert len(kpitools.rate(dataset, period="2023-05")) == 4
    assert kpitools.rate(dataset, period="2019/20 Q1").empty
    assert kpitools.rate(dataset, period="2023/24")["value"].tolist()[0] == 31
    with pytest.raises(ValueError, match="is a quarter, not a month"):
        kpitools.rate(dataset, period="2023/24 Q1", by="month")


def test_scorecard_columns_follow_the_contract(make_data):
    data = make_data(measures=MONTHLY_MEASURES, values=MONTHLY_VALUES)
    rows = kpitools.rate(kpitools.load(data))
    for column in ("measure_id", "service", "title", "period", "value", "target", "rag",
                   "direction", "exception"):  # fmt: skip
        assert column in rows.columns
    assert set(rows["direction"]) <= {
        "improving",
        "worsening",
        "stable",
        "not_comparable",
        "no_earlier_figure",
        "monitored",
    }
    assert rows["exception"].dtype == bool
    assert set(rows["rag"]) <= {"green", "amber", "red", "blue", "white", "grey"}


def test_a_hand_built_dataset_with_values_of_an_unknown_measure_is_refused(example):
    """Loading refuses such values with their row; a dataset put together in code is refused
    by the rating, naming the measure, rather than rated against another measure's levels."""
    from dataclasses import replace

    values = example.values.copy()
    values.loc[values.index[0], "measure_id"] = "NOT_A_MEASURE"
    with pytest.raises(KeyError, match="NOT_A_MEASURE"):
        kpitools.rate(replace(example, values=values))
