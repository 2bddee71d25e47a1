"""The Dask bundle: a worker that cannot see the client's disk gets the same inputs."""

from __future__ import annotations

import kpitools
from kpitools.batch.cluster import make_bundle
from kpitools.batch.plan import plan_run
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER


def test_the_bundle_carries_data_notebook_and_an_equal_configuration(tmp_path):
    plan = plan_run(EXAMPLE, QUARTER, config_path=COUNCIL_CONFIG, out_dir=tmp_path / "out")
    bundle = make_bundle(plan)
    assert sorted(bundle.files) == [
        "data/actions.csv", "data/benchmarks.csv", "data/comments.csv", "data/measures.csv",
        "data/targets.csv", "data/values.csv", "notebooks/cpr.ipynb", "params/council.yaml",
        "params/logo.png",
    ]  # fmt: skip
    unpacked = tmp_path / "worker"
    for name, blob in bundle.files.items():
        (unpacked / name).parent.mkdir(parents=True, exist_ok=True)
        (unpacked / name).write_bytes(blob)
    config = kpitools.load_config(unpacked / bundle.config)
    assert config.logo == (unpacked / "params" / "logo.png").resolve()
    assert config.logo.read_bytes() == plan.config.logo.read_bytes()
    assert config.model_dump(exclude={"logo"}) == plan.config.model_dump(exclude={"logo"})
    assert config.rating_settings() == plan.config.rating_settings()
    worker_data = kpitools.load(unpacked / bundle.data_dir, config=config)
    here = kpitools.rate(plan.dataset, period=QUARTER)
    there = kpitools.rate(worker_data, period=QUARTER)
    assert there.equals(here)
