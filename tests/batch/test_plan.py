"""Planning a run: every input is checked before anything is written."""

import dataclasses
from pathlib import Path

import pytest

import kpitools
from kpitools.batch.plan import default_notebook, plan_run, resolve_quarter
from kpitools.core.errors import KpiToolsError
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER

SERVICES = (
    "Customer Services",
    "ICT & Digital",
    "Adult Social Care",
    "Children's Services",
    "Finance",
    "Waste & Environment",
)


def plan(tmp_path: Path, quarter: str = QUARTER, **kwargs):
    return plan_run(
        EXAMPLE, quarter, out_dir=tmp_path / "out", config_path=COUNCIL_CONFIG, **kwargs
    )


def test_a_good_plan_is_resolved(tmp_path):
    """Paths come back absolute, the quarter as its label, every service in data order."""
    result = plan(tmp_path, quarter=" 2024/25 q1 ")
    assert result.quarter == "2024/25 Q1"
    assert result.services == SERVICES
    assert result.data_dir == EXAMPLE.resolve()
    assert result.out_dir == (tmp_path / "out").resolve()
    assert result.config_path == COUNCIL_CONFIG.resolve()
    assert result.config.council == "Northfield Borough Council"
    assert result.dataset.config == result.config
    assert result.notebook == default_notebook()
    assert (result.report_date, result.run_id, result.strict) == ("", "", False)
    assert not (tmp_path / "out").exists()  # planning writes nothing


def test_relative_paths_are_resolved(tmp_path, monkeypatch):
    monkeypatch.chdir(EXAMPLE.parent.parent)
    result = plan_run(
        "data/example", QUARTER, out_dir="elsewhere", config_path="params/council.yaml"
    )
    assert result.data_dir == EXAMPLE.resolve()
    assert result.out_dir == EXAMPLE.parent.parent / "elsewhere"
    assert result.config_path == COUNCIL_CONFIG.resolve()


def test_without_a_config_the_defaults_apply(tmp_path):
    result = plan_run(EXAMPLE, QUARTER, out_dir=tmp_path)
    assert result.config_path is None
    assert result.config == kpitools.CouncilConfig.defaults()


def test_services_keep_the_order_given_without_repeats(tmp_path):
    result = plan(tmp_path, services=["Finance", "Adult Social Care", "Finance"])
    assert result.services == ("Finance", "Adult Social Care")


def test_latest_is_the_quarter_the_data_reaches(tmp_path):
    assert plan(tmp_path, quarter="latest").quarter == "2024/25 Q1"
    assert plan(tmp_path, quarter=" LATEST ").quarter == "2024/25 Q1"


def test_latest_of_a_dataset_without_values_is_an_error(example):
    empty = dataclasses.replace(example, values=example.values.iloc[0:0])
    with pytest.raises(KpiToolsError, match="no values, so there is no latest quarter"):
        resolve_quarter(empty, "latest")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"services": ["Finance", "Housing", "Parks"]},
            "unknown service 'Housing', 'Parks': the data has Customer Services, ICT & Digital, "
            "Adult Social Care, Children's Services, Finance, Waste & Environment",
        ),
        ({"quarter": "2024/25 Q5"}, "--period '2024/25 Q5' is not a period: write a month"),
        ({"quarter": "next week"}, "--period 'next week' is not a period: write a month"),
        (
            {"quarter": "2024-06..2024-04"},
            "--period '2024-06..2024-04' is not a run of months: it ends before it starts",
        ),
        ({"report_date": "19/07/2024"}, "report date '19/07/2024' is not a date"),
        ({"notebook": "no-such.ipynb"}, "no-such.ipynb does not exist"),
        ({"notebook": EXAMPLE}, f"notebook {EXAMPLE} does not exist"),
    ],
)
def test_bad_inputs_stop_the_run_before_anything_is_written(tmp_path, kwargs, message):
    with pytest.raises(KpiToolsError) as caught:
        plan(tmp_path, **kwargs)
    assert not isinstance(caught.value, kpitools.ValidationError)
    assert message in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_bad_data_is_a_validation_error(tmp_path, make_data):
    data = make_data(measures="measure_id,service,title\nM1,S,T\n")
    with pytest.raises(kpitools.ValidationError) as caught:
        plan_run(data, QUARTER, out_dir=tmp_path / "out")
    assert [str(p) for p in caught.value.problems] == [
        "measures.csv: missing required column 'polarity'",
        "values.csv: is missing: it is required",
    ]
    assert not (tmp_path / "out").exists()


def test_a_bad_config_is_a_validation_error(tmp_path):
    config = tmp_path / "council.yaml"
    config.write_text("council: Test\ndefault_tolerance: 2\n", encoding="utf-8")
    with pytest.raises(kpitools.ValidationError, match="default_tolerance"):
        plan_run(EXAMPLE, QUARTER, out_dir=tmp_path / "out", config_path=config)
    assert not (tmp_path / "out").exists()


def test_a_good_report_date_and_notebook_are_kept(tmp_path):
    notebook = tmp_path / "mine.ipynb"
    notebook.write_bytes(default_notebook().read_bytes())
    result = plan(tmp_path, report_date="2024-07-19", notebook=notebook, run_id="r1", strict=True)
    assert (result.report_date, result.run_id, result.strict) == ("2024-07-19", "r1", True)
    assert result.notebook == notebook.resolve()


def test_default_notebook_is_the_cpr_notebook():
    notebook = default_notebook()
    assert notebook.is_file() and notebook.name == "cpr.ipynb"
    assert "kpitools.write_summary" in notebook.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "quarter",
    ["2024/25 Q2", "2021/22 Q1", "2024/25 Q1", "2020/21 Q4", "2030/31 Q3"],
)
def test_a_quarter_outside_the_data_is_refused(tmp_path, quarter):
    """The example runs from April 2021 to June 2024: a quarter with none of its months in
    that range would give empty reports."""
    if quarter in ("2021/22 Q1", "2024/25 Q1"):
        assert plan(tmp_path, quarter=quarter).quarter == quarter
        return
    with pytest.raises(KpiToolsError) as caught:
        plan(tmp_path, quarter=quarter)
    assert str(caught.value) == (
        f"--period {quarter} is outside the data, which runs from 2021-04 to 2024-06"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("period", "label"), [("2024-05", "2024-05"), ("2023/24", "2023/24")])
def test_a_month_or_a_year_can_be_reported(tmp_path, period, label):
    assert plan(tmp_path, quarter=period).quarter == label
