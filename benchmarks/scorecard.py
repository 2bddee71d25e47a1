"""Benchmark: load + validate + rate for a council ten times the example's size.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/scorecard.py``). These machines are
shared and noisy, so every figure is compared with a baseline measured in the same run:

* baseline: ``pandas.read_csv`` of the same files as text (the floor for reading them);
* kpitools: ``kpitools.load`` + ``kpitools.rate`` (every measure, every quarter);
* the example council at 1x, to show how the work scales;
* the command line: ``kpitools scorecard --period latest`` against ``python -c "import
  kpitools.cli"`` in the same interpreter, so the difference is the command's own work.
"""

from __future__ import annotations

import csv
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import kpitools  # noqa: E402
from kpitools.contract import loading  # noqa: E402

EXAMPLE = ROOT / "data" / "example"
WORK = ROOT / "benchmarks" / ".work"
COPIES = 10


def scale_council(source: Path, target: Path, copies: int) -> None:
    """Write ``copies`` renamed copies of a council's data side by side into one folder."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        header = list(rows[0]) if rows else []
        out = []
        for k in range(copies):
            for row in rows:
                copy = dict(row)
                if copy.get("measure_id"):
                    copy["measure_id"] = f"{copy['measure_id']}_{k}"
                if copy.get("service"):
                    copy["service"] = f"{copy['service']} {k}"
                if copy.get("measures"):
                    copy["measures"] = " ".join(f"{m}_{k}" for m in copy["measures"].split())
                out.append(copy)
        with (target / path.name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(out)


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    work()  # warm caches and imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def read_text(folder: Path) -> None:
    for path in sorted(folder.glob("*.csv")):
        pd.read_csv(path, dtype=str, keep_default_na=False)


def rate(folder: Path) -> pd.DataFrame:
    # A cold load each time: the loader keeps the last parsed folders for a batch kernel's
    # next notebook, which would otherwise make every repeat after the first a copy.
    loading.clear_parsed()
    return kpitools.rate(kpitools.load(folder))


def paired_command_seconds(
    first: list[str], second: list[str], repeats: int
) -> tuple[float, float]:
    """Median wall times of two commands, run alternately so both see the same load."""
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(repeats + 1):
        for args, bucket in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True, stdin=subprocess.DEVNULL)
            if i:  # the first round warms the file cache
                bucket.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    big = WORK / f"council{COPIES}x"
    scale_council(EXAMPLE, big, COPIES)
    size = kpitools.load(big)
    rows = len(rate(big))
    print(
        f"council {COPIES}x: {len(size.measures)} measures, {len(size.services)} services, "
        f"{len(size.values)} values -> {rows} scorecard rows"
    )
    baseline = median_seconds(lambda: read_text(big), 7)
    work_big = median_seconds(lambda: rate(big), 7)
    work_small = median_seconds(lambda: rate(EXAMPLE), 7)
    print(f"baseline  read_csv of the {COPIES}x files : {baseline * 1000:8.1f} ms")
    print(f"kpitools  load+validate+rate {COPIES}x    : {work_big * 1000:8.1f} ms"
          f"   ratio to baseline {work_big / baseline:5.1f}x")  # fmt: skip
    print(f"kpitools  load+validate+rate 1x      : {work_small * 1000:8.1f} ms"
          f"   {COPIES}x/1x scaling {work_big / work_small:5.1f}x")  # fmt: skip

    python = sys.executable
    startup, command = paired_command_seconds(
        [python, "-c", "import kpitools.cli"],
        [python, "-m", "kpitools", "scorecard", "--data", str(EXAMPLE), "--period", "latest",
         "--format", "csv"],
        11,
    )  # fmt: skip
    print(f"python start-up + imports            : {startup * 1000:8.1f} ms")
    print(f"kpitools scorecard (example, latest) : {command * 1000:8.1f} ms"
          f"   own work {(command - startup) * 1000:6.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
