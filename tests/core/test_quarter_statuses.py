"""Every month's status counts in its quarter, whatever the measure's aggregation."""

from __future__ import annotations

import pytest

import kpitools

MEASURES = """\
measure_id,service,title,polarity,unit,aggregation,target
M,S,A measure,up,percent,{aggregation},80
"""


# (statuses of April, May, June) -> the quarter's status and RAG, for every aggregation.
CASES = [
    (("", "", ""), "reported", "green"),
    (("not_available", "", ""), "not_available", "red"),
    (("", "not_available", ""), "not_available", "red"),
    (("", "", "not_available"), "not_available", "red"),
    (("pending", "", ""), "pending", "white"),
    # A mitigated month excuses that month only: the others are rated.
    (("mitigated", "", ""), "reported", "green"),
    (("mitigated", "mitigated", "mitigated"), "mitigated", "blue"),
    (("mitigated", "mitigated", "not_expected"), "mitigated", "blue"),
    (("not_available", "mitigated", "pending"), "not_available", "red"),
    (("mitigated", "pending", ""), "pending", "white"),
    (("not_expected", "", ""), "reported", "green"),
    (("not_expected", "not_expected", "not_expected"), "not_expected", "grey"),
]


def values(statuses: tuple[str, str, str]) -> str:
    rows = ["measure_id,period,value,numerator,denominator,status"]
    for month, status in zip(("2023-04", "2023-05", "2023-06"), statuses, strict=True):
        figure = "" if status in ("not_available", "not_expected") else "90"
        parts = ",90,100" if figure else ",,"
        rows.append(f"M,{month},{figure}{parts},{status}")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("aggregation", ["last", "sum", "mean", "ratio"])
@pytest.mark.parametrize(("statuses", "status", "rag"), CASES)
def test_a_months_status_is_never_hidden_in_its_quarter(
    make_data, aggregation, statuses, status, rag
):
    data = make_data(measures=MEASURES.format(aggregation=aggregation), values=values(statuses))
    [row] = kpitools.rate(kpitools.load(data), period="2023/24 Q1").to_dict("records")
    assert (row["status"], row["rag"]) == (status, rag)
    if status == "not_available":
        assert "data_not_available" in row["exception_reasons"]


def test_two_failed_months_of_three_are_not_green_for_a_contract_kpi(make_data):
    """The case that hid failures: a 'last' KPI failing April and May, green in June."""
    data = make_data(
        measures="measure_id,service,title,polarity,unit,tsl,msl\n"
        "K,Contract,Calls answered,up,percent,95,90\n",
        values="measure_id,period,value,status\n"
        "K,2023-04,,not_available\nK,2023-05,,not_available\nK,2023-06,97,\n",
    )
    dataset = kpitools.load(data)
    [row] = kpitools.rate(dataset, period="2023/24 Q1").to_dict("records")
    assert (row["status"], row["rag"]) == ("not_available", "red")
    report = kpitools.build_cpr(dataset, "Contract", "2023/24 Q1")
    assert [line.measure_id for line in report.exceptions] == ["K"]
    assert report.whats_good == ()


@pytest.mark.parametrize("aggregation", ["last", "sum", "mean"])
def test_a_mitigated_month_does_not_excuse_failed_ones(make_data, aggregation):
    """April mitigated, May and June 50 against 80: red, an exception, May and June shown."""
    data = make_data(
        measures=MEASURES.format(aggregation=aggregation),
        values="measure_id,period,value,status\n"
        "M,2023-04,50,mitigated\nM,2023-05,50,\nM,2023-06,50,\n",
    )
    dataset = kpitools.load(data)
    [row] = kpitools.rate(dataset, period="2023/24 Q1").to_dict("records")
    assert (row["status"], row["rag"]) == ("reported", "red")
    [line] = kpitools.build_cpr(dataset, "S", "2023/24 Q1").exceptions
    assert line.months == (("2023-04", "blue"), ("2023-05", "red"), ("2023-06", "red"))
