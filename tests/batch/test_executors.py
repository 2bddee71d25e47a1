"""LocalExecutor: each worker a kernel, looked after by a thread of the batch; results come
back to the batch's own thread as they finish."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import ClassVar

import pytest

from kpitools.batch.executors import LocalExecutor
from kpitools.batch.jobs import ServiceJob, ServiceResult

SLUGS = ["customer-services", "finance", "adult-social-care", "waste-and-environment"]


def job(slug: str) -> ServiceJob:
    return ServiceJob(service=slug, slug=slug, quarter="2024/25 Q1", report_date="",
                      run_id="r", data_dir="", config="", notebook="")  # fmt: skip


class FakeKernel:
    """Stands for a kernel process: counts what the executor asks of it."""

    made: ClassVar[list[FakeKernel]] = []

    def __init__(self, cwd: str):
        self.cwd = cwd
        self.readied = self.shut = self.killed = 0
        self.jobs: list[str] = []
        FakeKernel.made.append(self)

    def ready(self) -> FakeKernel:
        self.readied += 1
        return self

    def shutdown(self) -> None:
        self.shut += 1

    def kill(self) -> None:
        self.killed += 1


@pytest.fixture(autouse=True)
def fresh_kernels():
    FakeKernel.made = []


def ok(a_job: ServiceJob, kernel: FakeKernel) -> ServiceResult:
    kernel.jobs.append(a_job.key)
    return ServiceResult(a_job.service, a_job.slug, ok=True, worker=threading.current_thread().name)


@pytest.mark.parametrize("workers", [1, 2, 8])
def test_every_job_runs_once_on_the_workers_and_comes_back_to_the_batchs_thread(workers):
    results: dict[str, ServiceResult] = {}
    handed: list[str] = []
    started: list[list[str]] = []

    def on_result(a_job: ServiceJob, result: ServiceResult) -> None:
        results[a_job.key] = result
        handed.append(threading.current_thread().name)

    LocalExecutor(workers, "/notebooks", task=ok, kernel=FakeKernel).run(
        [job(slug) for slug in SLUGS], on_start=lambda r: started.append(list(r)),
        on_result=on_result,
    )  # fmt: skip
    assert sorted(results) == sorted(SLUGS) and all(r.ok for r in results.values())
    assert set(handed) == {threading.main_thread().name}  # files are written by the batch
    kernels = FakeKernel.made
    assert len(kernels) == min(workers, len(SLUGS))  # no more kernels than jobs
    assert sorted(k for kernel in kernels for k in kernel.jobs) == sorted(SLUGS)
    assert all(k.cwd == "/notebooks" and k.readied and k.shut == 1 for k in kernels)
    assert all(k.killed == 0 for k in kernels)  # a finished run stops them, no kill
    assert started[-1] == []  # nothing left running
    assert max(len(r) for r in started) <= workers


def test_jobs_of_several_councils_are_told_apart_by_their_key():
    jobs = [replace(job(slug), council=council) for council in ("A", "B") for slug in SLUGS[:2]]
    results: dict[str, ServiceResult] = {}
    LocalExecutor(2, ".", task=ok, kernel=FakeKernel).run(
        jobs, on_start=lambda running: None,
        on_result=lambda j, result: results.setdefault(j.key, result),
    )  # fmt: skip
    assert sorted(results) == ["A/customer-services", "A/finance", "B/customer-services",
                               "B/finance"]  # fmt: skip


def test_a_fault_of_the_batch_itself_stops_the_run_and_kills_the_kernels():
    def broken(a_job: ServiceJob, kernel: FakeKernel) -> ServiceResult:
        if a_job.slug == "finance":
            raise RuntimeError("a bug")
        return ok(a_job, kernel)

    with pytest.raises(RuntimeError, match="a bug"):
        LocalExecutor(1, ".", task=broken, kernel=FakeKernel).run(
            [job(slug) for slug in SLUGS], on_start=lambda r: None, on_result=lambda j, r: None
        )
    [kernel] = FakeKernel.made
    assert kernel.killed == 1
    assert kernel.jobs == ["customer-services"]  # nothing more was started


def test_a_stop_while_results_are_handed_over_kills_the_kernels():
    class Stopped(Exception):
        pass

    def on_result(a_job: ServiceJob, result: ServiceResult) -> None:
        raise Stopped  # as the batch's signal handler breaks off the run

    with pytest.raises(Stopped):
        LocalExecutor(2, ".", task=ok, kernel=FakeKernel).run(
            [job(slug) for slug in SLUGS], on_start=lambda r: None, on_result=on_result
        )
    assert [k.killed for k in FakeKernel.made] == [1, 1]
