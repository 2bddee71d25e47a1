"""judge(): what a successful notebook run must agree with before its report is published."""

from __future__ import annotations

import dataclasses

import pytest

import kpitools
from kpitools.batch.jobs import ServiceResult
from kpitools.batch.plan import plan_run
from kpitools.batch.run import judge
from kpitools.report.summary import SUMMARY_FILE, ReportSummary
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return plan_run(EXAMPLE, QUARTER, config_path=COUNCIL_CONFIG, out_dir=out)


def result_with(summary: ReportSummary) -> ServiceResult:
    return ServiceResult(
        summary.service, "finance", ok=True, files={SUMMARY_FILE: summary.to_json()}
    )


@pytest.fixture(scope="module")
def finance(plan) -> ReportSummary:
    return ReportSummary.of(kpitools.build_cpr(plan.dataset, "Finance", QUARTER))


def test_a_summary_of_this_run_is_published(plan, finance):
    summary, failure = judge(plan, result_with(finance))
    assert failure == "" and summary == finance


def test_a_report_from_another_kpitools_version_fails(plan, finance):
    older = dataclasses.replace(finance, kpitools_version="0.1.0")
    _, failure = judge(plan, result_with(older))
    assert failure == (
        f"the report was built by kpitools 0.1.0, this run is kpitools {kpitools.__version__}: "
        "install the same version wherever reports are built"
    )


def test_a_report_rated_with_other_settings_fails(plan, finance):
    other = dataclasses.replace(finance, settings={**finance.settings, "default_tolerance": 0.15})
    _, failure = judge(plan, result_with(other))
    assert failure.startswith("the notebook rated the data with other settings than the run's")


def test_warnings_fail_only_with_strict(plan, finance):
    assert finance.warnings  # Finance has exceptions awaiting comments
    assert judge(plan, result_with(finance))[1] == ""
    strict = dataclasses.replace(plan, strict=True)
    _, failure = judge(strict, result_with(finance))
    assert failure == "warnings are errors with --strict: " + "; ".join(finance.warnings)
