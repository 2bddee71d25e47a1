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
from multiprocessing.process import BaseProcess
from typing import Protocol

from kpitools.batch.jobs import ServiceJob, ServiceResult

#: Called with the keys of the jobs now running (:attr:`ServiceJob.key`).
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

    from kpitools.batch.jobs import kill_kernel, shutdown_worker, warm_up
    from kpitools.batch.scratch import in_worker

    in_worker(on_stop=kill_kernel)  # scratch files in the batch's folder; ends with the batch

    # Pool workers leave through os._exit, skipping atexit: a finalizer stops the kernel.
    Finalize(None, shutdown_worker, exitpriority=10)
    warm_up(notebook_dir)


Task = Callable[[ServiceJob], ServiceResult]


def _render(job: ServiceJob) -> ServiceResult:
    from kpitools.batch.jobs import render_service

    return render_service(job)


class LocalExecutor:
    """A pool of worker processes on this machine, one warm kernel each.

    A worker process that is killed breaks the pool and every job running in it. The pool is
    rebuilt and the jobs it had not finished are submitted again; those that were running
    when it broke (one of them killed its worker) are then run one at a time, alone, so that
    a job that kills its worker again fails alone (:data:`MAX_ATTEMPTS`) and the others go on.

    Args:
        workers: worker processes.
        notebook_dir: where each worker's kernel starts.
        task: what a worker runs for a job (the notebook, by default).
        initializer: run once in each worker (starts its kernel, by default).
    """

    def __init__(
        self,
        workers: int,
        notebook_dir: str,
        task: Task = _render,
        initializer: Callable[[str], None] = _worker_init,
    ):
        self.workers = max(1, workers)
        self.notebook_dir = notebook_dir
        self.task = task
        self.initializer = initializer

    def run(self, jobs: Sequence[ServiceJob], on_start: OnStart, on_result: OnResult) -> None:
        pending = list(jobs)
        kills = {job.key: 0 for job in jobs}  # pool breaks while the job was running
        while pending:
            suspects = [job for job in pending if kills[job.key]]
            batch = suspects[:1] or pending  # a suspect runs alone
            size = min(self.workers, len(batch))
            before = set(multiprocessing.active_children())
            pool = ProcessPoolExecutor(
                max_workers=size,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=self.initializer,
                initargs=(self.notebook_dir,),
            )
            finished = False
            futures: dict[Future[ServiceResult], ServiceJob] = {}
            running: list[str] = []
            try:
                for job in batch:
                    futures[pool.submit(self.task, job)] = job
                running = _running(futures, size)
                on_start(running)
                remaining = set(futures)
                while remaining:
                    done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                    for future in done:
                        job = futures[future]
                        result = future.result()  # BrokenProcessPool if a worker was killed
                        pending.remove(job)
                        on_result(job, result)
                    running = _running(futures, size)
                    on_start(running)
                finished = True
            except BrokenProcessPool:
                for key in running:
                    kills[key] += 1
                for job in [j for j in pending if kills[j.key] >= MAX_ATTEMPTS]:
                    pending.remove(job)
                    failure = ServiceResult(job.service, job.slug)
                    failure.error = (
                        f"its worker process was killed {kills[job.key]} times, the last "
                        "time running alone"
                    )
                    on_result(job, failure)
            finally:
                _stop_pool(pool, graceful=finished, others=before)


def _running(futures: dict[Future[ServiceResult], ServiceJob], size: int) -> list[str]:
    """The jobs a pool of ``size`` workers is running: it takes them in submission order."""
    return [job.key for future, job in futures.items() if not future.done()][:size]


def _stop_pool(pool: ProcessPoolExecutor, graceful: bool, others: set[BaseProcess]) -> None:
    """Stop the pool's workers (this process's children that were not there before it).

    After a finished batch they exit and stop their kernels; after an interruption, queued
    jobs are cancelled and running ones terminated (their kernels notice and exit).
    """
    pool.shutdown(wait=graceful, cancel_futures=True)
    started = [p for p in multiprocessing.active_children() if p not in others]
    for process in started:
        process.terminate()
    for process in started:
        process.join(timeout=10)
