"""Tasks for LocalExecutor tests: importable by spawned worker processes."""

from __future__ import annotations

import os

from kpitools.batch.jobs import ServiceJob, ServiceResult


def no_kernel(notebook_dir: str) -> None:
    """A worker initializer that starts no kernel."""


def kill_worker_for_finance(job: ServiceJob) -> ServiceResult:
    """Every job succeeds, except Finance's, which kills its worker process every time."""
    if job.slug == "finance":
        os._exit(1)
    return ServiceResult(job.service, job.slug, ok=True, worker=f"pid {os.getpid()}")
