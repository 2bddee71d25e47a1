"""Benchmark the quarterly batch (``make bench``): kpitools run against two baselines.

On a synthetic council of 30 services x 40 measures x 36 months it measures, in one run:

(a) the naive loop: per service, the ``papermill`` CLI, then ``jupyter nbconvert --no-input``
    (timed on a sample of services: it is slow; the figure is per deck);
(b) ``kpitools run --jobs 2`` for every service;
(c) the in-process floor: one process, sequential, library functions building the same decks
    and HTML without notebooks, imports included.

It prints wall time per deck, the ratios b/a and b/c, peak memory per worker, and the time
of a rerun with nothing to do on the example council. The bar: b/a <= 0.15, b/c <= 4,
peak RSS per worker <= 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work"
sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic import make_council  # noqa: E402

QUARTER = "2023/24 Q4"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

FLOOR = r"""
import sys, time
started = time.perf_counter()
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
import kpitools
from kpitools.report import charts, fragments as show
from kpitools.report.deck import deck_bytes
from kpitools.report.export import export_html

data, quarter, out = sys.argv[1], sys.argv[2], sys.argv[3]
dataset = kpitools.load(data, config=kpitools.load_config(None))


def shown(value):
    bundle = value._repr_mimebundle_() if hasattr(value, "_repr_mimebundle_") else {
        "text/html": str(value), "text/plain": ""}
    return new_code_cell(outputs=[new_output("display_data", data=bundle)])


for service in dataset.services:
    report = kpitools.build_cpr(dataset, service, quarter)
    open(f"{out}/{report.slug}.pptx", "wb").write(deck_bytes(report))
    cells = [shown(show.title(report)), new_markdown_cell("## 1. At a glance"),
             shown(charts.rag_counts_chart(report)), shown(show.summary(report)),
             new_markdown_cell("## 2. What's good"), shown(show.whats_good(report)),
             new_markdown_cell("## 3. Measures needing attention"),
             shown(show.exceptions(report))]
    cells += [shown(charts.trend_chart(report, line)) for line in report.exceptions]
    cells += [new_markdown_cell("## 4. Performance improvement plan"),
              shown(show.improvement_plan(report)), new_markdown_cell("## Full scorecard"),
              shown(show.scorecard(report)), shown(show.data_notes(report))]
    page = export_html(new_notebook(cells=cells), title=report.page_title, footer=report.footer)
    open(f"{out}/{report.slug}.html", "w", encoding="utf-8").write(page)
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


def kpitools_run(data: Path, out: Path, jobs: int) -> tuple[float, dict]:
    """(b) kpitools run --jobs N for every service; wall seconds and the run's timings."""
    seconds = timed(
        [
            sys.executable,
            "-m",
            "kpitools",
            "run",
            "--data",
            str(data),
            "--quarter",
            QUARTER,
            "--out",
            str(out),
            "--jobs",
            str(jobs),
            "--force",
            "--no-pack",
        ]
    )  # fmt: skip  (the board pack is timed apart: pack_seconds)
    timings = json.loads((out / "2023-24-q4" / "timings.json").read_text())
    return seconds, timings


def pack_seconds(data: Path, out: Path) -> float:
    """(e) the board pack of every service alone (deck and HTML page, no PDF)."""
    return timed([sys.executable, "-m", "kpitools", "pack", "--data", str(data), "--period",
                  QUARTER, "--out", str(out), "--no-pdf"])  # fmt: skip


def floor(data: Path, out: Path) -> float:
    """(c) the in-process floor: whole process wall time, imports included."""
    out.mkdir(parents=True, exist_ok=True)
    return timed([sys.executable, "-c", FLOOR, str(data), QUARTER, str(out)])


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
    args = parser.parse_args()

    shutil.rmtree(WORK / "batch", ignore_errors=True)
    data = make_council(WORK / "batch" / "council", args.services, args.measures, args.months)
    decks = args.services
    print(f"synthetic council: {args.services} services x {args.measures} measures x "
          f"{args.months} months; {os.cpu_count()} cores")  # fmt: skip

    sample = [f"Service {i + 1:02d}" for i in range(min(args.naive_sample, decks))]
    a = naive(data, sample, WORK / "batch" / "naive")
    b_total, timings = kpitools_run(data, WORK / "batch" / "run", args.jobs)
    c_total = floor(data, WORK / "batch" / "floor")
    b, c = b_total / decks, c_total / decks
    manifest = json.loads((WORK / "batch" / "run" / "2023-24-q4" / "manifest.json").read_text())
    statuses = {s["status"] for s in manifest["services"].values()}
    peaks = [s.get("peak_rss_mb", {}) for s in timings["services"].values()]
    worker_peak = max(p.get("worker", 0) for p in peaks)
    kernel_peak = max(p.get("kernel", 0) for p in peaks)
    skip = rerun_with_nothing_to_do(WORK / "batch" / "example")
    e_total = pack_seconds(data, WORK / "batch" / "run")

    print(f"(a) naive papermill + nbconvert CLIs: {a:7.2f} s per deck (sample of {len(sample)})")
    print(f"(b) kpitools run --jobs {args.jobs}:           {b:7.2f} s per deck "
          f"({b_total:.1f} s for {decks}; statuses {sorted(statuses)})")  # fmt: skip
    print(
        f"(c) in-process floor:                 {c:7.2f} s per deck ({c_total:.1f} s for {decks})"
    )
    print(f"b/a = {b / a:.3f}   (bar <= 0.15)")
    print(f"b/c = {b / c:.2f}    (bar <= 4)")
    print(f"peak RSS per worker: kernel {kernel_peak:.0f} MB + worker process {worker_peak:.0f} MB"
          f" = {kernel_peak + worker_peak:.0f} MB   (bar <= 500 MB)")  # fmt: skip
    print(f"rerun with nothing to do (example council): {skip:.2f} s   (bar < 2 s)")
    print(f"(e) board pack of {decks} services (deck + HTML, no PDF): {e_total:.1f} s "
          f"({e_total / decks:.2f} s per service; b/a and b/c leave it out)")  # fmt: skip


if __name__ == "__main__":
    main()
