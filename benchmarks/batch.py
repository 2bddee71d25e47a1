"""Benchmark the quarterly batch (``make bench``): kpitools run against two baselines.

On a synthetic council of 30 services x 40 measures x 36 months it measures, in one run:

(a) the naive loop: per service, the ``papermill`` CLI, then ``jupyter nbconvert --no-input``
    (timed on a sample of services: it is slow; the figure is per deck);
(b) ``kpitools run --jobs 2`` for every service, whole process;
(c) the in-process floor: the library's own work for each deck and its HTML report (the
    council loaded and rated once beforehand, as the batch's warm kernels do), no notebooks;
(d) the same batch on a local Dask cluster of 1 and of 2 workers (throughput per worker);
(e) the board pack alone;
(f) a run of several councils in one command (``kpitools run-councils``: 3 councils of 10
    services, as many decks as (b)), with ``--jobs 2`` and on the 2-worker Dask cluster,
    per deck against the one-council run on the same workers.

It prints wall time per deck, the ratios b/a and b/c, peak memory per worker, the size of
an HTML report with plotly.js inline and with plotly.js once in the period's folder, and the
time of a rerun with nothing to do on the example council. The targets: b/a <= 0.03,
b <= 0.2 s per deck, c <= 0.06 s per deck, peak memory <= 300 MB per worker (kernel + worker
process), a rerun with nothing to do < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work"
sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic import make_council  # noqa: E402

QUARTER = "2023/24 Q4"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

FLOOR = r"""
import gc, itertools, sys, time
import nbformat
from nbformat.notebooknode import NotebookNode as Node
import kpitools
from kpitools.report import charts, fragments as show
from kpitools.report.deck import deck_bytes
from kpitools.report.export import export_html
from kpitools.report.plotly_js import PLACE, with_plotly_js

data, quarter, out = sys.argv[1], sys.argv[2], sys.argv[3]
dataset = kpitools.load(data, config=kpitools.load_config(None))
for _ in range(2):  # the second report rates the whole council, once (the first its own)
    kpitools.build_cpr(dataset, dataset.services[0], quarter)
# What is kept stays out of the collector's walks, as in the batch's kernels (the spawner
# freezes what it read and rated before it forks them).
gc.freeze()


NUMBERS = itertools.count()


def markdown(text):
    return nbformat.from_dict({"id": f"text-{next(NUMBERS)}", "cell_type": "markdown",
                               "metadata": {}, "source": text})


def shown(value):
    # A cell as the batch's kernel returns it (kpitools.batch.shell): an output whose data
    # and metadata are nbformat's mappings, their contents (a chart's figure) as they came.
    # The notebook is checked once, as a whole, by the exporter (nbformat's constructors,
    # new_markdown_cell and new_notebook too, would check every cell and output on its own).
    bundle = value._repr_mimebundle_() if hasattr(value, "_repr_mimebundle_") else {
        "text/html": str(value), "text/plain": ""}
    output = Node(output_type="display_data", data=Node(bundle), metadata=Node())
    return Node(id=f"shown-{next(NUMBERS)}", cell_type="code", execution_count=None,
                metadata=Node(), outputs=[output], source="")


started = time.perf_counter()
for service in dataset.services:
    report = kpitools.build_cpr(dataset, service, quarter)
    open(f"{out}/{report.slug}.pptx", "wb").write(deck_bytes(report))
    cells = [shown(show.title(report)), markdown("## 1. At a glance"),
             shown(charts.rag_counts_chart(report)), shown(show.summary(report)),
             markdown("## 2. What's good"), shown(show.whats_good(report)),
             markdown("## 3. Measures needing attention"),
             shown(show.exceptions(report))]
    cells += [shown(charts.trend_chart(report, line)) for line in report.exceptions]
    cells += [markdown("## 4. Performance improvement plan"),
              shown(show.improvement_plan(report)), markdown("## Full scorecard"),
              shown(show.scorecard(report)), shown(show.data_notes(report))]
    notebook = nbformat.from_dict({"cells": cells, "metadata": {}, "nbformat": 4,
                                   "nbformat_minor": 5})
    # As the batch does: the page built with a place for plotly.js, which goes in as bytes;
    # the exporter checks the notebook it makes the page of (once, as a whole).
    page = export_html(notebook, title=report.page_title, footer=report.footer,
                       plotly_js_text=PLACE)
    open(f"{out}/{report.slug}.html", "wb").write(with_plotly_js(page.encode("utf-8")))
print(time.perf_counter() - started)
"""


def timed(args: list[str], **kw: object) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=ENV, stdin=subprocess.DEVNULL,
                   **kw)  # type: ignore[arg-type]  # fmt: skip
    return time.perf_counter() - started


def naive(data: Path, services: list[str], out: Path) -> float:
    """(a) papermill CLI + jupyter nbconvert CLI per service; seconds per deck."""
    out.mkdir(parents=True, exist_ok=True)
    total = 0.0
    for service in services:
        executed = out / f"{service.replace(' ', '_')}.ipynb"
        total += timed([
            str(BIN / "papermill"), str(ROOT / "notebooks" / "cpr.ipynb"), str(executed),
            "-p", "data_dir", str(data), "-p", "service", service, "-p", "quarter", QUARTER,
            "-p", "output_dir", str(out), "-p", "council_config", "", "-k", "python3",
            "--no-progress-bar",
        ])  # fmt: skip
        total += timed([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input",
                        str(executed)])  # fmt: skip
    return total / len(services)


def kpitools_run(data: Path, out: Path, *extra: str) -> tuple[float, dict]:
    """(b) kpitools run for every service; wall seconds and the run's timings (with the batch
    process's own peak memory in MB, ``batch_peak_mb``, read as it ends)."""
    code = (  # the command, its peak resident memory written down as it ends (it succeeds)
        "import atexit, runpy, sys\n"
        "def peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            open(record, 'w').write(line.split()[1])\n"
        "atexit.register(peak)\n"
        "record, sys.argv = sys.argv[1], ['kpitools', *sys.argv[2:]]\n"
        "runpy.run_module('kpitools', run_name='__main__')\n"
    )
    record = out.parent / f".{out.name}-batch-peak"
    seconds = timed([sys.executable, "-c", code, str(record), "run", "--data", str(data),
                     "--quarter", QUARTER, "--out", str(out), "--force", "--no-pack",
                     *extra])  # fmt: skip
    timings = json.loads((out / "2023-24-q4" / "timings.json").read_text())
    if Path("/proc/self/status").exists() and record.exists():
        timings["batch_peak_mb"] = int(record.read_text() or 0) / 1024
    return seconds, timings


def pack_seconds(data: Path, out: Path) -> float:
    """(e) the board pack of every service alone (deck and HTML page, no PDF)."""
    return timed([sys.executable, "-m", "kpitools", "pack", "--data", str(data), "--period",
                  QUARTER, "--out", str(out), "--no-pdf"])  # fmt: skip


def floor(data: Path, out: Path) -> float:
    """(c) the in-process floor: seconds for every deck and page, the council rated first."""
    out.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([sys.executable, "-c", FLOOR, str(data), QUARTER, str(out)],
                            check=True, capture_output=True, text=True, env=ENV,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    return float(result.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def dask_cluster(workers: int) -> Iterator[str]:
    """A local Dask scheduler with ``workers`` one-thread worker processes, on loopback."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    quiet = {"env": ENV, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                                   "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                   "--no-dashboard"], **quiet)]  # type: ignore[call-overload]  # fmt: skip
    time.sleep(1)
    processes += [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                                    "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                                   **quiet)  # type: ignore[call-overload]
                  for _ in range(workers)]  # fmt: skip
    try:
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def on_dask(
    data: Path, out: Path, workers: int, councils: Path | None = None
) -> tuple[float, float]:
    """(d) the batch on a local Dask cluster: wall seconds (the cluster started beforehand);
    and (f) with ``councils``, the run of several councils on the same cluster (else 0)."""
    with dask_cluster(workers) as address:
        kpitools_run(data, out, "--scheduler", address)  # warms the workers' kernels
        seconds, _ = kpitools_run(data, out, "--scheduler", address)
        many = councils_run(councils, out / "councils", "--scheduler", address) if councils else 0.0
    return seconds, many


def make_councils(folder: Path, count: int, services: int, measures: int, months: int) -> Path:
    """(f) ``count`` synthetic councils (each its own data) and the councils file naming them."""
    lines = ["councils:"]
    for number in range(1, count + 1):
        data = make_council(folder / f"council-{number}", services, measures, months,
                            seed=100 + number)  # fmt: skip
        lines += [f"  - name: Council {number}", f"    data: {data}"]
    path = folder / "councils.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def councils_run(councils: Path, out: Path, *extra: str) -> float:
    """(f) kpitools run-councils for every council, whole process: wall seconds."""
    return timed([sys.executable, "-m", "kpitools", "run-councils", str(councils), "--period",
                  QUARTER, "--out", str(out), "--force", "--no-pack", *extra])  # fmt: skip


def html_sizes(data: Path, out: Path) -> tuple[int, int]:
    """Bytes of one service's HTML report with plotly.js inline, and loading it from the
    period's folder."""
    sizes = []
    for mode in ("inline", "folder"):
        kpitools_run(data, out, "--service", "Service 01", "--plotly-js", mode)
        sizes.append((out / "2023-24-q4" / "service-01" / "service-01.html").stat().st_size)
    return sizes[0], sizes[1]


def rerun_with_nothing_to_do(out: Path) -> float:
    example = ROOT / "data" / "example"
    config = ROOT / "params" / "council.yaml"
    args = [sys.executable, "-m", "kpitools", "run", "--data", str(example), "--quarter",
            "latest", "--config", str(config), "--out", str(out)]  # fmt: skip
    timed(args)  # builds everything
    timed(args)  # skips everything
    return min(timed(args) for _ in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=30)
    parser.add_argument("--measures", type=int, default=40)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--naive-sample", type=int, default=4,
                        help="services timed with the naive CLI loop")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-dask", action="store_true", help="leave out the Dask runs")
    args = parser.parse_args()

    shutil.rmtree(WORK / "batch", ignore_errors=True)
    data = make_council(WORK / "batch" / "council", args.services, args.measures, args.months)
    decks = args.services
    print(f"synthetic council: {args.services} services x {args.measures} measures x "
          f"{args.months} months; {os.cpu_count()} cores")  # fmt: skip

    sample = [f"Service {i + 1:02d}" for i in range(min(args.naive_sample, decks))]
    a = naive(data, sample, WORK / "batch" / "naive")
    b_total, timings = kpitools_run(data, WORK / "batch" / "run", "--jobs", str(args.jobs))
    c_total = floor(data, WORK / "batch" / "floor")
    b, c = b_total / decks, c_total / decks
    manifest = json.loads((WORK / "batch" / "run" / "2023-24-q4" / "manifest.json").read_text())
    statuses = {s["status"] for s in manifest["services"].values()}
    peaks = [s.get("peak_rss_mb", {}) for s in timings["services"].values()]
    # A local worker is one process, its kernel (the batch process looks after every kernel
    # with a thread); a separate worker process (a Dask worker's) would be counted too.
    worker_peak = max(p.get("worker", 0) for p in peaks)
    kernel_peak = max(p.get("kernel", 0) for p in peaks)
    batch_peak = float(timings.get("batch_peak_mb", 0))
    skip = rerun_with_nothing_to_do(WORK / "batch" / "example")
    e_total = pack_seconds(data, WORK / "batch" / "run")
    inline, folder = html_sizes(data, WORK / "batch" / "sizes")

    print(f"(a) naive papermill + nbconvert CLIs: {a:7.2f} s per deck (sample of {len(sample)})")
    print(f"(b) kpitools run --jobs {args.jobs}:           {b:7.3f} s per deck "
          f"({b_total:.1f} s for {decks}, whole process; statuses {sorted(statuses)})"
          "   (target <= 0.2 s)")  # fmt: skip
    print(f"(c) in-process floor:                 {c:7.3f} s per deck ({c_total:.1f} s for "
          f"{decks}; the council rated once beforehand)   (target <= 0.06 s)")  # fmt: skip
    print(f"b/a = {b / a:.3f}   (target <= 0.03)")
    print(f"b/c = {b / c:.2f}")
    print(f"peak RSS per worker: kernel {kernel_peak:.0f} MB + worker process {worker_peak:.0f} MB"
          f" = {kernel_peak + worker_peak:.0f} MB   (target <= 300 MB; a local worker is its "
          f"kernel; the batch process {batch_peak:.0f} MB, one for all workers)")  # fmt: skip
    print(f"rerun with nothing to do (example council): {skip:.2f} s   (target < 1 s)")
    print(f"(e) board pack of {decks} services (deck + HTML, no PDF): {e_total:.1f} s "
          f"({e_total / decks:.2f} s per service; b/a and b/c leave it out)")  # fmt: skip
    shared = (inline - folder) / 1e6
    print(f"HTML report, plotly.js inline: {inline / 1e6:.2f} MB; --plotly-js folder: "
          f"{folder / 1e3:.0f} kB (+ {shared:.2f} MB once per period)")  # fmt: skip
    councils = make_councils(WORK / "batch" / "councils", 3, max(1, args.services // 3),
                             args.measures, args.months)  # fmt: skip
    many_decks = 3 * max(1, args.services // 3)
    many = councils_run(councils, WORK / "batch" / "councils-out", "--jobs", str(args.jobs))
    per_deck = many / many_decks
    print(f"(f) run-councils --jobs {args.jobs}, 3 councils: {per_deck:.3f} s per deck "
          f"({many:.1f} s for {many_decks}; {per_deck / b:.2f}x one council's (b))")  # fmt: skip
    if args.no_dask:
        return
    one, _ = on_dask(data, WORK / "batch" / "dask1", 1)
    two, many_dask = on_dask(data, WORK / "batch" / "dask2", 2, councils)
    print(f"(d) Dask, 1 worker:  {one / decks:.3f} s per deck, {decks / one:5.2f} decks/s per "
          "worker")  # fmt: skip
    print(f"(d) Dask, 2 workers: {two / decks:.3f} s per deck, {decks / two / 2:5.2f} decks/s per "
          f"worker (scaling {one / two:.2f}x of 2x)")  # fmt: skip
    per_deck = many_dask / many_decks
    print(f"(f) run-councils on 2 Dask workers, 3 councils: {per_deck:.3f} s per deck "
          f"({many_dask:.1f} s for {many_decks}; {per_deck / (two / decks):.2f}x one council's "
          "on the same cluster)")  # fmt: skip


if __name__ == "__main__":
    main()
