"""LocalExecutor: a killed worker process costs only the job that killed it."""

from __future__ import annotations

import pytest

from kpitools.batch.executors import LocalExecutor
from kpitools.batch.jobs import ServiceJob, ServiceResult
from tests.batch import fake_tasks

pytestmark = pytest.mark.slow  # spawns worker processes

SLUGS = ["customer-services", "finance", "adult-social-care", "waste-and-environment"]


def job(slug: str) -> ServiceJob:
    return ServiceJob(service=slug, slug=slug, quarter="2024/25 Q1", report_date="",
                      run_id="r", data_dir="", config="", notebook="")  # fmt: skip


@pytest.mark.parametrize("workers", [1, 2])
def test_a_job_that_kills_its_worker_fails_alone(workers: int) -> None:
    results: dict[str, ServiceResult] = {}
    started: list[list[str]] = []
    executor = LocalExecutor(
        workers, ".", task=fake_tasks.kill_worker_for_finance, initializer=fake_tasks.no_kernel
    )
    executor.run(
        [job(slug) for slug in SLUGS],
        on_start=lambda running: started.append(list(running)),
        on_result=lambda j, result: results.setdefault(j.slug, result),
    )
    assert sorted(results) == sorted(SLUGS)
    assert [slug for slug, r in results.items() if not r.ok] == ["finance"]
    assert results["finance"].error == (
        "its worker process was killed 2 times, the last time running alone"
    )
    assert ["finance"] in started  # run alone before it was given up


def test_jobs_of_several_councils_are_told_apart_by_their_key() -> None:
    from dataclasses import replace

    jobs = [replace(job(slug), council=council) for council in ("A", "B") for slug in SLUGS[:2]]
    results: dict[str, ServiceResult] = {}
    started: list[list[str]] = []
    executor = LocalExecutor(
        2, ".", task=fake_tasks.kill_worker_for_finance, initializer=fake_tasks.no_kernel
    )
    executor.run(
        jobs,
        on_start=lambda running: started.append(list(running)),
        on_result=lambda j, result: results.setdefault(j.key, result),
    )
    assert sorted(results) == ["A/customer-services", "A/finance", "B/customer-services",
                               "B/finance"]  # fmt: skip
    assert sorted(key for key, r in results.items() if not r.ok) == ["A/finance", "B/finance"]
    assert ["A/finance"] in started and ["B/finance"] in started  # each run alone
