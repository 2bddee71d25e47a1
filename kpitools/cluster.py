"""Running the batch on a Dask distributed cluster, for when one machine is not enough.

The client sends each worker the inputs once (data files, configuration, logo, template,
notebook: a :class:`~kpitools.worker.Bundle`, broadcast), submits one task per service, and
writes the reports it gets back, atomically, as a local run does: workers need kpitools
installed but no shared disk. Dask reruns the tasks of a worker that dies on another worker;
each service's result is received once, so nothing is lost or written twice.

Start a cluster (one thread per worker process: each worker keeps one warm kernel)::

    dask scheduler --host 0.0.0.0 --port 8786
    dask worker tcp://SCHEDULER:8786 --nworkers 4 --nthreads 1     # on each machine

then ``kpitools run ... --scheduler tcp://SCHEDULER:8786``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from kpitools.tables import FILES
from kpitools.worker import Bundle, ServiceJob, ServiceResult, render_service

if TYPE_CHECKING:
    from kpitools.batch import ServiceOutcome
    from kpitools.runner import RunPlan

_ONE_AT_A_TIME = threading.Lock()  # a worker process has one kernel: one notebook at a time


def make_bundle(plan: RunPlan) -> Bundle:
    """The run's inputs as bytes, with a configuration that names them inside the bundle."""
    files: dict[str, bytes] = {}
    for path in sorted(plan.data_dir.iterdir()):
        if path.is_file() and path.stem.lower() in FILES:
            files[f"data/{path.name}"] = path.read_bytes()
    files["notebooks/cpr.ipynb"] = plan.notebook.read_bytes()
    config_name = ""
    if plan.config_path is not None:
        settings = plan.config.model_dump(mode="json", exclude_none=True)
        for field in ("logo", "template"):
            source = getattr(plan.config, field)
            if source is not None:
                name = f"params/{field}{Path(source).suffix.lower()}"
                files[name] = Path(source).read_bytes()
                settings[field] = Path(name).name
        config_name = "params/council.yaml"
        files[config_name] = yaml.safe_dump(settings, allow_unicode=True).encode("utf-8")
    return Bundle(files=files, data_dir="data", config=config_name, notebook="notebooks/cpr.ipynb")


def render_bundled(job: ServiceJob, bundle: Bundle) -> ServiceResult:
    """The task a Dask worker runs: one service's reports, from the broadcast inputs."""
    with _ONE_AT_A_TIME:
        return render_service(replace(job, bundle=bundle))


def run_on_dask(
    plan: RunPlan,
    outcomes: list[ServiceOutcome],
    address: str,
    on_result: Callable[[ServiceOutcome, ServiceResult], None],
    on_start: Callable[[list[ServiceOutcome]], None],
) -> None:
    """Run the services' jobs on the cluster at ``address``; results are handed to
    ``on_result`` in the order they finish."""
    from distributed import Client, as_completed

    with Client(address, timeout="30s") as client:
        bundle = client.scatter(make_bundle(plan), broadcast=True)
        futures = {
            client.submit(
                render_bundled,
                outcome.job,
                bundle,
                key=f"kpitools-{outcome.slug}-{outcome.cache_key[:16]}",
                pure=False,
            ): outcome
            for outcome in outcomes
        }
        on_start(list(futures.values()))
        for future in as_completed(futures):
            outcome = futures[future]
            try:
                result = future.result()
            except Exception as err:
                result = ServiceResult(outcome.service, outcome.slug)
                result.error = f"{type(err).__name__}: {err}"
            on_result(outcome, result)
