"""One service's reports, built by a batch worker: notebook in, file contents out.

:func:`render_service` runs the CPR notebook through papermill in the worker's warm kernel
and returns the deck, the HTML report, the executed notebook, the report's summary and a log
as bytes. The report is built once, in the kernel: the HTML report's title and footer and
everything the batch shows afterwards come from the summary the notebook wrote. It writes
nothing the caller sees: the process that owns the output folder writes the files, so a
worker on another machine (a Dask cluster) needs no shared disk. Inputs that come as a
:class:`Bundle` are unpacked once per worker into a private folder.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpitools.batch.scratch import PREFIX as SCRATCH_PREFIX
from kpitools.batch.scratch import scratch_folder, sweep

if TYPE_CHECKING:
    from kpitools.report.summary import ReportSummary

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Bundle:
    """Input files carried to a worker that cannot see the client's disk.

    Attributes:
        files: relative path -> contents (``data/values.csv``, ``params/council.yaml``, ...).
        data_dir: the data folder, relative to the unpacked bundle.
        config: the council configuration, relative to the bundle ('' for defaults).
        notebook: the notebook, relative to the bundle.
    """

    files: dict[str, bytes]
    data_dir: str
    config: str
    notebook: str

    @cached_property
    def digest(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name] + b"\0")
        return digest.hexdigest()[:16]


def job_key(council: str, slug: str) -> str:
    """A service's name among all the jobs of one run: its slug, or council/slug in a run of
    several councils."""
    return f"{council}/{slug}" if council else slug


@dataclass(frozen=True)
class ServiceJob:
    """Everything a worker needs to build one service's reports."""

    service: str
    slug: str
    quarter: str
    report_date: str
    run_id: str
    data_dir: str
    config: str
    notebook: str
    timeout: int | None = None
    plotly_js: str = "inline"
    """``inline`` (the page holds plotly.js) or ``folder`` (it loads ``../plotly.min.js``)."""
    bundle: Bundle | None = None
    shown_data_dir: str = ""
    shown_config: str = ""
    shown_notebook: str = ""
    """How the published notebook names the data folder and the configuration (relative to
    the folder it is published in) and the notebook it was made from."""
    council: str = ""
    """The council's name in a run of several councils ('' in a run of one)."""

    @property
    def key(self) -> str:
        """The job's name among all the jobs of one run (its slug, or council/slug: a slug
        has no '/', so the key is unambiguous whatever the council's name)."""
        return job_key(self.council, self.slug)

    def parameters(self, data_dir: str, config: str, output_dir: str) -> dict[str, str]:
        """The notebook's parameters, with these paths."""
        return {
            "data_dir": data_dir,
            "service": self.service,
            "quarter": self.quarter,
            "output_dir": output_dir,
            "council_config": config,
            "report_date": self.report_date,
            "run_id": self.run_id,
        }

    def published(self, nb: dict[str, Any]) -> bytes:
        """An executed notebook (read from its file, or as it ran) as it is published: no
        worker's paths, no run times. It is changed on the way."""
        from kpitools.batch.portable import portable_notebook

        shown = self.parameters(self.shown_data_dir, self.shown_config, ".")
        return portable_notebook(nb, shown, self.shown_notebook, f"{self.slug}.ipynb")


@dataclass
class ServiceResult:
    """What came back: file contents by name, or why it failed."""

    service: str
    slug: str
    ok: bool = False
    files: dict[str, bytes] = field(default_factory=dict)
    error: str = ""
    failed_cell: int | None = None
    log: str = ""
    seconds: float = 0.0
    worker: str = ""
    peak_rss_mb: dict[str, float] = field(default_factory=dict)


_KERNEL: Any = None
_UNPACKED: dict[str, Path] = {}


def _kernel(cwd: Path) -> Any:
    """This worker process's warm kernel, started on first use and shut down at exit."""
    global _KERNEL
    if _KERNEL is None:
        from kpitools.batch.kernels import WarmKernel

        _KERNEL = WarmKernel(cwd=cwd)
        atexit.register(_KERNEL.shutdown)
    return _KERNEL


def _unpack(bundle: Bundle) -> Path:
    """Write a bundle's files once per worker; returns the folder."""
    key = bundle.digest
    if key not in _UNPACKED:
        if not _UNPACKED:
            sweep()  # what workers killed on this machine left (their process is gone)
        root = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-inputs-{key}-"))
        atexit.register(shutil.rmtree, root, True)  # gone when the worker ends
        for name, blob in bundle.files.items():
            target = (root / name).resolve()
            if root.resolve() not in target.parents:
                raise ValueError(f"bundle path {name!r} leaves the bundle")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
        _UNPACKED[key] = root
    return _UNPACKED[key]


def _resolve(job: ServiceJob) -> tuple[str, str, str]:
    if job.bundle is None:
        return job.data_dir, job.config, job.notebook
    root = _unpack(job.bundle)
    config = str(root / job.bundle.config) if job.bundle.config else ""
    return str(root / job.bundle.data_dir), config, str(root / job.bundle.notebook)


def render_service(job: ServiceJob, kernel: Any = None) -> ServiceResult:
    """Run the CPR notebook for one service in a kernel and collect its files.

    ``kernel`` is the worker's (:class:`~kpitools.batch.kernels.WarmKernel`); without one,
    this process's own, started on first use (a Dask worker's).

    Never raises for a notebook's failure: a failing cell, a kernel that dies or a cell
    running past ``job.timeout`` seconds come back as a failed result naming the cell, with
    the executed notebook (as far as it got) for debugging. A kernel that died, hung or
    failed outside a cell is replaced: the next notebook gets a new one.
    """
    from kpitools.batch.kernels import CellTimeoutError, KernelError, KernelFailure

    started = time.perf_counter()
    log = [f"service: {job.service}", f"quarter: {job.quarter}", f"run id: {job.run_id}"]
    data_dir, config, notebook = _resolve(job)
    own = kernel is None  # this process is the worker: its memory counts as the worker's
    if kernel is None:
        kernel = _kernel(Path(notebook).parent)
    # Named for this process, so a folder a killed batch or worker leaves is swept, in the
    # batch's scratch folder where there is one (batch/scratch.py).
    prefix = f"{SCRATCH_PREFIX}{os.getpid()}-{job.slug}-"
    with tempfile.TemporaryDirectory(
        prefix=prefix, dir=scratch_folder(), ignore_cleanup_errors=True
    ) as scratch:
        request = (replace(job, bundle=None), data_dir, config, notebook, scratch)
        ran_in = ""
        try:
            kernel.ready()
            ran_in = f"pid {os.getpid()}" if own else f"kernel pid {kernel.pid}"
            answer: tuple[ServiceResult, bool] = kernel.render(request, job.timeout)
            result, fresh = answer
            if fresh:
                kernel.replace()
            page = f"{job.slug}.html"
            if result.ok and job.plotly_js != "folder" and page in result.files:
                from kpitools.report.plotly_js import with_plotly_js

                try:
                    result.files[page] = with_plotly_js(result.files[page])
                except ValueError as err:  # not a page the kernel's exporter built
                    result.ok, result.error = False, f"{page}: {err}"
                    result.log += f"\nstatus: failed\n{result.error}"
                    result.files = {}
        except KernelFailure as err:
            kernel.replace()  # its state is unknown: the next notebook gets a new kernel
            result = ServiceResult(service=job.service, slug=job.slug, failed_cell=err.cell)
            # In words a performance team reads (the exception's name stays in the notebook).
            what = (
                f"still running after {job.timeout} s (the run's --timeout)"
                if isinstance(err, CellTimeoutError)
                else "the kernel stopped without answering (out of memory, killed or crashed)"
            )
            cells = err.notebook["cells"] if err.notebook is not None else []
            place = err.cell or 0  # 1-based; 0: not known
            cell = cells[place - 1] if 0 < place <= len(cells) else None
            if cell is not None and not cell.get("execution_count"):
                # The number the kernel gave the cell as it started (Jupyter shows it beside
                # the cell): one more than the last cell's before it.
                before = [c.get("execution_count") or 0 for c in cells[: place - 1]]
                cell["execution_count"] = max(before, default=0) + 1
            count = None if cell is None else cell["execution_count"]
            where = _cell_name(place, count) if place else "a cell"
            result.error = f"{where}: {what}"
            result.log = "\n".join(["status: failed", result.error])
            if err.notebook is not None:
                if cell is not None:  # the cell says what stopped it, where the analyst looks
                    cell.setdefault("outputs", []).append(
                        {"output_type": "error", "ename": type(err).__name__,
                         "evalue": f"{what}: the notebook stopped in this cell",
                         "traceback": []}
                    )  # fmt: skip
                result.files = {f"{job.slug}.ipynb": job.published(err.notebook)}
        except KernelError as err:
            kernel.replace()
            result = ServiceResult(service=job.service, slug=job.slug, error=str(err))
            result.log = "\n".join(["status: failed", result.error])
    result.worker = ran_in or f"pid {os.getpid()}"
    result.seconds = time.perf_counter() - started
    result.peak_rss_mb = _peak_memory(kernel, own)
    result.log = "\n".join([*log, result.log]) + "\n"
    return result


def _cell_name(position: int, count: object) -> str:
    """A cell as the analyst finds it in the notebook kept for them: by the number Jupyter
    shows beside it, papermill's banner and the traceback name (``cell In [7]``); by its
    place in the notebook as run when it has none (``cell 8``)."""
    return f"cell In [{count}]" if isinstance(count, int) and count > 0 else f"cell {position}"


def build_reports(
    job: ServiceJob,
    data_dir: str,
    config: str,
    notebook: str,
    scratch: str,
    *,
    shell: Any,
    on_cell: Callable[[int], None] | None = None,
    on_outputs: Callable[[int, Any], None] | None = None,
    on_notebook: Callable[[Any], None] | None = None,
) -> tuple[ServiceResult, bool]:
    """In the kernel: run the notebook for one service, build its HTML report and published
    notebook, and return its files, with whether the kernel should be replaced (an error
    outside the notebook's cells leaves its state unknown).

    The report is built once, in the notebook: the HTML report's title and footer come from
    the summary the notebook wrote. ``scratch`` is the notebook's output folder.
    """
    from papermill.exceptions import PapermillExecutionError

    from kpitools.core.naming import PLOTLY_FILE
    from kpitools.report.export import export_html
    from kpitools.report.plotly_js import PLACE
    from kpitools.report.summary import SUMMARY_FILE

    result = ServiceResult(service=job.service, slug=job.slug)
    log: list[str] = []
    out = Path(scratch)
    executed = out / f"{job.slug}.ipynb"
    fresh = False
    nb = None
    try:
        nb = _execute(notebook, executed, job.parameters(data_dir, config, str(out)), shell,
                      on_cell=on_cell, on_outputs=on_outputs, on_notebook=on_notebook)  # fmt: skip
        summary_blob, summary = _summary_of(out / SUMMARY_FILE, job)
        page = export_html(
            nb,
            title=summary.page_title,
            footer=summary.footer,
            plotly_src=f"../{PLOTLY_FILE}" if job.plotly_js == "folder" else "",
            plotly_js_text=PLACE,  # plotly.js is put in by the worker (render_service)
        )
        decks = sorted(out.glob("*.pptx"))
        if len(decks) != 1:
            raise NotebookOutputError(f"the notebook wrote {len(decks)} decks, not one")
        result.files = {
            f"{job.slug}.pptx": decks[0].read_bytes(),
            f"{job.slug}.html": page.encode("utf-8"),
            f"{job.slug}.ipynb": job.published(nb),
            SUMMARY_FILE: summary_blob,
        }
        result.ok = True
        log.append("status: ok")
    except PapermillExecutionError as err:
        result.failed_cell = err.cell_index + 1
        where = _cell_name(err.cell_index + 1, err.exec_count)
        result.error = f"{where}: {err.ename}: {err.evalue}"
        log += ["status: failed", result.error, *(ANSI.sub("", t) for t in err.traceback)]
    except NotebookOutputError as err:
        result.error = str(err)
        log += ["status: failed", result.error]
    except Exception as err:
        fresh = True
        result.error = f"{type(err).__name__}: {err}"
        log += ["status: failed", ANSI.sub("", traceback.format_exc())]
    if not result.ok and executed.exists():  # papermill wrote it with its error marks
        result.files = {f"{job.slug}.ipynb": job.published(json.loads(executed.read_bytes()))}
    elif not result.ok and nb is not None:  # it ran, but did not write what a report needs
        result.files = {f"{job.slug}.ipynb": job.published(nb)}
    result.log = "\n".join(log)
    return result, fresh


def _execute(
    notebook: str,
    executed: Path,
    parameters: dict[str, str],
    shell: Any,
    *,
    on_cell: Callable[[int], None] | None = None,
    on_outputs: Callable[[int, Any], None] | None = None,
    on_notebook: Callable[[Any], None] | None = None,
) -> Any:
    """Run the notebook in the kernel's shell, as ``papermill.execute_notebook`` does, and
    return the executed notebook without writing it.

    papermill's own steps, in its order: read, inject the parameters, record them in the
    metadata, run every cell (in the notebook's folder, with the kernel's engine), and on a
    failed cell write the notebook (``executed``) with papermill's error marks and raise. A
    notebook that ran is not written: the batch publishes it from memory
    (:func:`portable_notebook`), sparing a pass through nbformat's writer - a deep copy of
    every output and a check of the schema - that costs more than most of its cells.
    """
    from papermill.engines import papermill_engines
    from papermill.execute import (
        prepare_notebook_metadata,
        raise_for_execution_errors,
        remove_error_markers,
    )
    from papermill.iorw import load_notebook_node, local_file_io_cwd
    from papermill.parameterize import parameterize_notebook
    from papermill.utils import chdir

    from kpitools.batch.shell import ENGINE

    with local_file_io_cwd():
        nb = load_notebook_node(notebook)
        nb = parameterize_notebook(nb, parameters, kernel_name="python3", engine_name=ENGINE)
        nb = prepare_notebook_metadata(nb, notebook, str(executed))
        nb = remove_error_markers(nb)
        if on_notebook is not None:
            on_notebook(nb)
        with chdir(str(Path(notebook).parent)):
            nb = papermill_engines.execute_notebook_with_engine(
                ENGINE,
                nb,
                kernel_name="python3",
                input_path=notebook,
                output_path=None,
                progress_bar=False,
                log_output=False,
                shell=shell,
                on_cell=on_cell,
                on_outputs=on_outputs,
            )
        raise_for_execution_errors(nb, str(executed))
    return nb


class NotebookOutputError(Exception):
    """The notebook ran but did not write what a report needs."""


def _summary_of(path: Path, job: ServiceJob) -> tuple[bytes, ReportSummary]:
    """The summary the notebook wrote, checked to be this job's report."""
    from kpitools.report.summary import ReportSummary, SummaryError

    if not path.is_file():
        raise NotebookOutputError(
            f"the notebook wrote no {path.name}: its last cell must call "
            f'kpitools.write_summary(report, f"{{output_dir}}/{path.name}")'
        )
    blob = path.read_bytes()
    try:
        summary = ReportSummary.from_json(blob)
    except SummaryError as err:
        raise NotebookOutputError(f"{path.name}: {err}") from None
    if (summary.service, summary.quarter, summary.run_id) != (job.service, job.quarter, job.run_id):
        raise NotebookOutputError(
            f"the notebook built {summary.service} {summary.quarter} (run {summary.run_id}), "
            f"not {job.service} {job.quarter} (run {job.run_id})"
        )
    return blob, summary


def _peak_memory(kernel: Any, own: bool) -> dict[str, float]:
    """Peak resident memory (MB) of the kernel and, where this process is the worker (not the
    batch process looking after kernels), of this process, where known.

    Read from ``/proc`` (``VmHWM``): the pages the process has had in memory at most,
    those it shares included (a kernel forked from the spawner counts the spawner's pages
    it still shares); the ``getrusage`` figure would also count the high-water mark of the
    process this one was forked from, before the fork.
    """
    peaks: dict[str, float] = {}
    pid = getattr(kernel, "pid", None)
    peak = _high_water_mb(pid) if pid else None
    if peak is not None:
        peaks["kernel"] = peak
    if own:
        peak = _high_water_mb("self")
        if peak is None:  # no /proc (not Linux)
            import resource

            peak = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        peaks["worker"] = peak
    return peaks


def _high_water_mb(pid: int | str) -> float | None:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None
