"""Contract KPI worked cases: abatement runs and their multipliers, a mitigated month in
between, data not available, a pending month, service credits and the monthly summary."""

from __future__ import annotations

import pytest

import kpitools
from kpitools.core.contracts import (
    abatements,
    contract_summary,
    level_of,
    multiplier,
    runs,
)


@pytest.mark.parametrize(("run", "expected"), [(0, 0.0), (1, 1.0), (2, 1.5), (3, 2.0), (7, 2.0)])
def test_multiplier(run: int, expected: float) -> None:
    assert multiplier(run) == expected


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        (["at_msl", "at_msl", "below_msl", "at_msl"], [1, 2, 3, 4]),
        (["at_msl", "at_tsl", "at_msl"], [1, 0, 1]),
        # A mitigated month attracts nothing and ends the run.
        (["at_msl", "at_msl", "mitigated", "below_msl", "at_msl"], [1, 2, 0, 1, 2]),
        # Data not available fails like any other month.
        (["at_msl", "not_available", "at_msl"], [1, 2, 3]),
        # A pending month neither fails nor ends the run.
        (["at_msl", "pending", "at_msl"], [1, 0, 2]),
    ],
)
def test_runs_of_failing_months(levels: list[str], expected: list[int]) -> None:
    assert runs(levels) == expected


@pytest.mark.parametrize(
    ("rag", "status", "expected"),
    [
        ("green", "reported", "at_tsl"),
        ("amber", "reported", "at_msl"),
        ("red", "reported", "below_msl"),
        ("blue", "mitigated", "mitigated"),
        ("red", "not_available", "not_available"),
        ("white", "missing", "not_available"),
        ("white", "pending", "pending"),
        ("amber", "pending", "at_msl"),  # a provisional figure is judged as given
    ],
)
def test_level_of_a_month(rag: str, status: str, expected: str) -> None:
    assert level_of(rag, status) == expected


@pytest.fixture
def contract(make_data, tmp_path):
    folder = make_data(
        measures="""\
            measure_id,service,title,polarity,unit,tsl,msl,abatement_points
            K1,ICT,Calls answered,up,percent,90,80,40
            K2,ICT,Abandoned,down,percent,5,8,20
            K3,ICT,Not a contract KPI,up,percent,90,80,
            """,
        values="""\
            measure_id,period,value,status
            K1,2024-01,85,
            K1,2024-02,85,
            K1,2024-03,70,mitigated
            K1,2024-04,75,
            K1,2024-05,85,
            K1,2024-06,85,
            K1,2024-07,95,
            K2,2024-01,4,
            K2,2024-02,,not_available
            K2,2024-03,9,
            K2,2024-04,9,
            K2,2024-05,,pending
            K2,2024-06,4,
            K3,2024-01,10,
            """,
    )
    config = tmp_path / "council.yaml"
    config.write_text(
        "council: Test\nservices:\n  ICT:\n    service_credit_per_point: 12.5\n", encoding="utf-8"
    )
    return kpitools.load(folder, config=kpitools.load_config(config))


def test_abatement_points_month_by_month(contract) -> None:
    months = abatements(contract)
    assert set(months["measure_id"]) == {"K1", "K2"}  # K3 has no points
    k1 = months[months["measure_id"] == "K1"]
    assert list(k1["level"]) == ["at_msl", "at_msl", "mitigated", "below_msl", "at_msl", "at_msl",
                                 "at_tsl"]  # fmt: skip
    # 40, then x1.5; mitigated: none, and the run starts again: 40, 60, 80; at TSL: none.
    assert list(k1["abatement"]) == [40.0, 60.0, 0.0, 40.0, 60.0, 80.0, 0.0]
    assert list(k1["credit"]) == [500.0, 750.0, 0.0, 500.0, 750.0, 1000.0, 0.0]
    k2 = months[months["measure_id"] == "K2"]
    levels = ["at_tsl", "not_available", "below_msl", "below_msl", "pending", "at_tsl",
              "not_available"]  # fmt: skip
    assert list(k2["level"]) == levels
    # Not available: full points (20), then 30 and 40; pending: none yet. July has no row
    # although the data reaches July: no figure, so it fails too.
    assert list(k2["abatement"]) == [0.0, 20.0, 30.0, 40.0, 0.0, 0.0, 20.0]


def test_the_monthly_summary(contract) -> None:
    summary = contract_summary(abatements(contract)).set_index("month")
    assert summary.loc["2024-02"].to_dict() == {
        "service": "ICT", "at_tsl": 0, "at_msl": 1, "below_msl": 0, "not_available": 1,
        "mitigated": 0, "pending": 0, "abatement": 80.0, "credit": 1000.0,
    }  # fmt: skip
    assert summary.loc["2024-03", "mitigated"] == 1
    assert summary.loc["2024-05", "pending"] == 1
    assert summary["abatement"].sum() == 40 + 60 + 40 + 60 + 80 + 20 + 30 + 40 + 20


def test_up_to_a_period_and_by_service(contract) -> None:
    calendar = contract.calendar
    months = abatements(contract, ["ICT"], upto=calendar.parse("2023/24 Q4"))
    assert sorted(set(months["month"])) == ["2024-01", "2024-02", "2024-03"]
    assert abatements(contract, ["Elsewhere"]).empty


def test_the_example_contract_in_its_report(example) -> None:
    report = kpitools.build_cpr(example, "ICT & Digital", "2024/25 Q1")
    contract = report.contract
    assert contract is not None
    assert contract.period_months == ("2024-04", "2024-05", "2024-06")
    assert [k.measure_id for k in contract.kpis][:2] == ["IMT_KPI_01", "IMT_KPI_02"]
    # Security patches at MSL only through the quarter, after March: x2 each month.
    patches = next(k for k in contract.kpis if k.measure_id == "IMT_KPI_06")
    assert [m[2:] for m in patches.months] == [(2.0, 80.0)] * 3
    assert contract.abatement == sum(k.abatement for k in contract.kpis) == 480
    assert contract.credit == 480 * 25
    assert kpitools.build_cpr(example, "Finance", "2024/25 Q1").contract is None
