"""run_batch with a fake executor: the batch's own logic, in-process, without any kernel.

The fake executor builds each service's report in this process the way the notebook does
(one :func:`kpitools.build_cpr`, the deck and the summary from it) and hands the files back;
everything the batch shows afterwards must come from that summary.
"""

import dataclasses
import json
import stat
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from pptx import Presentation

import kpitools
from kpitools.batch.jobs import ServiceJob, ServiceResult
from kpitools.batch.plan import plan_run
from kpitools.batch.run import BatchOptions, Interrupted, run_batch
from kpitools.batch.status import ServiceStatus
from kpitools.report.deck import deck_bytes
from kpitools.report.summary import SUMMARY_FILE, ReportSummary
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER

QUARTER_DIR = "2024-25-q1"
FINANCE_COUNTS = {"green": 3, "amber": 6, "red": 2, "blue": 0, "white": 0, "grey": 0}
WASTE_COUNTS = {"green": 11, "amber": 0, "red": 0, "blue": 0, "white": 0, "grey": 1}

Doctor = Callable[[ServiceJob, ReportSummary], ReportSummary]


@cache
def real_deck(service: str) -> bytes:
    """A real deck of the example service (built once: it takes a tenth of a second)."""
    dataset = kpitools.load(EXAMPLE, config=kpitools.load_config(COUNCIL_CONFIG))
    return deck_bytes(kpitools.build_cpr(dataset, service, QUARTER))


class FakeExecutor:
    """Builds each job's report in-process from ``dataset``; never writes a file.

    ``fail`` maps a service to the error its worker reports; ``stop_after`` raises
    :class:`Interrupted` once that many results have been handed back; ``doctor`` may
    change the summary the 'notebook' writes.
    """

    def __init__(self, dataset, *, fail=None, stop_after=None, doctor: Doctor | None = None):
        self.dataset = dataset
        self.fail = fail or {}
        self.stop_after = stop_after
        self.doctor = doctor
        self.jobs: list[ServiceJob] = []

    def run(self, jobs, on_start, on_result):
        self.jobs = list(jobs)
        for count, job in enumerate(jobs):
            if self.stop_after is not None and count == self.stop_after:
                raise Interrupted("SIGINT")
            on_start([job.key])
            on_result(job, self.result(job))

    def result(self, job: ServiceJob) -> ServiceResult:
        result = ServiceResult(job.service, job.slug, worker="fake", seconds=1.25)
        if job.service in self.fail:
            result.error = self.fail[job.service]
            result.failed_cell = 5
            result.files = {f"{job.slug}.ipynb": b'{"cells": []}'}
            result.log = f"service: {job.service}\nstatus: failed\n"
            return result
        report = kpitools.build_cpr(
            self.dataset, job.service, job.quarter, report_date=job.report_date, run_id=job.run_id
        )
        summary = ReportSummary.of(report)
        if self.doctor is not None:
            summary = self.doctor(job, summary)
        result.ok = True
        result.files = {
            f"{job.slug}.pptx": real_deck(job.service),
            f"{job.slug}.html": f"<html>{job.service}</html>".encode(),
            f"{job.slug}.ipynb": b'{"cells": []}',
            SUMMARY_FILE: summary.to_json(),
        }
        result.log = f"service: {job.service}\nstatus: ok\n"
        return result


def make_plan(tmp_path: Path, services=("Finance", "Waste & Environment"), **kwargs):
    return plan_run(
        EXAMPLE,
        QUARTER,
        services=services,
        out_dir=tmp_path / "out",
        config_path=COUNCIL_CONFIG,
        **kwargs,
    )


def run(plan, executor=None, options=None, events=None):
    executor = executor or FakeExecutor(plan.dataset)
    options = options or BatchOptions()

    def progress(event, outcome, outcomes):
        if events is not None:
            events.append((event, outcome.service if outcome else None,
                           [o.status.value for o in outcomes]))  # fmt: skip

    return run_batch(plan, options, progress=progress, executor=executor)


def manifest_of(root: Path) -> dict:
    return json.loads((root / "manifest.json").read_text(encoding="utf-8"))


def visible_tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_reports_manifest_and_overview_are_written(tmp_path):
    plan = make_plan(tmp_path)
    events = []
    result = run(plan, events=events)
    root = tmp_path / "out" / QUARTER_DIR
    assert result.root == root and result.failed == [] and result.interrupted == ""
    assert visible_tree(root) == [
        "board-pack.html",
        "board-pack.json",
        "board-pack.pptx",
        "finance",
        "finance/finance.html",
        "finance/finance.ipynb",
        "finance/finance.pptx",
        "finance/run.log",
        "finance/summary.json",
        "index.html",
        "manifest.json",
        "timings.json",
        "waste-and-environment",
        "waste-and-environment/run.log",
        "waste-and-environment/summary.json",
        "waste-and-environment/waste-and-environment.html",
        "waste-and-environment/waste-and-environment.ipynb",
        "waste-and-environment/waste-and-environment.pptx",
    ]
    assert (root / "finance" / "finance.pptx").read_bytes() == real_deck("Finance")
    # Four CPR slides, then the full scorecard as an appendix (two slides for Finance).
    assert len(Presentation(str(root / "finance" / "finance.pptx")).slides) == 6
    assert stat.S_IMODE((root / "finance" / "summary.json").stat().st_mode) == 0o644
    summary = ReportSummary.from_json((root / "finance" / SUMMARY_FILE).read_bytes())
    assert (summary.service, summary.quarter, summary.counts) == ("Finance", QUARTER,
                                                                 FINANCE_COUNTS)  # fmt: skip
    log = (root / "finance" / "run.log").read_text(encoding="utf-8")
    assert log.startswith("service: Finance\nstatus: ok\n")
    assert log.count("warning: Finance 2024/25 Q1: no Director's comment for exception") == 4
    assert "warning:" not in (root / "waste-and-environment" / "run.log").read_text()
    assert [e[:2] for e in events] == [
        ("start", None),
        ("running", None),
        ("done", "Finance"),
        ("running", None),
        ("done", "Waste & Environment"),
    ]
    assert events[1][2] == ["running", "pending"]
    assert events[-1][2] == ["ok", "ok"]


def test_the_manifest_records_what_each_summary_says(tmp_path):
    plan = make_plan(tmp_path)
    result = run(plan)
    data = manifest_of(result.root)
    assert data["quarter"] == QUARTER
    assert data["settings"] == plan.config.rating_settings()
    # Paths are relative to the manifest's folder: no machine's layout in the outputs.
    shown = data["parameters"]["config"]
    assert not Path(shown).is_absolute()
    assert (result.root / shown).resolve() == COUNCIL_CONFIG.resolve()
    assert set(data["inputs"]) == {"measures.csv", "values.csv", "targets.csv", "comments.csv",
                                   "actions.csv", "benchmarks.csv"}  # fmt: skip
    finance = data["services"]["finance"]
    assert finance["service"] == "Finance" and finance["status"] == "ok"
    assert finance["counts"] == FINANCE_COUNTS and finance["exceptions"] == 6
    assert finance["files"] == ["finance/finance.html", "finance/finance.ipynb",
                                "finance/finance.pptx", "finance/summary.json"]  # fmt: skip
    assert [w.split(" (")[0] for w in finance["warnings"]] == [
        f"Finance 2024/25 Q1: no Director's comment for exception {m}"
        for m in ("FIN_FN_01", "FIN_KPI_05", "FIN_KPI_03", "FIN_KPI_02")
    ]
    assert finance["error"] == ""
    timings = json.loads((result.root / "timings.json").read_text(encoding="utf-8"))["services"]
    assert (timings["finance"]["seconds"], timings["finance"]["worker"]) == (1.25, "fake")
    assert finance["run_id"] == finance["cache_key"][:12]
    waste = data["services"]["waste-and-environment"]
    assert waste["counts"] == WASTE_COUNTS and waste["exceptions"] == 0
    assert waste["warnings"] == []


def test_manifest_overview_and_outcomes_come_from_the_summary_not_a_rebuild(tmp_path):
    """A summary that says something the data does not: the batch repeats the summary."""

    def doctor(job, summary):
        return dataclasses.replace(
            summary, counts={**summary.counts, "green": 99}, exceptions=(), warnings=("odd",)
        )

    plan = make_plan(tmp_path, services=["Finance"])
    result = run(plan, FakeExecutor(plan.dataset, doctor=doctor))
    [outcome] = result.outcomes
    assert outcome.summary.counts["green"] == 99
    assert outcome.exception_count == 0 and outcome.warnings == ("odd",)
    finance = manifest_of(result.root)["services"]["finance"]
    assert finance["counts"]["green"] == 99 and finance["exceptions"] == 0
    assert finance["warnings"] == ["odd"]
    page = (result.root / "index.html").read_text(encoding="utf-8")
    assert "<td>99</td><td>6</td><td>2</td><td>0</td><td>0</td><td>0</td><td>0</td>" in page
    assert "<p>No measures meet the exception criteria.</p>" in page


def test_the_overview_counts_match_the_summaries(tmp_path):
    result = run(make_plan(tmp_path))
    page = (result.root / "index.html").read_text(encoding="utf-8")
    assert "<title>Northfield Borough Council: Corporate Performance Reports, 2024/25 Q1" in page
    assert (
        '<tr><th scope="row"><a href="finance/finance.html">Finance</a></th>'
        "<td>3</td><td>6</td><td>2</td><td>0</td><td>0</td><td>0</td><td>6</td>"
        "<td>✓ Up to date</td><td>Draft</td>"
        '<td><a href="finance/finance.pptx">Slides (Finance, PowerPoint)</a></td></tr>'
    ) in page
    assert (
        '<a href="waste-and-environment/waste-and-environment.html">Waste &amp; Environment</a>'
        "</th><td>11</td><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td><td>0</td>"
    ) in page
    assert (
        "<h3>Finance</h3><ul><li><strong>Savings delivered against the savings plan</strong>"
        in (page)
    )
    assert "<h3>Waste &amp; Environment</h3>" not in page  # no exceptions, no section


def test_a_failed_service_goes_to_failed_with_its_error(tmp_path):
    plan = make_plan(tmp_path)
    error = "cell 5: RuntimeError: analyst cell broke"
    result = run(plan, FakeExecutor(plan.dataset, fail={"Finance": error}))
    root = result.root
    [failed] = result.failed
    assert (failed.service, failed.status, failed.error, failed.failed_cell) == (
        "Finance", ServiceStatus.FAILED, error, 5)  # fmt: skip
    assert failed.summary is None and failed.files == []
    assert not (root / "finance").exists()
    assert sorted(p.name for p in (root / "failed" / "finance").iterdir()) == [
        "finance.ipynb",
        "run.log",
    ]
    assert "status: failed" in (root / "failed" / "finance" / "run.log").read_text()
    assert (root / "waste-and-environment" / "summary.json").is_file()
    data = manifest_of(root)["services"]
    assert data["finance"]["status"] == "failed" and data["finance"]["error"] == error
    assert data["finance"]["counts"] is None and data["finance"]["exceptions"] is None
    assert data["finance"]["failed_cell"] == 5
    assert data["waste-and-environment"]["status"] == "ok"
    page = (root / "index.html").read_text(encoding="utf-8")
    assert (
        '<tr><th scope="row">Finance</th>' + "<td>–</td>" * 7 + "<td>⚠ Failed</td><td>–</td>"
        f"<td>{error}</td></tr>"
    ) in page
    assert 'href="finance/' not in page


def test_a_service_that_succeeds_again_leaves_failed(tmp_path):
    plan = make_plan(tmp_path, services=["Finance"])
    run(plan, FakeExecutor(plan.dataset, fail={"Finance": "boom"}))
    root = tmp_path / "out" / QUARTER_DIR
    assert (root / "failed" / "finance").is_dir()
    run(plan)
    assert not (root / "failed" / "finance").exists()
    assert manifest_of(root)["services"]["finance"]["status"] == "ok"


def test_a_rerun_skips_what_is_up_to_date(tmp_path):
    plan = make_plan(tmp_path)
    built = run(plan)
    overview = (built.root / "index.html").read_bytes()
    listed = {k: s["files"] for k, s in manifest_of(built.root)["services"].items()}
    executor = FakeExecutor(plan.dataset)
    events = []
    result = run(plan, executor, events=events)
    assert executor.jobs == []
    assert [o.status for o in result.outcomes] == [ServiceStatus.SKIPPED] * 2
    assert [o.summary.counts for o in result.outcomes] == [FINANCE_COUNTS, WASTE_COUNTS]
    assert events == [("start", None, ["skipped", "skipped"])]
    data = manifest_of(result.root)["services"]
    assert data["finance"]["status"] == "skipped" and data["finance"]["counts"] == FINANCE_COUNTS
    assert len(data["finance"]["warnings"]) == 4
    # What a rerun writes does not depend on which run built the reports: the overview is
    # the same bytes, the manifest lists the same files in the same order.
    assert (result.root / "index.html").read_bytes() == overview
    assert {k: s["files"] for k, s in data.items()} == listed
    page = overview.decode("utf-8")
    assert page.count("✓ Up to date") == 2
    assert "<td>3</td><td>6</td><td>2</td><td>0</td><td>0</td><td>0</td><td>6</td>" in page
    forced = FakeExecutor(plan.dataset)
    run(plan, forced, options=BatchOptions(force=True))
    assert [j.service for j in forced.jobs] == ["Finance", "Waste & Environment"]


def test_strict_fails_a_service_whose_summary_has_warnings(tmp_path):
    plan = make_plan(tmp_path, strict=True)
    result = run(plan)
    root = result.root
    finance, waste = result.outcomes
    assert finance.status is ServiceStatus.FAILED
    assert finance.error.startswith("warnings are errors with --strict: Finance 2024/25 Q1: no ")
    assert finance.error.count("no Director's comment") == 4
    assert waste.status is ServiceStatus.OK  # no warnings
    assert not (root / "finance").exists()
    assert sorted(p.name for p in (root / "failed" / "finance").iterdir()) == [
        "finance.html",
        "finance.ipynb",
        "finance.pptx",
        "run.log",
        "summary.json",
    ]
    log = (root / "failed" / "finance" / "run.log").read_text(encoding="utf-8")
    assert log.count("warning: ") == 4 and "status: failed\nwarnings are errors" in log
    data = manifest_of(root)["services"]["finance"]
    assert data["status"] == "failed" and data["error"] == finance.error
    page = (root / "index.html").read_text(encoding="utf-8")
    assert '<tr><th scope="row">Finance</th>' + "<td>–</td>" * 7 in page
    assert "<h3>Finance</h3>" not in page  # a failed report lists no exceptions


def test_a_summary_rated_with_other_settings_fails_the_service(tmp_path):
    """The 'notebook' loaded the data without the council's configuration."""
    plan = make_plan(tmp_path, services=["Finance"])
    defaults = kpitools.load(EXAMPLE)  # CouncilConfig.defaults(): other settings
    assert defaults.config.rating_settings() != plan.config.rating_settings()
    result = run(plan, FakeExecutor(defaults))
    [outcome] = result.outcomes
    assert outcome.status is ServiceStatus.FAILED
    assert outcome.error.startswith(
        "the notebook rated the data with other settings than the run's configuration"
    )
    assert "kpitools.load(data_dir, config=kpitools.load_config(council_config))" in outcome.error
    assert (result.root / "failed" / "finance" / "summary.json").is_file()
    assert not (result.root / "finance").exists()


def test_a_result_without_a_readable_summary_fails(tmp_path):
    plan = make_plan(tmp_path, services=["Finance"])

    class NoSummary(FakeExecutor):
        def result(self, job):
            result = super().result(job)
            result.files[SUMMARY_FILE] = b"not json"
            return result

    [outcome] = run(plan, NoSummary(plan.dataset)).outcomes
    assert outcome.status is ServiceStatus.FAILED
    assert outcome.error.startswith("the report's summary cannot be read: not a readable")


def test_an_interrupted_batch_keeps_what_finished(tmp_path):
    plan = make_plan(tmp_path, services=["Finance", "Waste & Environment", "Adult Social Care"])
    result = run(plan, FakeExecutor(plan.dataset, stop_after=1))
    assert result.interrupted == "SIGINT"
    assert [o.status for o in result.outcomes] == [
        ServiceStatus.OK,
        ServiceStatus.NOT_RUN,
        ServiceStatus.NOT_RUN,
    ]
    assert [o.service for o in result.failed] == ["Waste & Environment", "Adult Social Care"]
    root = result.root
    assert (root / "finance" / "summary.json").is_file()
    assert not (root / "waste-and-environment").exists()
    statuses = {k: v["status"] for k, v in manifest_of(root)["services"].items()}
    assert statuses == {"finance": "ok", "waste-and-environment": "not run",
                        "adult-social-care": "not run"}  # fmt: skip
    page = (root / "index.html").read_text(encoding="utf-8")
    assert page.count("<td>Not run</td>") == 2
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []
    # The next run does only what is missing.
    executor = FakeExecutor(plan.dataset)
    run(plan, executor)
    assert [j.service for j in executor.jobs] == ["Waste & Environment", "Adult Social Care"]


@pytest.mark.parametrize("strict", [False, True])
def test_a_service_without_warnings_passes_either_way(tmp_path, strict):
    plan = make_plan(tmp_path, services=["Waste & Environment"], strict=strict)
    [outcome] = run(plan).outcomes
    assert outcome.status is ServiceStatus.OK and outcome.warnings == ()


# -- several councils in one run -----------------------------------------------------------
def test_councils_run_as_one_batch_each_in_its_own_folder(tmp_path):
    from kpitools.batch.run import run_councils

    north = make_plan(tmp_path / "north")
    south = make_plan(tmp_path / "south", services=("Finance",))
    executor = FakeExecutor(north.dataset, fail={"Waste & Environment": "cell 5: boom"})
    seen = []
    results = run_councils(
        [("North Shire", north), ("South Vale", south)],
        BatchOptions(),
        progress=lambda event, outcome, outcomes: seen.append(
            (event, outcome.label if outcome else None, len(outcomes))
        ),
        executor=executor,
    )
    assert [j.key for j in executor.jobs] == [
        "North Shire/finance", "North Shire/waste-and-environment", "South Vale/finance",
    ]  # fmt: skip
    assert [(e, label) for e, label, _ in seen if e == "done"] == [
        ("done", "North Shire: Finance"),
        ("done", "North Shire: Waste & Environment"),
        ("done", "South Vale: Finance"),
    ]
    assert {count for *_, count in seen} == {3}  # every council's outcomes, together
    north_root, south_root = (r.root for r in results)
    assert north_root == tmp_path / "north" / "out" / QUARTER_DIR
    assert south_root == tmp_path / "south" / "out" / QUARTER_DIR
    assert [o.status for o in results[0].outcomes] == [ServiceStatus.OK, ServiceStatus.FAILED]
    assert [o.status for o in results[1].outcomes] == [ServiceStatus.OK]
    assert sorted(manifest_of(north_root)["services"]) == ["finance", "waste-and-environment"]
    assert sorted(manifest_of(south_root)["services"]) == ["finance"]
    assert (north_root / "failed" / "waste-and-environment").is_dir()
    assert not (south_root / "failed").exists()
    assert (south_root / "finance" / "finance.pptx").read_bytes() == real_deck("Finance")
    again = FakeExecutor(north.dataset)
    rerun = run_councils([("North Shire", north), ("South Vale", south)], BatchOptions(),
                         executor=again)  # fmt: skip
    assert [j.key for j in again.jobs] == ["North Shire/waste-and-environment"]
    assert [o.status for r in rerun for o in r.outcomes] == [ServiceStatus.SKIPPED,
                                                               ServiceStatus.OK,
                                                               ServiceStatus.SKIPPED]  # fmt: skip


def test_council_names_must_be_distinct(tmp_path):
    from kpitools.batch.run import run_councils

    plan = make_plan(tmp_path)
    with pytest.raises(ValueError, match="distinct"):
        run_councils([("A", plan), ("A", plan)], BatchOptions(), executor=FakeExecutor(None))
    assert not (tmp_path / "out").exists()
    # Any name will do otherwise: a slug has no '/', so council/slug tells every job apart.
    executor = FakeExecutor(plan.dataset)
    [result] = run_councils([("Brighton / Hove", plan)], BatchOptions(pack=False),
                            executor=executor)  # fmt: skip
    assert [j.key for j in executor.jobs] == ["Brighton / Hove/finance",
                                              "Brighton / Hove/waste-and-environment"]  # fmt: skip
    assert [o.status for o in result.outcomes] == [ServiceStatus.OK, ServiceStatus.OK]


def test_the_template_is_opened_only_when_a_deck_is_to_be_built(tmp_path, monkeypatch):
    plan = make_plan(tmp_path)
    run(plan)
    opened = []
    monkeypatch.setattr(type(plan), "check_template", lambda self: opened.append(self.quarter))
    run(plan)  # nothing to do
    assert opened == []
    run(plan, options=BatchOptions(force=True))
    assert opened == [plan.quarter]


def test_a_bad_template_stops_the_run_before_anything_is_written(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("council: X\nlayouts:\n  content: No Such Layout\n", encoding="utf-8")
    plan = plan_run(EXAMPLE, QUARTER, services=("Finance",), out_dir=tmp_path / "out",
                    config_path=config)  # fmt: skip
    with pytest.raises(kpitools.KpiToolsError, match="no layout named 'No Such Layout'"):
        run(plan)
    assert not (tmp_path / "out").exists()
