"""Where the batch's jobs run: one small interface, two executors.

An executor takes the planned :class:`~kpitools.batch.jobs.ServiceJob` s, says which are
running, and hands each :class:`~kpitools.batch.jobs.ServiceResult` back as it finishes. It
writes nothing: the batch writes every file. :class:`LocalExecutor` runs a pool of worker
processes on this machine; :class:`kpitools.batch.cluster.DaskExecutor` runs on a Dask
cluster.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from kpitools.batch.jobs import ServiceJob, ServiceResult

#: Called with the slugs of the jobs now running.
OnStart = Callable[[Sequence[str]], None]
#: Called once per job with its result, in the order they finish.
OnResult = Callable[[ServiceJob, ServiceResult], None]

MAX_ATTEMPTS = 2  # a job whose worker process was killed is tried once more


class Executor(Protocol):
    """Runs jobs and reports their results; never writes output files."""

    def run(self, jobs: Sequence[ServiceJob], on_start: OnStart, on_result: OnResult) -> None:
        """Run every job; return when each has been handed to ``on_result``."""
        ...


def _worker_init(notebook_dir: str) -> None:
    """In each worker process: leave Ctrl-C to the batch, start the kernel straight away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from multiprocessing.util import Finalize

    from kpitools.batch.jobs import shutdown_worker, warm_up

    # Pool workers leave through os._exit, skipping atexit: a finalizer stops the kernel.
    Finalize(None, shutdown_worker, exitpriority=10)
    warm_up(notebook_dir)


class LocalExecutor:
    """A pool of worker processes on this machine, one warm kernel each.

    A worker process that is killed breaks the pool: the pool is rebuilt and the jobs it had
    not finished are submitted again, each at most :data:`MAX_ATTEMPTS` times.
    """

    def __init__(self, workers: int, notebook_dir: str):
        self.workers = max(1, workers)
        self.notebook_dir = notebook_dir

    def run(self, jobs: Sequence[ServiceJob], on_start: OnStart, on_result: OnResult) -> None:
        from kpitools.batch.jobs import render_service

        pending = list(jobs)
        attempts = {job.slug: 0 for job in jobs}
        while pending:
            size = min(self.workers, len(pending))
            pool = ProcessPoolExecutor(
                max_workers=size,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init,
                initargs=(self.notebook_dir,),
            )
            finished = False
            futures: dict[Future[ServiceResult], ServiceJob] = {}
            try:
                for job in pending:
                    attempts[job.slug] += 1
                    futures[pool.submit(render_service, job)] = job
                on_start(_running(futures, size))
                remaining = set(futures)
                while remaining:
                    done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                    for future in done:
                        job = futures[future]
                        result = future.result()  # BrokenProcessPool if a worker was killed
                        pending.remove(job)
                        on_result(job, result)
                    on_start(_running(futures, size))
                finished = True
            except BrokenProcessPool:
                for job in [j for j in pending if attempts[j.slug] >= MAX_ATTEMPTS]:
                    pending.remove(job)
                    failure = ServiceResult(job.service, job.slug)
                    failure.error = f"its worker process was killed {MAX_ATTEMPTS} times"
                    on_result(job, failure)
            finally:
                _stop_pool(pool, graceful=finished)


def _running(futures: dict[Future[ServiceResult], ServiceJob], size: int) -> list[str]:
    """The jobs a pool of ``size`` workers is running: it takes them in submission order."""
    return [job.slug for future, job in futures.items() if not future.done()][:size]


def _stop_pool(pool: ProcessPoolExecutor, graceful: bool) -> None:
    """Stop the workers. After a finished batch they exit and stop their kernels; after an
    interruption, queued jobs are cancelled and running ones terminated (their kernels
    notice and exit). The pool's workers are this process's only child processes."""
    pool.shutdown(wait=graceful, cancel_futures=True)
    children = multiprocessing.active_children()
    for process in children:
        process.terminate()
    for process in children:
        process.join(timeout=10)
