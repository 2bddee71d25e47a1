"""The quarterly batch: every service's CPR, in parallel, isolated, resumable.

Layout of a run's output::

    <out>/<quarter>/index.html            corporate overview, links to every report
    <out>/<quarter>/manifest.json         parameters, input hashes, versions, per-service status
    <out>/<quarter>/<service>/            <service>.pptx, .html, .ipynb and run.log
    <out>/<quarter>/failed/<service>/     the executed notebook and log of a failed service

Workers (local processes, or a Dask cluster) return file contents; only this process writes,
each service's folder built aside and renamed into place, so an interrupted batch leaves
every report either as it was or complete. A rerun skips services whose cache key (see
:mod:`kpitools.manifest`) matches their last successful run.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from kpitools import __version__
from kpitools.cpr import Cpr, build_cpr
from kpitools.files import write_atomic
from kpitools.manifest import (
    MANIFEST,
    cache_key,
    file_sha256,
    manifest_bytes,
    package_versions,
    read_manifest,
    service_fingerprint,
)
from kpitools.naming import assign_slugs, quarter_folder
from kpitools.overview import ServiceSummary, render_overview
from kpitools.runner import RunPlan
from kpitools.worker import ServiceJob, ServiceResult

FAILED_DIR = "failed"
MAX_ATTEMPTS = 2  # a job whose worker process was killed is tried once more


@dataclass(frozen=True)
class BatchOptions:
    """How to run: workers, limits, caching, where."""

    jobs: int = 1
    timeout: int | None = 600
    force: bool = False
    scheduler: str | None = None  # a Dask scheduler address: run there instead of locally


@dataclass
class ServiceOutcome:
    """One service's line in the batch summary and the manifest."""

    service: str
    slug: str
    status: str  # ok, skipped, failed, not run
    cache_key: str
    run_id: str
    report: Cpr
    job: ServiceJob | None = None
    seconds: float = 0.0
    error: str = ""
    failed_cell: int | None = None
    files: list[str] = field(default_factory=list)
    attempts: int = 0
    worker: str = ""
    peak_rss_mb: dict[str, float] = field(default_factory=dict)


@dataclass
class BatchResult:
    root: Path
    outcomes: list[ServiceOutcome]
    interrupted: str = ""
    seconds: float = 0.0

    @property
    def failed(self) -> list[ServiceOutcome]:
        return [o for o in self.outcomes if o.status in ("failed", "not run")]


class Interrupted(Exception):
    """The batch was stopped by a signal (Ctrl-C or SIGTERM)."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


@contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGTERM and SIGINT stop the batch cleanly (reports written so far are kept)."""

    def handler(signum: int, frame: Any) -> None:
        raise Interrupted(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


# -- planning ------------------------------------------------------------------------------
def plan_outcomes(plan: RunPlan, options: BatchOptions, root: Path) -> list[ServiceOutcome]:
    """Decide, per service, whether it runs or is already up to date."""
    previous = read_manifest(root).get("services", {})
    slugs = assign_slugs(plan.services)
    common = _common_key_parts(plan)
    outcomes = []
    for service in plan.services:
        slug = slugs[service]
        key = cache_key(
            {**common, "service": service, "data": service_fingerprint(plan.dataset, service)}
        )
        run_id = plan.run_id or key[:12]
        report = build_cpr(
            plan.dataset, service, plan.quarter, plan.config,
            report_date=plan.report_date or None, run_id=run_id,
        )  # fmt: skip
        outcome = ServiceOutcome(service, slug, "pending", key, run_id, report)
        before = previous.get(slug, {})
        files = [f"{slug}/{slug}{ext}" for ext in (".pptx", ".html", ".ipynb")]
        if (
            not options.force
            and before.get("status") in ("ok", "skipped")
            and before.get("cache_key") == key
            and all((root / f).is_file() for f in files)
        ):
            outcome.status = "skipped"
            outcome.files = files
        elif plan.strict and report.warnings:
            outcome.status = "failed"
            outcome.error = "warnings are errors with --strict: " + "; ".join(report.warnings)
        else:
            outcome.job = _job(plan, options, outcome)
        outcomes.append(outcome)
    return outcomes


def _common_key_parts(plan: RunPlan) -> dict[str, Any]:
    config = plan.config
    return {
        "quarter": plan.quarter,
        "report_date": plan.report_date,
        "run_id": plan.run_id,
        "notebook": file_sha256(plan.notebook),
        "config": config.model_dump_json(),
        "template": file_sha256(config.template_path),
        "logo": file_sha256(config.logo) if config.logo else "",
        "packages": package_versions(),
    }


def _job(plan: RunPlan, options: BatchOptions, outcome: ServiceOutcome) -> ServiceJob:
    report = outcome.report
    return ServiceJob(
        service=outcome.service,
        slug=outcome.slug,
        quarter=plan.quarter,
        report_date=report.report_date.isoformat(),
        run_id=outcome.run_id,
        data_dir=str(plan.data_dir),
        config=str(plan.config_path) if plan.config_path else "",
        notebook=str(plan.notebook),
        html_title=f"{report.title} - {report.council}",
        html_footer=(
            f"{report.council} · {report.service} · Corporate Performance Report "
            f"{report.quarter} · Report date {report.report_date:%d %B %Y} · "
            f"Run {outcome.run_id}"
        ),
        timeout=options.timeout,
    )


# -- writing -------------------------------------------------------------------------------
def recover(root: Path) -> None:
    """Tidy what an interrupted run may have left: half-built folders go, a report moved
    aside but not yet replaced comes back."""
    if not root.is_dir():
        return
    for path in sorted(root.iterdir()):
        if path.name.startswith(".staging-"):
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(".old-"):
            slug = path.name[len(".old-") :].rsplit("-", 1)[0]
            if (root / slug).exists():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.rename(root / slug)
        elif path.name.startswith(".") and path.suffix == ".json":
            path.unlink(missing_ok=True)  # a manifest being written


def _place_folder(root: Path, name: str, files: dict[str, bytes]) -> None:
    """Build ``root/name`` aside and swap it in; readers see the old folder or the new one."""
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{name.replace('/', '-')}-", dir=root))
    for file_name, blob in files.items():
        (staging / file_name).write_bytes(blob)
        os.chmod(staging / file_name, 0o644)
    os.chmod(staging, 0o755)
    old = None
    if target.exists():
        old = root / f".old-{name.replace('/', '-')}-{os.getpid()}"
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def store_result(root: Path, outcome: ServiceOutcome, result: ServiceResult) -> None:
    """Put a worker's result in place and record it in the outcome."""
    outcome.seconds = result.seconds
    outcome.worker = result.worker
    outcome.peak_rss_mb = result.peak_rss_mb
    log = result.log + "".join(f"warning: {w}\n" for w in outcome.report.warnings)
    if result.ok:
        _place_folder(root, outcome.slug, {**result.files, "run.log": log.encode("utf-8")})
        shutil.rmtree(root / FAILED_DIR / outcome.slug, ignore_errors=True)
        outcome.status = "ok"
        outcome.files = [f"{outcome.slug}/{name}" for name in sorted(result.files)]
    else:
        files = {**result.files, "run.log": log.encode("utf-8")}
        _place_folder(root, f"{FAILED_DIR}/{outcome.slug}", files)
        outcome.status = "failed"
        outcome.error = result.error
        outcome.failed_cell = result.failed_cell


def manifest_header(plan: RunPlan, options: BatchOptions) -> dict[str, Any]:
    """The manifest's run-wide part (parameters, input hashes, versions): worked out once."""
    inputs = {
        p.name: file_sha256(p)
        for p in sorted(plan.data_dir.iterdir())
        if p.is_file() and p.suffix.lower() in (".csv", ".xlsx")
    }
    return {
        "kpitools_version": __version__,
        "quarter": plan.quarter,
        "parameters": {
            "data": str(plan.data_dir),
            "config": str(plan.config_path) if plan.config_path else "",
            "report_date": plan.report_date,
            "run_id": plan.run_id,
            "strict": plan.strict,
            "timeout": options.timeout,
            "jobs": options.jobs,
            "scheduler": options.scheduler or "",
        },
        "inputs": inputs,
        "config_sha256": file_sha256(plan.config_path) if plan.config_path else "",
        "notebook": {"path": str(plan.notebook), "sha256": file_sha256(plan.notebook)},
        "packages": package_versions(),
    }


def write_manifest(root: Path, header: dict[str, Any], outcomes: list[ServiceOutcome]) -> None:
    """Write the manifest (after every service, so an interrupted run keeps its record)."""
    manifest = {
        **header,
        "services": {
            o.slug: {
                "service": o.service,
                "status": o.status,
                "cache_key": o.cache_key,
                "run_id": o.run_id,
                "files": o.files,
                "seconds": round(o.seconds, 3),
                "error": o.error,
                "failed_cell": o.failed_cell,
                "warnings": list(o.report.warnings),
                "exceptions": len(o.report.exceptions),
                "worker": o.worker,
                "peak_rss_mb": o.peak_rss_mb,
            }
            for o in outcomes
        },
    }
    write_atomic(root / MANIFEST, manifest_bytes(manifest))


def write_overview(root: Path, plan: RunPlan, outcomes: list[ServiceOutcome]) -> None:
    summaries = [ServiceSummary.from_report(o.report, o.slug, o.status, o.error) for o in outcomes]
    page = render_overview(
        plan.config.council, plan.quarter, summaries, plan.config.palette,
        footer=f"{plan.config.council} · Corporate Performance Reports {plan.quarter}",
    )  # fmt: skip
    write_atomic(root / "index.html", page.encode("utf-8"))


# -- running -------------------------------------------------------------------------------
def _worker_init(notebook_dir: str) -> None:
    """In each worker process: leave Ctrl-C to the batch, start the kernel straight away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from multiprocessing.util import Finalize

    from kpitools.worker import shutdown_worker, warm_up

    # Pool workers leave through os._exit, skipping atexit: a finalizer stops the kernel.
    Finalize(None, shutdown_worker, exitpriority=10)
    warm_up(notebook_dir)


def _run_local(
    jobs: list[ServiceOutcome], workers: int, notebook_dir: str,
    on_result: Callable[[ServiceOutcome, ServiceResult], None],
    on_start: Callable[[list[ServiceOutcome]], None],
) -> None:  # fmt: skip
    """Run jobs on a pool of worker processes; a killed worker's pool is rebuilt and its
    unfinished jobs resubmitted."""
    from kpitools.worker import render_service

    pending = list(jobs)
    while pending:
        finished = False
        context = get_context("spawn")
        pool = ProcessPoolExecutor(
            max_workers=max(1, min(workers, len(pending))),
            mp_context=context,
            initializer=_worker_init,
            initargs=(notebook_dir,),
        )
        futures: dict[Future[ServiceResult], ServiceOutcome] = {}
        try:
            for outcome in pending:
                outcome.attempts += 1
                assert outcome.job is not None
                futures[pool.submit(render_service, outcome.job)] = outcome
            size = max(1, min(workers, len(pending)))
            on_start(_running(futures, size))
            remaining = set(futures)
            while remaining:
                done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for future in done:
                    outcome = futures[future]
                    result = future.result()  # BrokenProcessPool if a worker was killed
                    pending.remove(outcome)
                    on_result(outcome, result)
                on_start(_running(futures, size))
            finished = True
        except BrokenProcessPool:
            for outcome in [o for o in pending if o.attempts >= MAX_ATTEMPTS]:
                pending.remove(outcome)
                failure = ServiceResult(outcome.service, outcome.slug)
                failure.error = f"its worker process was killed {MAX_ATTEMPTS} times"
                on_result(outcome, failure)
        finally:
            _stop_pool(pool, graceful=finished)


def _running(futures: dict[Future[ServiceResult], ServiceOutcome], size: int) -> list[Any]:
    """The jobs a pool of ``size`` workers is running: it takes them in submission order."""
    return [outcome for future, outcome in futures.items() if not future.done()][:size]


def _stop_pool(pool: ProcessPoolExecutor, graceful: bool) -> None:
    """Stop the workers. After a finished batch they exit and stop their kernels; after an
    interruption, queued jobs are cancelled and running ones killed (their kernels notice
    and exit)."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=graceful, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=10)


def run_batch(
    plan: RunPlan,
    options: BatchOptions,
    progress: Callable[[str, ServiceOutcome | None, list[ServiceOutcome]], None] | None = None,
) -> BatchResult:
    """Run the batch: plan, run what needs running, write reports, manifest and overview.

    Args:
        plan: the validated run (see :func:`kpitools.runner.plan_run`).
        options: workers, timeout, caching and executor.
        progress: called with ("start" | "running" | "done", outcome, outcomes).
    """
    started = time.perf_counter()
    root = plan.out_dir / quarter_folder(plan.quarter)
    root.mkdir(parents=True, exist_ok=True)
    recover(root)
    outcomes = plan_outcomes(plan, options, root)
    header = manifest_header(plan, options)
    notify = progress or (lambda *_: None)
    notify("start", None, outcomes)
    result = BatchResult(root=root, outcomes=outcomes)
    to_run = [o for o in outcomes if o.job is not None]

    def on_result(outcome: ServiceOutcome, service_result: ServiceResult) -> None:
        store_result(root, outcome, service_result)
        write_manifest(root, header, outcomes)
        notify("done", outcome, outcomes)

    def on_start(running: list[ServiceOutcome]) -> None:
        for outcome in running:
            if outcome.status == "pending":
                outcome.status = "running"
        notify("running", None, outcomes)

    with _signals_raise():
        try:
            if to_run and options.scheduler:
                from kpitools.cluster import run_on_dask

                run_on_dask(plan, to_run, options.scheduler, on_result, on_start)
            elif to_run:
                _run_local(to_run, options.jobs, str(plan.notebook.parent), on_result, on_start)
        except Interrupted as stop:
            result.interrupted = stop.name
        finally:
            for outcome in outcomes:
                if outcome.status in ("pending", "running"):
                    outcome.status = "not run"
            write_manifest(root, header, outcomes)
            write_overview(root, plan, outcomes)
    result.seconds = time.perf_counter() - started
    return result
