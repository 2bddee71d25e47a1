"""A job without a real kernel: checking the summary, bundles, and how errors map on the
kernel's side (build_reports) and on the worker's (render_service)."""

import json
import os
from functools import cache
from pathlib import Path
from typing import ClassVar

import nbformat
import pytest
from papermill.exceptions import PapermillExecutionError

import kpitools
from kpitools.batch import jobs
from kpitools.batch.jobs import Bundle, NotebookOutputError, ServiceJob, _summary_of, _unpack
from kpitools.batch.kernels import CellTimeoutError, DeadKernelError, KernelError
from kpitools.report.plotly_js import PLACE, plotly_js
from kpitools.report.summary import SUMMARY_FILE, ReportSummary
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER


@cache
def finance_summary() -> bytes:
    dataset = kpitools.load(EXAMPLE, config=kpitools.load_config(COUNCIL_CONFIG))
    return ReportSummary.of(kpitools.build_cpr(dataset, "Finance", QUARTER, run_id="r1")).to_json()


def job(service: str = "Finance", **kwargs) -> ServiceJob:
    fields = {"service": service, "slug": "finance", "quarter": QUARTER, "report_date": "",
              "run_id": "r1", "data_dir": str(EXAMPLE), "config": str(COUNCIL_CONFIG),
              "notebook": "cpr.ipynb", "timeout": 5}  # fmt: skip
    return ServiceJob(**{**fields, **kwargs})


# -- the summary the notebook wrote --------------------------------------------------------
def test_the_summary_of_this_job_is_returned_as_written(tmp_path):
    path = tmp_path / SUMMARY_FILE
    path.write_bytes(finance_summary())
    blob, summary = _summary_of(path, job())
    assert blob == finance_summary()
    assert (summary.service, summary.quarter) == ("Finance", QUARTER)


def test_no_summary_names_the_call_that_writes_it(tmp_path):
    with pytest.raises(NotebookOutputError) as caught:
        _summary_of(tmp_path / SUMMARY_FILE, job())
    assert str(caught.value) == (
        "the notebook wrote no summary.json: its last cell must call "
        'kpitools.write_summary(report, f"{output_dir}/summary.json")'
    )


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"\x00\xff", "summary.json: not a readable report summary"),
        (b"[1, 2]", "summary.json: not a kpitools report summary"),
        (b'{"format": 99}', "summary.json: not a kpitools report summary"),
        (b'{"format": 1, "service": "Finance"}', "summary.json: not a readable report summary"),
    ],
)
def test_an_unreadable_summary_is_a_notebook_error(tmp_path, blob, message):
    path = tmp_path / SUMMARY_FILE
    path.write_bytes(blob)
    with pytest.raises(NotebookOutputError, match=f"^{message}"):
        _summary_of(path, job())


@pytest.mark.parametrize(
    ("service", "quarter"), [("Adult Social Care", QUARTER), ("Finance", "2023/24 Q4")]
)
def test_a_summary_of_another_report_is_a_notebook_error(tmp_path, service, quarter):
    path = tmp_path / SUMMARY_FILE
    path.write_bytes(finance_summary())
    with pytest.raises(NotebookOutputError) as caught:
        _summary_of(path, job(service, quarter=quarter))
    assert str(caught.value) == (
        f"the notebook built Finance 2024/25 Q1 (run r1), not {service} {quarter} (run r1)"
    )


def test_a_summary_of_another_run_is_a_notebook_error(tmp_path):
    path = tmp_path / SUMMARY_FILE
    path.write_bytes(finance_summary())
    with pytest.raises(NotebookOutputError) as caught:
        _summary_of(path, job(run_id="r2"))
    assert str(caught.value) == (
        "the notebook built Finance 2024/25 Q1 (run r1), not Finance 2024/25 Q1 (run r2)"
    )


# -- bundles -------------------------------------------------------------------------------
def test_a_bundles_digest_depends_on_its_files_only():
    one = Bundle({"data/a.csv": b"1", "data/b.csv": b"2"}, "data", "", "nb.ipynb")
    same = Bundle({"data/b.csv": b"2", "data/a.csv": b"1"}, "elsewhere", "c.yaml", "x.ipynb")
    assert one.digest == same.digest and len(one.digest) == 16
    assert one.digest == Bundle(dict(one.files), "data", "", "nb.ipynb").digest  # stable
    assert Bundle({"data/a.csv": b"1", "data/b.csv": b"3"}, "data", "", "nb").digest != one.digest
    assert Bundle({"data/a.csv": b"1"}, "data", "", "nb").digest != one.digest
    # Names and contents are kept apart: moving a byte across the boundary changes the digest.
    assert Bundle({"ab": b"c"}, "", "", "").digest != Bundle({"a": b"bc"}, "", "", "").digest


@pytest.fixture
def private_temp(tmp_path, monkeypatch):
    """Bundles unpack under tmp_path, and no bundle counts as unpacked already."""
    monkeypatch.setattr(jobs.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(jobs, "_UNPACKED", {})
    return tmp_path


def test_a_bundle_unpacks_once_per_worker(private_temp):
    bundle = Bundle({"data/values.csv": b"v", "params/council.yaml": b"council: X\n"},
                    "data", "params/council.yaml", "notebooks/cpr.ipynb")  # fmt: skip
    root = _unpack(bundle)
    # Named for the worker process, so what a killed worker leaves is swept (scratch.sweep).
    assert root.parent == private_temp
    assert root.name.startswith(f"kpitools-run-{os.getpid()}-inputs-{bundle.digest}-")
    assert (root / "data" / "values.csv").read_bytes() == b"v"
    assert _unpack(bundle) == root
    assert len(list(private_temp.iterdir())) == 1
    data_dir, config, notebook = jobs._resolve(job(bundle=bundle))
    assert data_dir == str(root / "data")
    assert config == str(root / "params" / "council.yaml")
    assert notebook == str(root / "notebooks" / "cpr.ipynb")


def test_without_a_bundle_a_job_names_its_own_paths():
    assert jobs._resolve(job()) == (str(EXAMPLE), str(COUNCIL_CONFIG), "cpr.ipynb")


@pytest.mark.parametrize("name", ["../x", "data/../../x", "/tmp/kpitools-escape-x"])
def test_a_bundle_path_cannot_leave_the_bundle(private_temp, name):
    bundle = Bundle({name: b"payload"}, "data", "", "nb.ipynb")
    with pytest.raises(ValueError, match="leaves the bundle"):
        _unpack(bundle)
    assert not (private_temp / "x").exists()
    assert not Path("/tmp/kpitools-escape-x").exists()
    assert bundle.digest not in jobs._UNPACKED


# -- the kernel's side: build_reports's error mapping, with the notebook run faked ---------------
@pytest.fixture
def kernel_side(monkeypatch, tmp_path):
    """build_reports with a fake notebook run and a fake HTML exporter.

    Set ``kernel_side.notebook`` to a function of (output folder, executed notebook path)
    that does what the 'notebook' does; ``kernel_side.build(job)`` runs it.
    """
    import kpitools.report.export

    class KernelSide:
        notebook = None
        parameters: ClassVar[dict] = {}

        @staticmethod
        def build(a_job: ServiceJob) -> tuple[jobs.ServiceResult, bool]:
            scratch = tmp_path / "scratch"
            scratch.mkdir(exist_ok=True)
            return jobs.build_reports(a_job, a_job.data_dir, a_job.config, a_job.notebook,
                                      str(scratch), shell=None)  # fmt: skip

    def execute(notebook, executed, parameters, shell, **hooks):
        KernelSide.parameters = parameters
        out = Path(parameters["output_dir"])
        nb = nbformat.v4.new_notebook()
        nbformat.write(nb, executed)
        KernelSide.notebook(out, Path(executed))
        return nb

    def export(nb, title, footer, plotly_src="", plotly_js_text=None):
        return f"<title>{title}</title><script>{plotly_js_text}</script><footer>{footer}</footer>"

    monkeypatch.setattr(jobs, "_execute", execute)
    monkeypatch.setattr(kpitools.report.export, "export_html", export)
    return KernelSide


def writes_report(out: Path, executed: Path) -> None:
    (out / "finance.pptx").write_bytes(b"deck")
    (out / SUMMARY_FILE).write_bytes(finance_summary())


def test_a_good_run_returns_four_files(kernel_side):
    kernel_side.notebook = writes_report
    result, fresh = kernel_side.build(job(run_id="r1", report_date="2024-07-19"))
    assert result.ok and result.error == "" and result.failed_cell is None and not fresh
    assert sorted(result.files) == ["finance.html", "finance.ipynb", "finance.pptx",
                                    "summary.json"]  # fmt: skip
    assert result.files["finance.pptx"] == b"deck"
    assert result.files[SUMMARY_FILE] == finance_summary()
    summary = ReportSummary.from_json(finance_summary())
    assert result.files["finance.html"].decode() == (  # plotly.js is put in by the worker
        f"<title>{summary.page_title}</title><script>{PLACE}</script>"
        f"<footer>{summary.footer}</footer>"
    )
    assert json.loads(result.files["finance.ipynb"])["cells"] == []
    assert kernel_side.parameters == {
        "data_dir": str(EXAMPLE), "service": "Finance", "quarter": QUARTER,
        "output_dir": kernel_side.parameters["output_dir"], "council_config": str(COUNCIL_CONFIG),
        "report_date": "2024-07-19", "run_id": "r1",
    }  # fmt: skip
    assert result.log == "status: ok"


def test_no_summary_fails_with_the_fix(kernel_side):
    kernel_side.notebook = lambda out, executed: (out / "finance.pptx").write_bytes(b"deck")
    result, fresh = kernel_side.build(job())
    assert not result.ok and not fresh
    assert result.error.startswith("the notebook wrote no summary.json: its last cell must call")
    assert list(result.files) == ["finance.ipynb"]  # the executed notebook, for debugging
    assert "status: failed" in result.log


def test_two_decks_fail(kernel_side):
    def two_decks(out, executed):
        writes_report(out, executed)
        (out / "other.pptx").write_bytes(b"deck")

    kernel_side.notebook = two_decks
    result, _ = kernel_side.build(job())
    assert (result.ok, result.error) == (False, "the notebook wrote 2 decks, not one")


def test_a_summary_of_another_service_fails(kernel_side):
    kernel_side.notebook = writes_report
    result, _ = kernel_side.build(job("Adult Social Care"))
    assert result.error == (
        "the notebook built Finance 2024/25 Q1 (run r1), not Adult Social Care 2024/25 Q1 (run r1)"
    )


def test_a_failing_cell_is_named(kernel_side):
    def fails(out, executed):
        raise PapermillExecutionError(6, 6, "boom()", "RuntimeError", "analyst cell broke",
                                      ["\x1b[31mTraceback\x1b[0m", "line 1"])  # fmt: skip

    kernel_side.notebook = fails
    result, fresh = kernel_side.build(job())
    assert (result.ok, result.failed_cell) == (False, 7)
    # Named as the kept notebook shows it (the number beside the cell, papermill's banner
    # and the traceback's), not by its place among cells papermill added to.
    assert result.error == "cell In [6]: RuntimeError: analyst cell broke"
    assert "Traceback\nline 1" in result.log and "\x1b" not in result.log
    assert list(result.files) == ["finance.ipynb"]
    assert not fresh  # the kernel is fine: it ran the failing cell


def test_any_other_error_is_reported_and_the_kernel_replaced(kernel_side):
    def breaks(out, executed):
        raise OSError("disk full")

    kernel_side.notebook = breaks
    result, fresh = kernel_side.build(job())
    assert result.error == "OSError: disk full"
    assert "Traceback" in result.log and fresh


# -- the worker's side: render_service with a fake kernel ---------------------------------------
class FakeKernel:
    """Answers as the kernel would, or fails as ``failure`` says."""

    def __init__(self, answer=None, failure=None):
        self.answer = answer
        self.failure = failure
        self.replaced = 0
        self.requests: list[tuple] = []
        self.pid = 4321

    def ready(self):
        return self

    def render(self, request, timeout):
        self.requests.append((request, timeout))
        if self.failure is not None:
            raise self.failure
        return self.answer

    def replace(self):
        self.replaced += 1


@pytest.fixture
def fake_kernel(monkeypatch):
    kernel = FakeKernel()
    monkeypatch.setattr(jobs, "_kernel", lambda cwd: kernel)
    return kernel


def test_the_kernels_answer_is_the_result_with_the_jobs_log(fake_kernel):
    answer = jobs.ServiceResult("Finance", "finance", ok=True, files={"finance.pptx": b"deck"},
                                log="status: ok")  # fmt: skip
    fake_kernel.answer = (answer, False)
    result = jobs.render_service(job(timeout=7))
    assert result.ok and result.files == {"finance.pptx": b"deck"}
    assert result.log == f"service: Finance\nquarter: {QUARTER}\nrun id: r1\nstatus: ok\n"
    assert result.worker == f"pid {os.getpid()}" and result.seconds > 0  # this process's own
    [(request, timeout)] = fake_kernel.requests
    sent, data_dir, config, notebook, scratch = request
    assert (sent.bundle, data_dir, config, notebook, timeout) == (
        None, str(EXAMPLE), str(COUNCIL_CONFIG), "cpr.ipynb", 7)  # fmt: skip
    assert not Path(scratch).exists()  # the notebook's scratch folder is removed
    assert fake_kernel.replaced == 0


@pytest.mark.parametrize("mode", ["inline", "folder"])
def test_the_worker_puts_plotly_js_in_a_page_that_holds_it(fake_kernel, mode):
    page = f"<head><script>{PLACE}</script></head><body>{PLACE}</body>".encode()
    answer = jobs.ServiceResult("Finance", "finance", ok=True, files={"finance.html": page})
    fake_kernel.answer = (answer, False)
    result = jobs.render_service(job(plotly_js=mode))
    if mode == "folder":  # such a page loads it: nothing is put in
        assert result.files["finance.html"] == page
        return
    assert result.files["finance.html"] == (  # once, in the head, where the kernel left room
        f"<head><script>{plotly_js()}</script></head><body>{PLACE}</body>".encode()
    )


def test_a_page_without_a_place_for_plotly_js_fails_its_service(fake_kernel):
    answer = jobs.ServiceResult("Finance", "finance", ok=True, files={"finance.html": b"<p>"},
                                log="status: ok")  # fmt: skip
    fake_kernel.answer = (answer, False)
    result = jobs.render_service(job())
    assert (result.ok, result.error) == (False, "finance.html: the page has no place for plotly.js")
    assert result.files == {} and result.log.endswith("status: failed\n" + result.error + "\n")


def test_a_kernel_looked_after_by_the_batch_is_named_as_the_worker(fake_kernel):
    fake_kernel.answer = (jobs.ServiceResult("Finance", "finance", ok=True), False)
    result = jobs.render_service(job(), fake_kernel)  # as the local executor calls it
    assert result.worker == "kernel pid 4321"
    assert "worker" not in result.peak_rss_mb  # the batch's memory is no worker's


def test_a_kernel_whose_state_is_unknown_is_replaced(fake_kernel):
    fake_kernel.answer = (jobs.ServiceResult("Finance", "finance", error="OSError: x"), True)
    assert jobs.render_service(job()).error == "OSError: x"
    assert fake_kernel.replaced == 1


def test_a_cell_past_its_timeout_replaces_the_kernel(fake_kernel):
    cells = [nbformat.v4.new_code_cell(f"{n}", outputs=[]) for n in range(4)]
    cells[0]["execution_count"] = 1  # cell 2 is markdown-like: never run, no number
    cells[1]["execution_count"] = None
    notebook = json.loads(json.dumps(nbformat.v4.new_notebook(cells=cells)))
    fake_kernel.failure = CellTimeoutError("timed out", 3, notebook)
    result = jobs.render_service(job(timeout=5))
    # The cell that stopped gets the number the kernel gave it as it started, and is named by
    # it, as the kept notebook shows it.
    assert result.error == "cell In [2]: still running after 5 s (the run's --timeout)"
    assert result.failed_cell == 3 and fake_kernel.replaced == 1
    assert list(result.files) == ["finance.ipynb"]  # as far as it got
    assert "status: failed" in result.log
    published = json.loads(result.files["finance.ipynb"])["cells"]
    assert published[2]["outputs"] == [  # the cell that stopped says so
        {"output_type": "error", "ename": "CellTimeoutError", "traceback": [],
         "evalue": "still running after 5 s (the run's --timeout): the notebook stopped in "
                   "this cell"}
    ]  # fmt: skip
    assert all(c["outputs"] == [] for i, c in enumerate(published) if i != 2)
    assert [c["execution_count"] for c in published] == [1, None, 2, None]


def test_a_dead_kernel_is_replaced(fake_kernel):
    fake_kernel.failure = DeadKernelError("gone", None, None)
    result = jobs.render_service(job())
    assert result.error == (
        "a cell: the kernel stopped without answering (out of memory, killed or crashed)"
    )
    assert result.failed_cell is None and fake_kernel.replaced == 1
    assert result.files == {}  # it died before the notebook started


def test_a_kernel_that_does_not_start_fails_the_job(fake_kernel):
    fake_kernel.failure = KernelError("the kernel did not start within 120 s")
    result = jobs.render_service(job())
    assert (result.ok, result.error) == (False, "the kernel did not start within 120 s")
    assert fake_kernel.replaced == 1
