"""Every month's status counts in its quarter, whatever the measure's aggregation."""

from __future__ import annotations

import pytest

import kpitools
from kpitools.contract.loading import clear_parsed

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


@pytest.mark.parametrize("aggregation", ["last", "sum", "mean", "ratio"])
def test_data_quality_notes_skip_no_row_with_something_to_say(make_data, monkeypatch, aggregation):
    """Notes are worded only for rows that may have one: every row gives the same notes."""
    from kpitools.core import scorecard

    rows = ["measure_id,period,value,numerator,denominator,status,restated_from,rag_override"]
    months = [f"{2023 + (m + 3) // 12}-{(m + 3) % 12 + 1:02d}" for m in range(len(CASES) * 3)]
    for i, (statuses, _, _) in enumerate(CASES):
        for j, status in enumerate(statuses):
            figure = "" if status in ("not_available", "not_expected") else "90"
            parts = ",90,100" if figure and j != 1 else ",,"
            restated = "85" if i % 4 == 1 and figure else ""
            override = "amber" if i % 5 == 2 and j == 2 else ""
            rows.append(f"M,{months[3 * i + j]},{figure}{parts},{status},{restated},{override}")
    rows.pop(7)  # a month not supplied
    data = make_data(measures=MEASURES.format(aggregation=aggregation),
                     values="\n".join(rows) + "\n")  # fmt: skip
    dataset = kpitools.load(data)
    chosen = kpitools.rate(dataset)["data_quality"].tolist()
    monkeypatch.setattr(scorecard, "_may_have_notes", lambda grid, tiling: [True] * len(grid))
    clear_parsed()  # the scorecard is worked out again, not remembered
    every = kpitools.rate(kpitools.load(data))["data_quality"].tolist()
    assert chosen == every
    assert sum(bool(note) for note in chosen) >= 8
