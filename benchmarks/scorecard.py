"""Benchmark: load + validate + rate for a council ten times the example's size.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/scorecard.py``). These machines are
shared and noisy, so every figure is compared with a baseline measured in the same run:

* baseline: ``pandas.read_csv`` of the same files as text (the floor for reading them);
* kpitools: ``kpitools.load`` + ``kpitools.rate`` (every measure, every quarter);
* the example council at 1x, to show how the work scales;
* the command line: ``kpitools scorecard --period latest`` against a process that imports
  what the command imports (the command line, the loader, the scorecard) in the same
  interpreter, so the difference is the command's own work;
* a million monthly values (250 services x 40 measures x 100 months, a shared service's or a
  national body's scale): ``kpitools.load`` + ``kpitools.rate`` as a whole process against a
  whole process that only reads the same files with ``pandas.read_csv``, with the peak
  memory of each (the target: at most 10x the bare read, within 1 GB); and the
  ``kpitools scorecard`` command writing its 340,000 rows as CSV. Medians of three rounds,
  the three processes taking turns. ``--no-million`` leaves it out.
"""

from __future__ import annotations

import argparse
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


READ_ONLY = """
import sys, resource
from pathlib import Path
import pandas as pd
for path in sorted(Path(sys.argv[1]).glob("*.csv")):
    pd.read_csv(path, dtype=str, keep_default_na=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)
"""

LOAD_AND_RATE = """
import sys, resource
import kpitools
kpitools.rate(kpitools.load(sys.argv[1]))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)
"""

SCORECARD = """
import atexit, sys, runpy, resource
def peak():  # as the command leaves (it ends the process itself once it has succeeded)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)
    sys.stderr.flush()
atexit.register(peak)
sys.argv = ["kpitools", "scorecard", "--data", sys.argv[1], "--format", "csv",
            "--output", sys.argv[2]]
runpy.run_module("kpitools", run_name="__main__")
"""


def whole_process(script: str, *args: str) -> tuple[float, float]:
    """Wall seconds and peak resident MB of ``python -c script args``."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, *args], check=True, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - start, float(done.stderr.strip().splitlines()[-1])


def million() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synthetic import make_council

    folder = make_council(WORK / "million", services=250, measures=40, months=100)
    output = WORK / "million-scorecard.csv"
    whole_process(READ_ONLY, str(folder))  # warms the file cache
    rounds = [
        (whole_process(READ_ONLY, str(folder)), whole_process(LOAD_AND_RATE, str(folder)),
         whole_process(SCORECARD, str(folder), str(output)))
        for _ in range(3)
    ]  # fmt: skip
    (read_seconds, read_mb), (seconds, peak), (command, command_peak) = (
        (statistics.median(r[k][0] for r in rounds), max(r[k][1] for r in rounds)) for k in range(3)
    )
    print(f"1,000,000 values: read_csv only {read_seconds:6.1f} s, {read_mb:5.0f} MB peak")
    print(f"1,000,000 values: load+validate+rate {seconds:6.1f} s, {peak:5.0f} MB peak   "
          f"ratio {seconds / read_seconds:5.1f}x   (target <= 10x, <= 1 GB)")  # fmt: skip
    print(f"1,000,000 values: kpitools scorecard to CSV {command:6.1f} s, {command_peak:5.0f} MB "
          f"peak   ratio {command / read_seconds:5.1f}x   (340,000 rows written)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-million", action="store_true", help="leave out 1,000,000 values")
    args = parser.parse_args()
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
        [python, "-c", "import kpitools.cli, kpitools.contract.loading, kpitools.core.scorecard"],
        [python, "-m", "kpitools", "scorecard", "--data", str(EXAMPLE), "--period", "latest",
         "--format", "csv"],
        11,
    )  # fmt: skip
    print(f"python start-up + imports            : {startup * 1000:8.1f} ms")
    print(f"kpitools scorecard (example, latest) : {command * 1000:8.1f} ms"
          f"   own work {(command - startup) * 1000:6.1f} ms")  # fmt: skip
    if not args.no_million:
        million()


if __name__ == "__main__":
    main()
