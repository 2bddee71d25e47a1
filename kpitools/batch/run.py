"""The quarterly batch: every service's CPR, in parallel, isolated, resumable.

Layout of a run's output::

    <out>/<quarter>/index.html            corporate overview, links to every report
    <out>/<quarter>/manifest.json         parameters, input hashes, versions, per-service status
    <out>/<quarter>/<service>/            <service>.pptx, .html, .ipynb, summary.json, run.log
    <out>/<quarter>/failed/<service>/     the executed notebook and log of a failed service

Each service's report is built once, in the kernel that runs its notebook; the overview, the
manifest, the progress lines, ``--strict`` and the warnings all come from the summary that
run wrote (``summary.json``). Executors (:mod:`kpitools.batch.executors`) return file
contents; only this process writes, each service's folder swapped in whole
(:mod:`kpitools.batch.outputs`). A rerun skips services whose cache key (see
:mod:`kpitools.batch.manifest`) matches their last successful run.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kpitools._version import __version__
from kpitools.batch.executors import Executor, LocalExecutor
from kpitools.batch.fingerprints import service_fingerprints, whole_fingerprint
from kpitools.batch.jobs import ServiceJob, ServiceResult
from kpitools.batch.manifest import (
    MANIFEST,
    TIMINGS,
    cache_key,
    cells_digest,
    file_sha256,
    manifest_bytes,
    package_versions,
    read_manifest,
    service_records,
)
from kpitools.batch.outcomes import (
    BatchOptions,
    BatchResult,
    ServiceOutcome,
    in_place,
    read_summary,
    report_files,
)
from kpitools.batch.outputs import FAILED_DIR, place_folder, recover, remove_failed
from kpitools.batch.overview import OverviewRow, render_overview
from kpitools.batch.plan import RunPlan
from kpitools.batch.portable import SHIPPED_NOTEBOOK, default_notebook, shown_path
from kpitools.batch.scratch import batch_scratch
from kpitools.batch.status import BatchEvent, ServiceStatus
from kpitools.contract.tables import input_files
from kpitools.core.errors import KpiToolsError
from kpitools.core.files import write_atomic
from kpitools.core.naming import assign_slugs, quarter_folder
from kpitools.core.workflow import sign_off
from kpitools.report.summary import SUMMARY_FILE, ReportSummary, SummaryError
from kpitools.report.template import template_path
from kpitools.report.words import period_words

Progress = Callable[[BatchEvent, "ServiceOutcome | None", list["ServiceOutcome"]], None]


class Interrupted(Exception):
    """The batch was stopped by a signal (Ctrl-C or SIGTERM)."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class _Stop:
    """The signal that stops a batch, and whether it may break off what runs now: the jobs
    and the board pack are broken off at once; a service's folder being put in place, the
    manifest and the overview are finished first (the record and the files always agree)."""

    def __init__(self) -> None:
        self.name = ""
        self.held = True  # a signal is noted; it breaks off only inside breaks_off()

    @contextmanager
    def breaks_off(self) -> Iterator[None]:
        """A signal here raises :class:`Interrupted` (at once, or on entry if one came)."""
        self.held = False
        try:
            if self.name:
                raise Interrupted(self.name)
            yield
        finally:
            self.held = True

    @contextmanager
    def held_off(self) -> Iterator[None]:
        """Inside :meth:`breaks_off`: a signal waits until this block is done."""
        before, self.held = self.held, True
        try:
            yield
        finally:
            self.held = before
        if not before and self.name:
            raise Interrupted(self.name)


@contextmanager
def _signals_noted(stop: _Stop) -> Iterator[None]:
    """SIGTERM and SIGINT stop the batch cleanly (reports written so far are kept); a second
    signal while it stops is ignored."""

    def handler(signum: int, frame: Any) -> None:
        if stop.name:
            return  # already stopping: the reports so far are being recorded, then it ends
        stop.name = signal.Signals(signum).name
        if not stop.held:
            raise Interrupted(stop.name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


# -- planning ------------------------------------------------------------------------------
def plan_outcomes(
    plan: RunPlan, options: BatchOptions, root: Path, council: str = ""
) -> list[ServiceOutcome]:
    """Decide, per service, whether it runs or is already up to date."""
    previous = service_records(read_manifest(root))
    slugs = assign_slugs(plan.dataset.services)  # every service's: a run of some names them alike
    common = common_key_parts(plan)
    # The shipped notebook reads only its own service's rows; an analyst's may read them all.
    whole = (
        None
        if cells_digest(plan.notebook) == cells_digest(default_notebook())
        else whole_fingerprint(plan.dataset)
    )
    fingerprints = service_fingerprints(plan.dataset) if whole is None else {}
    outcomes = []
    for service in plan.services:
        slug = slugs[service]
        data = whole or fingerprints[service]
        key = cache_key(
            {**common, "service": service, "data": data, "plotly_js": options.plotly_js}
        )
        run_id = plan.run_id or key[:12]
        outcome = ServiceOutcome(service, slug, ServiceStatus.PENDING, key, run_id, council=council)
        before = previous.get(slug, {})
        files = report_files(slug)
        summary = read_summary(root / slug / SUMMARY_FILE)
        if (
            not options.force
            and before.get("status") in (ServiceStatus.OK, ServiceStatus.SKIPPED)
            and before.get("cache_key") == key
            and in_place(root, files)
            and summary is not None
        ):
            outcome.status = ServiceStatus.SKIPPED
            outcome.files = files
            outcome.summary = summary
        else:
            outcome.job = make_job(plan, options, outcome, root)
        outcomes.append(outcome)
    return outcomes


def kept_outcomes(plan: RunPlan, root: Path, council: str = "") -> list[ServiceOutcome]:
    """The services of the data a run of some (``--service``) leaves alone, as an earlier run
    left them: each stays in the manifest, the overview and the board pack while its report
    is in place, so the period's folder keeps one record of every service."""
    running = set(plan.services)
    previous = service_records(read_manifest(root))
    slugs = assign_slugs(plan.dataset.services)
    kept = []
    for service in plan.dataset.services:
        slug = slugs[service]
        record = previous.get(slug, {})
        if service in running or record.get("service") != service:
            continue
        key, run_id = str(record.get("cache_key", "")), str(record.get("run_id", ""))
        outcome = ServiceOutcome(service, slug, ServiceStatus.FAILED, key, run_id, council=council)
        if record.get("status") in (ServiceStatus.OK, ServiceStatus.SKIPPED):
            files = report_files(slug)
            outcome.summary = read_summary(root / slug / SUMMARY_FILE)
            if outcome.summary is None or not in_place(root, files):
                continue
            outcome.status, outcome.files = ServiceStatus.SKIPPED, files
        elif record.get("status") == ServiceStatus.FAILED:
            outcome.error = str(record.get("error", ""))
            cell = record.get("failed_cell")
            outcome.failed_cell = cell if isinstance(cell, int) else None
        else:
            continue
        kept.append(outcome)
    return kept


def common_key_parts(plan: RunPlan) -> dict[str, Any]:
    """What every service's cache key shares: parameters, configuration, files, versions."""
    config = plan.config
    return {
        "quarter": plan.quarter,
        "report_date": plan.report_date,
        "run_id": plan.run_id,
        "strict": plan.strict,
        "notebook": file_sha256(plan.notebook),
        # The logo and template are hashed by content below, not named by where they lie.
        # Who gets mail changes no report: left out.
        "config": config.model_dump_json(
            exclude={
                "logo": True,
                "template": True,
                "mail": True,
                "services": {"__all__": {"director_email"}},
            }
        ),
        "template": file_sha256(template_path(config)),
        "logo": file_sha256(config.logo) if config.logo else "",
        "packages": package_versions(),
    }


def make_job(
    plan: RunPlan, options: BatchOptions, outcome: ServiceOutcome, root: Path
) -> ServiceJob:
    """The job that builds one service's reports (published in ``root``/its slug)."""
    folder = root / outcome.slug
    return ServiceJob(
        service=outcome.service,
        slug=outcome.slug,
        quarter=plan.quarter,
        report_date=plan.report_date,
        run_id=outcome.run_id,
        data_dir=str(plan.data_dir),
        config=str(plan.config_path) if plan.config_path else "",
        notebook=str(plan.notebook),
        timeout=options.timeout,
        plotly_js=options.plotly_js,
        shown_data_dir=shown_path(plan.data_dir, folder),
        shown_config=shown_path(plan.config_path, folder),
        shown_notebook=shown_notebook(plan.notebook, folder),
        council=outcome.council,
    )


def write_plotly_js(root: Path) -> None:
    """plotly.js, once in the period's folder, for web pages that load it from there."""
    from kpitools.core.naming import PLOTLY_FILE
    from kpitools.report.plotly_js import plotly_js

    target = root / PLOTLY_FILE
    blob = plotly_js().encode("utf-8")
    if not target.is_file() or target.read_bytes() != blob:
        write_atomic(target, blob)


def shown_notebook(notebook: Path, start: Path) -> str:
    """How outputs name the notebook a run used: the shipped one by name, others by path."""
    if notebook.resolve() == default_notebook().resolve():
        return SHIPPED_NOTEBOOK
    return shown_path(notebook, start)


# -- results -------------------------------------------------------------------------------
def judge(plan: RunPlan, result: ServiceResult) -> tuple[ReportSummary | None, str]:
    """The summary a successful run wrote, and why the run must count as failed ('' if it
    need not): other settings than the plan's, or warnings under ``--strict``."""
    if not result.ok:
        return None, result.error
    try:
        summary = ReportSummary.from_json(result.files[SUMMARY_FILE])
    except (KeyError, SummaryError) as err:
        return None, f"the report's summary cannot be read: {err}"
    if summary.kpitools_version != __version__:
        built_by = summary.kpitools_version or "an older version"
        return summary, (
            f"the report was built by kpitools {built_by}, this run is kpitools "
            f"{__version__}: install the same version wherever reports are built"
        )
    expected = plan.config.rating_settings()
    if summary.settings != expected:
        return summary, (
            "the notebook rated the data with other settings than the run's configuration "
            f"({summary.settings} instead of {expected}): load the data with "
            "kpitools.load(data_dir, config=kpitools.load_config(council_config))"
        )
    if plan.strict and summary.warnings:
        return summary, "warnings are errors with --strict: " + "; ".join(summary.warnings)
    return summary, ""


def store_result(root: Path, plan: RunPlan, outcome: ServiceOutcome, result: ServiceResult) -> None:
    """Put a worker's result in place and record it in the outcome."""
    outcome.seconds = result.seconds
    outcome.worker = result.worker
    outcome.peak_rss_mb = result.peak_rss_mb
    summary, failure = judge(plan, result)
    outcome.summary = summary
    warnings = summary.warnings if summary is not None else ()
    log = (result.log + "".join(f"warning: {w}\n" for w in warnings)).encode("utf-8")
    if not failure:
        place_folder(root, outcome.slug, {**result.files, "run.log": log})
        remove_failed(root, outcome.slug)
        outcome.status = ServiceStatus.OK
        outcome.files = [f"{outcome.slug}/{name}" for name in sorted(result.files)]
    else:
        if result.ok:
            log += f"status: failed\n{failure}\n".encode()
        place_folder(root, f"{FAILED_DIR}/{outcome.slug}", {**result.files, "run.log": log})
        outcome.status = ServiceStatus.FAILED
        outcome.error = failure
        outcome.failed_cell = result.failed_cell


def manifest_header(plan: RunPlan, options: BatchOptions, root: Path) -> dict[str, Any]:
    """The manifest's run-wide part (parameters, input hashes, versions): worked out once.
    Paths are relative to the period's folder ``root``, where the manifest is written."""
    inputs = {p.name: file_sha256(p) for p in input_files(plan.data_dir)}
    return {
        "kpitools_version": __version__,
        "quarter": plan.quarter,
        "parameters": {
            "data": shown_path(plan.data_dir, root),
            "config": shown_path(plan.config_path, root),
            "report_date": plan.report_date,
            "run_id": plan.run_id,
            "strict": plan.strict,
            "timeout": options.timeout,
            "jobs": options.jobs,
            "scheduler": options.scheduler or "",
        },
        "settings": plan.config.rating_settings(),
        "data_warnings": [str(w) for w in plan.dataset.warnings],
        "inputs": inputs,
        "config_sha256": file_sha256(plan.config_path) if plan.config_path else "",
        "notebook": {
            "path": shown_notebook(plan.notebook, root),
            "sha256": file_sha256(plan.notebook),
        },
        "packages": package_versions(),
    }


def write_manifest(root: Path, header: dict[str, Any], outcomes: list[ServiceOutcome]) -> None:
    """Write the manifest (after every service, so an interrupted run keeps its record)."""
    manifest = {
        **header,
        "services": {
            o.slug: {
                "service": o.service,
                "status": o.status.value,
                "cache_key": o.cache_key,
                "run_id": o.run_id,
                "files": o.files,
                "error": o.error,
                "failed_cell": o.failed_cell,
                "counts": dict(o.summary.counts) if o.summary is not None else None,
                "exceptions": o.exception_count,
                "warnings": list(o.warnings),
            }
            for o in outcomes
        },
    }
    write_atomic(root / MANIFEST, manifest_bytes(manifest))
    # How long each service took, where and in how much memory: this run's own measurements,
    # kept apart so that the manifest is the same bytes for the same inputs.
    timings = {
        o.slug: {
            "seconds": round(o.seconds, 3),
            "worker": o.worker,
            "peak_rss_mb": o.peak_rss_mb,
        }
        for o in outcomes
    }
    write_atomic(root / TIMINGS, manifest_bytes({"services": timings}))


def _signoff(plan: RunPlan, outcome: ServiceOutcome) -> str:
    """The service's sign-off, every step counted (noted and published too), against what
    its report says now."""
    if outcome.summary is None or not outcome.status.has_report:
        return ""
    return sign_off(plan.dataset.signoff, outcome.service, outcome.summary.quarter,
                    outcome.summary.digest).text  # fmt: skip


def write_overview(root: Path, plan: RunPlan, outcomes: list[ServiceOutcome]) -> None:
    rows = [
        OverviewRow(o.service, o.slug, o.status, o.summary, o.error, _signoff(plan, o))
        for o in outcomes
    ]
    page = render_overview(
        plan.config.council, period_words(plan.quarter), rows, plan.config.palette,
        footer=f"{plan.config.council} · Corporate Performance Reports "
        f"{period_words(plan.quarter)}",
    )  # fmt: skip
    write_atomic(root / "index.html", page.encode("utf-8"))


# -- running ------------------------------------------------------------------------------
class _Batch:
    """One council's part of a run: its plan, outcomes and files, fed results as they come."""

    def __init__(self, plan: RunPlan, options: BatchOptions, council: str = ""):
        self.plan = plan
        self.options = options
        self.council = council
        self.root = plan.out_dir / quarter_folder(plan.quarter)
        recover(self.root)  # what an interrupted run left, before judging what is up to date
        self.outcomes = plan_outcomes(plan, options, self.root, council)
        #: Services this run leaves alone (a run of --service): recorded as they were.
        self.kept = kept_outcomes(plan, self.root, council)
        self.header = manifest_header(plan, options, self.root)
        self.result = BatchResult(root=self.root, outcomes=self.outcomes)

    @property
    def every(self) -> list[ServiceOutcome]:
        """This run's services and those it leaves alone, in the data dictionary's order."""
        order = {s: i for i, s in enumerate(self.plan.dataset.services)}
        return sorted([*self.outcomes, *self.kept], key=lambda o: order[o.service])

    def prepare(self) -> None:
        """The period's folder made (and plotly.js put in it, if the pages load it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.options.plotly_js == "folder":
            write_plotly_js(self.root)

    @property
    def jobs(self) -> list[ServiceJob]:
        return [o.job for o in self.outcomes if o.job is not None]

    def store(self, outcome: ServiceOutcome, service_result: ServiceResult) -> None:
        store_result(self.root, self.plan, outcome, service_result)
        write_manifest(self.root, self.header, self.every)

    def finish(self) -> None:
        """Every service not run marked so; the manifest and the overview written."""
        for outcome in self.outcomes:
            if outcome.status in (ServiceStatus.PENDING, ServiceStatus.RUNNING):
                outcome.status = ServiceStatus.NOT_RUN
        write_manifest(self.root, self.header, self.every)
        write_overview(self.root, self.plan, self.every)

    def write_pack(self) -> None:
        from kpitools.batch.pack import write_pack

        started = time.perf_counter()
        outcomes = self.every
        built = [(o.service, o.run_id, o.cache_key) for o in outcomes if o.status.has_report]
        left_out = [(o.service, o.status.words) for o in outcomes if not o.status.has_report]
        self.result.pack = write_pack(
            self.root, self.plan, built, left_out, pdf=self.options.pack_pdf
        )
        self.result.pack_seconds = time.perf_counter() - started


def make_executor(batches: list[_Batch], options: BatchOptions) -> Executor:
    """The executor ``options`` ask for: a Dask cluster, or local worker processes."""
    if options.scheduler:
        from kpitools.batch.cluster import DaskExecutor, make_bundle

        bundles = {b.council: make_bundle(b.plan) for b in batches if b.jobs}
        keys = {o.key: o.cache_key for b in batches for o in b.outcomes}
        return DaskExecutor(options.scheduler, bundles, keys)
    return LocalExecutor(options.jobs, str(batches[0].plan.notebook.parent))


def check_outputs(plans: Sequence[RunPlan], scheduler: str | None = None) -> None:
    """What a run will write to, checked before it writes anything (and before it takes the
    output folder's lock): no file where a period's folder goes, and the Dask scheduler, if
    one is named, answering.

    Raises:
        KpiToolsError: which of them is wrong, in a sentence.
    """
    for plan in plans:
        root = plan.out_dir / quarter_folder(plan.quarter)
        if root.exists() and not root.is_dir():
            raise KpiToolsError(
                f"{root} is a file where the period's folder should be: move it away"
            )
    if scheduler:
        from kpitools.batch.cluster import check_scheduler

        check_scheduler(scheduler)


def run_batch(
    plan: RunPlan,
    options: BatchOptions,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> BatchResult:
    """Run the batch: plan, run what needs running, write reports, manifest and overview.

    Args:
        plan: the validated run (see :func:`kpitools.batch.plan.plan_run`).
        options: workers, timeout, caching and executor.
        progress: called with (event, the outcome it is about or None, every outcome).
        executor: where the jobs run (default: as ``options`` say).
    """
    return _run([_Batch(plan, options)], options, progress, executor)[0]


def run_councils(
    plans: Sequence[tuple[str, RunPlan]],
    options: BatchOptions,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> list[BatchResult]:
    """Several councils' batches as one: every service of every council on one set of
    workers (or one Dask cluster), each council's files in its own plan's folder.

    Args:
        plans: (council name, its validated run), the names distinct; the jobs run council
            by council, so that a worker mostly reads one council's data in a row.
        options: as for :func:`run_batch`, the same for every council.
        progress: called with (event, the outcome it is about or None, every council's
            outcomes); each outcome's ``council`` names its council.
        executor: where the jobs run (default: as ``options`` say).

    Returns:
        Each council's result, in the order of ``plans``.
    """
    names = [name for name, _ in plans]
    if len(set(names)) != len(names) or not all(names):
        raise ValueError(f"council names must be distinct and not empty: {names}")
    return _run([_Batch(plan, options, name) for name, plan in plans], options, progress,
                executor)  # fmt: skip


def _run(
    batches: list[_Batch],
    options: BatchOptions,
    progress: Progress | None,
    executor: Executor | None,
) -> list[BatchResult]:
    started = time.perf_counter()
    for batch in batches:
        if batch.jobs:  # a deck will be built: its template must open (nothing written yet)
            batch.plan.check_template()
    check_outputs(
        [batch.plan for batch in batches],
        options.scheduler if executor is None and any(b.jobs for b in batches) else None,
    )
    for batch in batches:
        batch.prepare()
    owner = {o.key: (batch, o) for batch in batches for o in batch.outcomes}
    outcomes = [o for batch in batches for o in batch.outcomes]
    notify = progress or (lambda *_: None)
    notify(BatchEvent.START, None, outcomes)
    jobs = [job for batch in batches for job in batch.jobs]
    stop = _Stop()

    def on_result(job: ServiceJob, service_result: ServiceResult) -> None:
        batch, outcome = owner[job.key]
        with stop.held_off():  # the folder in place and its outcome recorded, or neither
            batch.store(outcome, service_result)
        notify(BatchEvent.DONE, outcome, outcomes)

    def on_start(running: Sequence[str]) -> None:
        for key in running:
            outcome = owner[key][1]
            if outcome.status is ServiceStatus.PENDING:
                outcome.status = ServiceStatus.RUNNING
        notify(BatchEvent.RUNNING, None, outcomes)

    with _signals_noted(stop), batch_scratch():
        try:
            with stop.breaks_off():
                if jobs:
                    runner = executor or make_executor(batches, options)
                    runner.run(jobs, on_start, on_result)
        except Interrupted as stopped:
            stop.name = stop.name or stopped.name  # an executor may raise it itself
        finally:
            for batch in batches:
                batch.finish()  # a signal now is noted, and the record finished first
        if options.pack and not stop.name:
            try:
                with stop.breaks_off():  # the pack's record is written last: a rerun redoes it
                    for batch in batches:
                        batch.write_pack()
            except Interrupted as stopped:
                stop.name = stop.name or stopped.name
    for batch in batches:
        batch.result.interrupted = stop.name
    seconds = time.perf_counter() - started
    for batch in batches:
        batch.result.seconds = seconds
    return [batch.result for batch in batches]
