"""The bundled example council: regenerable byte for byte, and telling its stories."""

import importlib.util
import sys

import pytest

import kpitools
from tests.conftest import EXAMPLE, ROOT


@pytest.fixture(scope="module")
def dataset():
    return kpitools.load(EXAMPLE)


@pytest.fixture(scope="module")
def quarters(dataset):
    return kpitools.rate(dataset)


def test_generator_reproduces_the_committed_files(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_example", ROOT / "data/make_example.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_example", module)  # dataclasses look it up
    spec.loader.exec_module(module)
    module.generate(tmp_path)
    committed = sorted(p.name for p in EXAMPLE.glob("*.csv"))
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (EXAMPLE / name).read_bytes(), name


def test_example_has_the_breadth_a_real_council_has(dataset):
    measures, values = dataset.measures, dataset.values
    assert len(dataset.services) >= 6
    assert len(measures) >= 60
    # The file says "performance", "customer", ...: read as the default categories' names.
    assert set(measures["category"]) == {"Service performance", "Customer", "Workforce",
                                         "Finance"}  # fmt: skip
    assert set(measures["rag_method"]) == {"tolerance", "thresholds"}
    assert set(measures["frequency"]) == {"monthly", "quarterly", "termly", "annual"}
    assert set(measures["aggregation"]) == {"last", "sum", "mean", "ratio"}
    assert set(measures["polarity"]) == {"up", "down", "neutral"}
    months = {str(p) for p in values["period"] if p.freqstr == "M"}
    assert len(months) >= 24
    assert set(values["status"]) == {
        "reported", "mitigated", "not_available", "pending", "not_expected",
    }  # fmt: skip
    assert values["restated_from"].notna().sum() >= 2
    assert len(dataset.targets) >= 3
    assert not dataset.comments.empty and not dataset.actions.empty
    assert not dataset.benchmarks.empty


def _latest_rags(quarters, measure_id, n):
    rows = quarters[quarters["measure_id"] == measure_id]
    return rows["rag"].tolist()[-n:]


def test_adult_social_care_is_recovering(quarters):
    assert _latest_rags(quarters, "ASC_KPI_01", 3) == ["red", "amber", "green"]


def test_childrens_services_is_deteriorating(quarters):
    latest = quarters[(quarters["measure_id"] == "CHS_KPI_01")].iloc[-1]
    assert latest["period"] == "2024/25 Q1"
    assert latest["rag"] == "red"
    assert "worsening_3_periods" in latest["exception_reasons"].split()
    assert "flag_corporate_risk" in latest["exception_reasons"].split()


def test_finance_is_stuck_at_amber(quarters):
    assert _latest_rags(quarters, "FIN_KPI_01", 5) == ["amber"] * 5
    latest = quarters[quarters["measure_id"] == "FIN_KPI_01"].iloc[-1]
    assert latest["exception_reasons"] == "amber_3_periods"


def test_waste_consistently_beats_its_recycling_target(quarters):
    rows = quarters[quarters["measure_id"] == "WST_KPI_01"]
    assert set(rows["rag"]) == {"green"}
    assert (rows["variance_pct"] > 0.05).all()


def test_contract_events_show_up(dataset):
    months = kpitools.rate(dataset, by="month").set_index(["measure_id", "period"])
    assert months.loc[("IMT_KPI_02", "2023-11"), "rag"] == "blue"
    assert months.loc[("IMT_KPI_04", "2024-02"), "rag"] == "red"
    assert months.loc[("IMT_KPI_05", "2024-06"), "rag"] == "white"
    override = months.loc[("IMT_KPI_06", "2024-04")]
    assert (override["rag"], override["rag_calculated"]) == ("amber", "red")
    assert months.loc[("IMT_KPI_01", "2023-06"), "tsl"] == 95
    assert months.loc[("IMT_KPI_01", "2023-07"), "tsl"] == 97  # rebased from July
