"""Running the batch on a Dask distributed cluster, for when one machine is not enough.

The client sends each worker the inputs once (data files, configuration, logo, template,
notebook: a :class:`~kpitools.batch.jobs.Bundle`, broadcast), submits one task per service,
and hands the results back to the batch, which writes them atomically as a local run does:
workers need kpitools installed but no shared disk. Dask reruns the tasks of a worker that
dies on another worker; each service's result is received once, so nothing is lost or
written twice.

Start a cluster (one thread per worker process: each worker keeps one warm kernel)::

    dask scheduler --host 0.0.0.0 --port 8786
    dask worker tcp://SCHEDULER:8786 --nworkers 4 --nthreads 1     # on each machine

then ``kpitools run ... --scheduler tcp://SCHEDULER:8786``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from kpitools.batch.executors import OnResult, OnStart
from kpitools.batch.jobs import Bundle, ServiceJob, ServiceResult, render_service
from kpitools.batch.plan import RunPlan
from kpitools.contract.config_file import config_text
from kpitools.contract.tables import input_files
from kpitools.core.errors import KpiToolsError

_ONE_AT_A_TIME = threading.Lock()  # a worker process has one kernel: one notebook at a time


def make_bundle(plan: RunPlan) -> Bundle:
    """The run's inputs as bytes, with a configuration that names them inside the bundle."""
    files: dict[str, bytes] = {}
    for path in input_files(plan.data_dir):
        files[f"data/{path.name}"] = path.read_bytes()
    files["notebooks/cpr.ipynb"] = plan.notebook.read_bytes()
    config_name = ""
    if plan.config_path is not None:
        paths = {}
        for field in ("logo", "template"):
            source = getattr(plan.config, field)
            if source is not None:
                name = f"params/{field}{Path(source).suffix.lower()}"
                files[name] = Path(source).read_bytes()
                paths[field] = Path(name).name
        config_name = "params/council.yaml"
        files[config_name] = config_text(plan.config, paths)
    return Bundle(files=files, data_dir="data", config=config_name, notebook="notebooks/cpr.ipynb")


def render_bundled(job: ServiceJob, bundle: Bundle) -> ServiceResult:
    """The task a Dask worker runs: one service's reports, from the broadcast inputs."""
    with _ONE_AT_A_TIME:
        return render_service(replace(job, bundle=bundle))


class DaskExecutor:
    """Runs the jobs on the Dask cluster whose scheduler is at ``address``.

    Args:
        address: the scheduler, e.g. ``tcp://10.0.0.5:8786``.
        bundles: each council's inputs, by :attr:`ServiceJob.council` ('' in a run of one),
            sent to every worker once.
        keys: job key -> a task key part (the cache key), for the dashboard.
    """

    def __init__(
        self, address: str, bundles: dict[str, Bundle], keys: dict[str, str] | None = None
    ):
        self.address = address
        self.bundles = bundles
        self.keys = keys or {}

    def run(self, jobs: Sequence[ServiceJob], on_start: OnStart, on_result: OnResult) -> None:
        from distributed import as_completed

        with connect(self.address) as client:
            needed = dict.fromkeys(job.council for job in jobs)
            sent = {c: client.scatter(self.bundles[c], broadcast=True) for c in needed}
            futures = {
                client.submit(
                    render_bundled,
                    job,
                    sent[job.council],
                    key=_task_key(job, self.keys.get(job.key, "")),
                    pure=False,
                ): job
                for job in jobs
            }
            on_start([job.key for job in futures.values()])
            for future in as_completed(futures):
                job = futures[future]
                try:
                    result = future.result()
                except Exception as err:
                    result = ServiceResult(job.service, job.slug)
                    result.error = f"{type(err).__name__}: {err}"
                on_result(job, result)


def connect(address: str, timeout: str = "30s") -> Any:
    """A client of the Dask scheduler at ``address``.

    Raises:
        KpiToolsError: a malformed address, or no scheduler answering there.
    """
    from distributed import Client

    try:
        return Client(address, timeout=timeout)
    except (OSError, ValueError, TimeoutError) as err:
        raise KpiToolsError(f"--scheduler {address}: {err}") from None


def check_scheduler(address: str) -> None:
    """Connect to the scheduler once, before anything is written, to find it answers (an
    address that answered is not asked again by the same command).

    Raises:
        KpiToolsError: as :func:`connect`.
    """
    if address in _ANSWERED:
        return
    with connect(address, timeout="15s"):
        _ANSWERED.add(address)


_ANSWERED: set[str] = set()


def _task_key(job: ServiceJob, cache_key: str) -> str:
    """The job's task name on the cluster: its slug, a hash of its key (council names may
    hold any character) and its cache key, for the dashboard."""
    digest = hashlib.sha256(job.key.encode("utf-8")).hexdigest()[:12]
    return f"kpitools-{job.slug}-{digest}-{cache_key[:16]}"
