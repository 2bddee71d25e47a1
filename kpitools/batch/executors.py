"""Where the batch's jobs run: one small interface, two executors.

An executor takes the planned :class:`~kpitools.batch.jobs.ServiceJob` s, says which are
running, and hands each :class:`~kpitools.batch.jobs.ServiceResult` back as it finishes. It
writes nothing: the batch writes every file. :class:`LocalExecutor` runs kernels on this
machine; :class:`kpitools.batch.cluster.DaskExecutor` runs on a Dask cluster.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from kpitools.batch.jobs import ServiceJob, ServiceResult, render_service

#: Called with the keys of the jobs now running (:attr:`ServiceJob.key`).
OnStart = Callable[[Sequence[str]], None]
#: Called once per job with its result, in the order they finish.
OnResult = Callable[[ServiceJob, ServiceResult], None]


class Executor(Protocol):
    """Runs jobs and reports their results; never writes output files."""

    def run(self, jobs: Sequence[ServiceJob], on_start: OnStart, on_result: OnResult) -> None:
        """Run every job; return when each has been handed to ``on_result``."""
        ...


#: What a worker does with a job in its kernel (the notebook, by default).
Task = Callable[[ServiceJob, Any], ServiceResult]
#: A worker's kernel, started in a folder (started lazily: ``ready()`` starts it).
KernelFactory = Callable[[str], Any]


def _render(job: ServiceJob, kernel: Any) -> ServiceResult:
    return render_service(job, kernel)


def _kernel(notebook_dir: str) -> Any:
    from kpitools.batch.kernels import take

    return take(notebook_dir)  # one started ahead, if the command did


class LocalExecutor:
    """Kernels on this machine, one per worker, each looked after by a thread of the batch.

    A worker is one process: its kernel. The batch process sends each job to a free kernel
    and writes its files as it comes back; the kernels start together as the run starts, the
    libraries imported while the first jobs are sent. A kernel that dies or hangs fails its
    job only, naming the cell (:func:`~kpitools.batch.jobs.render_service`), and the next
    job starts a new one. Kernels end with the batch: stopped when it finishes, killed when it
    is stopped, and by the system if it is killed outright (they watch their parent).

    Args:
        workers: kernels run at once.
        notebook_dir: where each kernel starts.
        task: what a worker does with a job and its kernel (the notebook, by default).
        kernel: makes a worker's kernel (:class:`~kpitools.batch.kernels.WarmKernel`).
    """

    def __init__(
        self,
        workers: int,
        notebook_dir: str,
        task: Task = _render,
        kernel: KernelFactory = _kernel,
    ):
        self.workers = max(1, workers)
        self.notebook_dir = notebook_dir
        self.task = task
        self.kernel = kernel

    def run(self, jobs: Sequence[ServiceJob], on_start: OnStart, on_result: OnResult) -> None:
        todo: queue.Queue[ServiceJob] = queue.Queue()
        for job in jobs:
            todo.put(job)
        events: queue.Queue[tuple[str, ServiceJob | None, Any]] = queue.Queue()
        kernels = [self.kernel(self.notebook_dir) for _ in range(min(self.workers, len(jobs)))]
        stopping = threading.Event()

        def work(kernel: Any) -> None:
            try:
                with contextlib.suppress(Exception):  # a kernel that cannot start: its job says
                    kernel.ready()
                while not stopping.is_set():
                    try:
                        taken = todo.get_nowait()
                    except queue.Empty:
                        break
                    events.put(("start", taken, None))
                    events.put(("done", taken, self.task(taken, kernel)))
            except BaseException as err:  # a fault of kpitools itself: the batch stops
                events.put(("crash", None, err))
            finally:
                events.put(("exit", None, None))

        threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in kernels]
        for thread in threads:
            thread.start()
        running: list[str] = []
        finished = False
        try:
            left = len(threads)
            while left:
                kind, which, value = events.get()
                if kind == "exit":
                    left -= 1
                elif kind == "crash":
                    raise value
                elif kind == "start" and which is not None:
                    running.append(which.key)
                    on_start(list(running))
                elif which is not None:
                    running.remove(which.key)
                    on_result(which, value)
                    on_start(list(running))
            finished = True
        finally:
            stopping.set()
            for kernel in kernels:
                if finished:
                    kernel.shutdown()
                else:  # stopped (a signal) or broken: at once
                    kernel.kill()
            for thread in threads:
                thread.join(timeout=0 if not finished else 10)
