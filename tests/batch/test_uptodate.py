"""A rerun with nothing to do, answered from the last run's record without reading the data."""

import shutil
from pathlib import Path

import pytest

from kpitools.batch.outcomes import BatchOptions
from kpitools.batch.status import ServiceStatus
from kpitools.batch.uptodate import RUNS_FILE, RunRequest, recall, remember
from kpitools.report.template import template_path
from tests.batch.test_run_batch import FakeExecutor, manifest_of, run
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER


@pytest.fixture
def config(tmp_path) -> Path:
    """The example configuration and its logo, in a folder of the test's own."""
    folder = tmp_path / "params"
    shutil.copytree(COUNCIL_CONFIG.parent, folder)
    return folder / COUNCIL_CONFIG.name


@pytest.fixture
def data(tmp_path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(EXAMPLE, folder)
    return folder


def request(data: Path, **changes) -> RunRequest:
    settings = dict(data_dir=str(data), config=str(COUNCIL_CONFIG), notebook=None,
                    period=QUARTER, services=("Finance", "Waste & Environment"),
                    report_date="", run_id="", strict=False, pack=True, pack_pdf=False,
                    plotly_js="inline")  # fmt: skip
    settings.update(changes)
    return RunRequest.of(**settings)


def built(tmp_path, data: Path):
    """A run of Finance and Waste through the batch, remembered as the CLI remembers it."""
    plan = make_plan(tmp_path, data)
    result = run(plan, FakeExecutor(plan.dataset), options=BatchOptions(pack=True))
    asked = request(data)
    named = [template_path(plan.config), plan.config.logo]
    remember(tmp_path / "out", asked, asked.key(), result, named)
    return result


def make_plan(tmp_path, data, config_path=COUNCIL_CONFIG):
    from kpitools.batch.plan import plan_run

    return plan_run(data, QUARTER, services=("Finance", "Waste & Environment"),
                    out_dir=tmp_path / "out", config_path=config_path)  # fmt: skip


def test_the_same_request_again_is_the_last_run_every_service_up_to_date(tmp_path, data):
    first = built(tmp_path, data)
    asked = request(data)
    recalled = recall(tmp_path / "out", asked, asked.key())
    assert recalled is not None
    result, warnings = recalled
    assert result.root == first.root
    assert [(o.service, o.status) for o in result.outcomes] == [
        ("Finance", ServiceStatus.SKIPPED), ("Waste & Environment", ServiceStatus.SKIPPED),
    ]  # fmt: skip
    assert [o.summary for o in result.outcomes] == [o.summary for o in first.outcomes]
    assert [o.files for o in result.outcomes] == [o.files for o in first.outcomes]
    assert [p.name for p in result.pack] == ["board-pack.pptx", "board-pack.html"]
    assert warnings == manifest_of(first.root)["data_warnings"]


@pytest.mark.parametrize(
    "change",
    [
        lambda data: (data / "values.csv").write_bytes((data / "values.csv").read_bytes() + b"\n"),
        lambda data: (data / "notes.txt").write_text("a new file in the folder\n"),
    ],
    ids=["a data file's bytes", "a new file in the data folder"],
)
def test_any_change_to_the_data_folder_is_another_request(tmp_path, data, change):
    built(tmp_path, data)
    before = request(data).key()
    change(data)
    after = request(data).key()
    assert after != before
    assert recall(tmp_path / "out", request(data), after) is None


@pytest.mark.parametrize(
    "changes",
    [{"period": "latest"}, {"services": ("Finance",)}, {"strict": True},
     {"report_date": "2024-07-19"}, {"run_id": "x"}, {"pack": False}, {"plotly_js": "folder"},
     {"config": None}],
)  # fmt: skip
def test_every_option_that_changes_a_file_is_part_of_the_request(data, changes):
    assert request(data, **changes).key() != request(data).key()


def test_a_changed_logo_means_the_whole_run(tmp_path, data, config):
    plan = make_plan(tmp_path, data, config_path=config)
    result = run(plan, FakeExecutor(plan.dataset), options=BatchOptions(pack=True))
    asked = request(data, config=str(config))
    remember(tmp_path / "out", asked, asked.key(), result, [template_path(plan.config),
                                                            plan.config.logo])  # fmt: skip
    assert recall(tmp_path / "out", asked, asked.key()) is not None
    logo = plan.config.logo
    logo.write_bytes(logo.read_bytes() + b"\0")
    assert asked.key() == request(data, config=str(config)).key()  # the same command ...
    assert recall(tmp_path / "out", asked, asked.key()) is None  # ... but another logo


def test_a_missing_report_or_another_run_since_means_the_whole_run(tmp_path, data):
    first = built(tmp_path, data)
    asked = request(data)
    (first.root / "finance" / "finance.pptx").unlink()
    assert recall(tmp_path / "out", asked, asked.key()) is None
    built(tmp_path, data)  # the whole run again puts it back and is remembered
    assert recall(tmp_path / "out", asked, asked.key()) is not None
    (first.root / "board-pack.html").unlink()
    assert recall(tmp_path / "out", asked, asked.key()) is None
    for name in ("index.html", "timings.json", "board-pack.json", "finance/run.log"):
        built(tmp_path, data)
        assert recall(tmp_path / "out", asked, asked.key()) is not None
        (first.root / name).unlink()
        assert recall(tmp_path / "out", asked, asked.key()) is None, name
    built(tmp_path, data)
    manifest = first.root / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"skipped"', b'"ok"', 1))
    assert recall(tmp_path / "out", asked, asked.key()) is None


def test_a_run_with_a_failure_is_not_remembered(tmp_path, data):
    plan = make_plan(tmp_path, data)
    result = run(plan, FakeExecutor(plan.dataset, fail={"Finance": "cell 5: boom"}))
    asked = request(data)
    remember(tmp_path / "out", asked, asked.key(), result, [])
    assert not (tmp_path / "out" / RUNS_FILE).exists()
    assert recall(tmp_path / "out", asked, asked.key()) is None
