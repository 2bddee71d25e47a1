"""Which services a rerun skips: cache keys and the previous run's manifest, files, summaries."""

import shutil
from functools import cache
from pathlib import Path

import pytest

import kpitools
from kpitools.batch.fingerprints import service_fingerprint
from kpitools.batch.manifest import MANIFEST, manifest_bytes
from kpitools.batch.plan import default_notebook, plan_run
from kpitools.batch.run import BatchOptions, plan_outcomes, report_files
from kpitools.batch.status import ServiceStatus
from kpitools.core.naming import quarter_folder
from kpitools.report.summary import SUMMARY_FILE, ReportSummary
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER

SERVICES = ["Finance", "Adult Social Care", "Children's Services"]
SLUGS = ["finance", "adult-social-care", "childrens-services"]


def make_plan(tmp_path: Path, data: Path = EXAMPLE, **kwargs):
    kwargs.setdefault("config_path", COUNCIL_CONFIG)
    kwargs.setdefault("services", SERVICES)
    return plan_run(data, QUARTER, out_dir=tmp_path / "out", **kwargs)


def root_of(plan) -> Path:
    return plan.out_dir / quarter_folder(plan.quarter)


def keys(outcomes) -> dict[str, str]:
    return {o.service: o.cache_key for o in outcomes}


@cache
def summary_json(service: str, run_id: str) -> bytes:
    """The summary.json the example's notebook writes for ``service`` (built once per test run)."""
    dataset = kpitools.load(EXAMPLE, config=kpitools.load_config(COUNCIL_CONFIG))
    report = kpitools.build_cpr(dataset, service, QUARTER, run_id=run_id)
    return ReportSummary.of(report).to_json()


def publish(plan, outcomes, status: str = "ok") -> Path:
    """What a finished earlier run leaves: manifest, each service's files and summary."""
    root = root_of(plan)
    services = {}
    for outcome in outcomes:
        for name in report_files(outcome.slug):
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"report file")
        summary = summary_json(outcome.service, outcome.run_id)
        (root / outcome.slug / SUMMARY_FILE).write_bytes(summary)
        services[outcome.slug] = {
            "service": outcome.service,
            "status": status,
            "cache_key": outcome.cache_key,
            "files": report_files(outcome.slug),
        }
    (root / MANIFEST).write_bytes(manifest_bytes({"quarter": plan.quarter, "services": services}))
    return root


@pytest.fixture
def first(tmp_path):
    """A plan and its outcomes with no earlier run: every service must run."""
    plan = make_plan(tmp_path)
    return plan, plan_outcomes(plan, BatchOptions(), root_of(plan))


def test_a_first_run_runs_every_service(first):
    _, outcomes = first
    assert [o.service for o in outcomes] == SERVICES
    assert [o.slug for o in outcomes] == SLUGS
    assert all(o.status is ServiceStatus.PENDING for o in outcomes)
    for outcome in outcomes:
        assert len(outcome.cache_key) == 64
        assert outcome.run_id == outcome.cache_key[:12]  # no --run-id: each its own
        job = outcome.job
        assert (job.service, job.slug, job.quarter) == (outcome.service, outcome.slug, QUARTER)
        assert job.run_id == outcome.run_id and job.timeout == 600
        assert job.data_dir == str(EXAMPLE.resolve()) and job.config == str(COUNCIL_CONFIG)
        assert job.notebook == str(default_notebook())
    assert len(set(keys(outcomes).values())) == len(SERVICES)


def test_unchanged_inputs_are_skipped(first):
    plan, outcomes = first
    root = publish(plan, outcomes)
    again = plan_outcomes(make_plan(root.parent.parent), BatchOptions(), root)
    assert [o.status for o in again] == [ServiceStatus.SKIPPED] * 3
    assert keys(again) == keys(outcomes)
    for outcome in again:
        assert outcome.job is None
        assert outcome.files == report_files(outcome.slug)
        assert outcome.summary.service == outcome.service
    finance = again[0]
    assert finance.summary.counts == {"green": 3, "amber": 6, "red": 2, "blue": 0, "white": 0,
                                      "grey": 0}  # fmt: skip
    assert len(finance.warnings) == 4 and finance.exception_count == 6


def test_a_previously_skipped_service_is_skipped_again(first):
    plan, outcomes = first
    root = publish(plan, outcomes, status="skipped")
    again = plan_outcomes(plan, BatchOptions(), root)
    assert [o.status for o in again] == [ServiceStatus.SKIPPED] * 3


def test_force_reruns_everything(first):
    plan, outcomes = first
    root = publish(plan, outcomes)
    again = plan_outcomes(plan, BatchOptions(force=True), root)
    assert [o.status for o in again] == [ServiceStatus.PENDING] * 3
    assert all(o.job is not None for o in again)
    assert keys(again) == keys(outcomes)


def test_a_failed_service_runs_again(first):
    plan, outcomes = first
    root = publish(plan, outcomes, status="failed")
    again = plan_outcomes(plan, BatchOptions(), root)
    assert [o.status for o in again] == [ServiceStatus.PENDING] * 3


@pytest.mark.parametrize(
    "damage",
    [
        lambda root: (root / "finance" / SUMMARY_FILE).unlink(),
        lambda root: (root / "finance" / SUMMARY_FILE).write_bytes(b'{"format": 1}'),
        lambda root: (root / "finance" / SUMMARY_FILE).write_bytes(b"\xff not json"),
        lambda root: (root / "finance" / "finance.pptx").unlink(),
        lambda root: (root / "finance" / "finance.html").unlink(),
        lambda root: shutil.rmtree(root / "finance"),
    ],
    ids=["no-summary", "empty-summary", "garbage-summary", "no-deck", "no-html", "no-folder"],
)
def test_a_service_with_missing_or_damaged_files_runs_again(first, damage):
    plan, outcomes = first
    root = publish(plan, outcomes)
    damage(root)
    again = plan_outcomes(plan, BatchOptions(), root)
    assert [o.status for o in again] == [
        ServiceStatus.PENDING,
        ServiceStatus.SKIPPED,
        ServiceStatus.SKIPPED,
    ]
    assert again[0].job is not None and again[0].summary is None


def test_a_damaged_manifest_means_every_service_runs(first):
    plan, outcomes = first
    root = publish(plan, outcomes)
    (root / MANIFEST).write_text('{"services": {"finance": ', encoding="utf-8")
    again = plan_outcomes(plan, BatchOptions(), root)
    assert [o.status for o in again] == [ServiceStatus.PENDING] * 3


def test_a_changed_value_changes_only_that_services_key(tmp_path, first):
    """Edit one Finance value in values.csv: only Finance reruns."""
    plan, outcomes = first
    root = publish(plan, outcomes)
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data)
    values = (data / "values.csv").read_text(encoding="utf-8")
    assert values.count("\nFIN_KPI_06,2024-06,") == 1
    line = next(x for x in values.splitlines() if x.startswith("FIN_KPI_06,2024-06,"))
    values = values.replace(line, line.replace("FIN_KPI_06,2024-06,", "FIN_KPI_06,2024-06,1"))
    (data / "values.csv").write_text(values, encoding="utf-8")

    changed = make_plan(tmp_path, data=data)
    again = plan_outcomes(changed, BatchOptions(), root)
    before, after = keys(outcomes), keys(again)
    assert after["Finance"] != before["Finance"]
    assert after["Adult Social Care"] == before["Adult Social Care"]
    assert after["Children's Services"] == before["Children's Services"]
    assert [o.status for o in again] == [
        ServiceStatus.PENDING,
        ServiceStatus.SKIPPED,
        ServiceStatus.SKIPPED,
    ]


def test_the_data_folders_location_is_not_part_of_the_key(tmp_path, first):
    _, outcomes = first
    data = tmp_path / "copy"
    shutil.copytree(EXAMPLE, data)
    assert keys(plan_outcomes(make_plan(tmp_path, data=data), BatchOptions(), tmp_path)) == keys(
        outcomes
    )


def test_service_fingerprint_follows_each_services_own_rows(example):
    before = {s: service_fingerprint(example, s) for s in example.services}
    assert len(set(before.values())) == len(example.services)
    assert service_fingerprint(example, "Finance") == before["Finance"]  # stable
    edited = example.copy()
    row = (edited.values["measure_id"] == "FIN_KPI_06") & (
        edited.values["period"].astype(str) == "2024-06"
    )
    assert row.sum() == 1
    edited.values.loc[row, "value"] = 12.5
    after = {s: service_fingerprint(edited, s) for s in edited.services}
    assert [s for s in edited.services if after[s] != before[s]] == ["Finance"]
    edited.comments.loc[edited.comments["service"] == "Adult Social Care", "comment"] = "New"
    assert service_fingerprint(edited, "Adult Social Care") != before["Adult Social Care"]


@pytest.mark.parametrize(
    "change",
    [
        {"report_date": "2024-07-19"},
        {"run_id": "committee-july"},
        {"strict": True},
        {"config_path": None},
    ],
    ids=["report-date", "run-id", "strict", "default-config"],
)
def test_run_wide_changes_change_every_key(tmp_path, first, change):
    _, outcomes = first
    changed = plan_outcomes(make_plan(tmp_path, **change), BatchOptions(), tmp_path)
    before, after = keys(outcomes), keys(changed)
    assert all(after[s] != before[s] for s in SERVICES)


def test_a_changed_config_file_changes_every_key(tmp_path, first):
    _, outcomes = first
    text = COUNCIL_CONFIG.read_text(encoding="utf-8")
    logo = COUNCIL_CONFIG.parent / "northfield-logo.png"
    assert "default_tolerance: 0.05" in text and "logo: northfield-logo.png" in text
    for name, edited in {
        "same.yaml": text.replace("logo: northfield-logo.png", f"logo: {logo}"),
        "tolerance.yaml": text.replace("logo: northfield-logo.png", f"logo: {logo}").replace(
            "default_tolerance: 0.05", "default_tolerance: 0.1"
        ),
    }.items():
        (tmp_path / name).write_text(edited, encoding="utf-8")
    same = keys(plan_outcomes(make_plan(tmp_path, config_path=tmp_path / "same.yaml"),
                              BatchOptions(), tmp_path))  # fmt: skip
    tolerance = keys(plan_outcomes(make_plan(tmp_path, config_path=tmp_path / "tolerance.yaml"),
                                   BatchOptions(), tmp_path))  # fmt: skip
    assert same == keys(outcomes)  # the same settings from another file: the same keys
    assert all(tolerance[s] != same[s] for s in SERVICES)


def test_a_changed_notebook_changes_every_key(tmp_path, first):
    _, outcomes = first
    notebook = tmp_path / "cpr.ipynb"
    notebook.write_bytes(default_notebook().read_bytes().replace(b"Corporate", b"Corporate  "))
    after = keys(plan_outcomes(make_plan(tmp_path, notebook=notebook), BatchOptions(), tmp_path))
    assert all(after[s] != keys(outcomes)[s] for s in SERVICES)


def test_a_given_run_id_is_every_services_run_id(tmp_path):
    plan = make_plan(tmp_path, run_id="committee-july")
    outcomes = plan_outcomes(plan, BatchOptions(timeout=30), root_of(plan))
    assert [o.run_id for o in outcomes] == ["committee-july"] * 3
    assert [o.job.run_id for o in outcomes] == ["committee-july"] * 3
    assert [o.job.timeout for o in outcomes] == [30] * 3
