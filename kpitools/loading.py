"""Loading a data folder into a validated :class:`~kpitools.model.Dataset`."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from kpitools import validation
from kpitools.errors import Problem, ValidationError
from kpitools.model import Dataset
from kpitools.periods import FiscalCalendar
from kpitools.tables import FILES, REQUIRED_FILES, RawTable, find_input, read_table


def load_dataset(
    path: str | Path, *, year_start_month: int = 4, default_tolerance: float = 0.05
) -> Dataset:
    """Read and validate a council's data folder.

    Args:
        path: folder holding ``measures`` and ``values`` (and optional ``targets``,
            ``comments``, ``actions``, ``benchmarks``) as ``.csv`` or ``.xlsx``.
        year_start_month: first month of the financial year (4 = April).
        default_tolerance: relative amber tolerance for measures that give none.

    Returns:
        The dataset, every frame typed and checked.

    Raises:
        ValidationError: listing every problem of every file; nothing is returned then.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ValidationError([Problem(str(folder), None, "", "is not a folder of data files")])
    digest = input_digest(folder, year_start_month, default_tolerance)
    cached = _CACHE.get(digest)
    if cached is not None:
        return cached.copy()
    dataset = _load(folder, digest, year_start_month, default_tolerance)
    _CACHE[digest] = dataset
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return dataset.copy()


# A batch runs many notebooks on the same data in one kernel: parse each folder once.
_CACHE: OrderedDict[str, Dataset] = OrderedDict()
_CACHE_SIZE = 2


def input_digest(folder: Path, year_start_month: int = 4, default_tolerance: float = 0.05) -> str:
    """A hash of a data folder's input files (names and bytes) and the loading options."""
    digest = hashlib.sha256(f"{year_start_month}|{default_tolerance!r}".encode())
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.stem.lower() in FILES:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _load(folder: Path, digest: str, year_start_month: int, default_tolerance: float) -> Dataset:
    calendar = FiscalCalendar(year_start_month)
    problems: list[Problem] = []
    tables: dict[str, RawTable | None] = {}
    for name in FILES:
        found, find_problems = find_input(folder, name)
        problems += find_problems
        if found is None:
            if name in REQUIRED_FILES and not find_problems:
                problems.append(Problem(f"{name}.csv", None, "", "is missing: it is required"))
            tables[name] = None
            continue
        table, read_problems = read_table(found)
        problems += read_problems
        tables[name] = table

    measures, found_problems = _check(
        tables["measures"],
        lambda t: validation.check_measures(t, default_tolerance),
        validation.MEASURE_COLUMNS,
    )
    problems += found_problems
    measures = measures.set_index("measure_id")
    if tables["measures"] is None or (measures.empty and problems):
        # Without a data dictionary nothing else can be checked: report what was found so far.
        raise ValidationError(_in_file_order(problems))
    targets, found_problems = _check(
        tables["targets"],
        lambda t: validation.check_targets(t, measures, calendar),
        validation.TARGET_COLUMNS,
    )
    problems += found_problems
    problems += validation.check_threshold_levels(measures, targets, tables["measures"].file)
    values, found_problems = _check(
        tables["values"],
        lambda t: validation.check_values(t, measures, calendar),
        validation.VALUE_COLUMNS,
    )
    problems += found_problems
    comments, found_problems = _check(
        tables["comments"],
        lambda t: validation.check_comments(t, measures, calendar),
        validation.COMMENT_COLUMNS,
    )
    problems += found_problems
    actions, found_problems = _check(
        tables["actions"],
        lambda t: validation.check_actions(t, measures),
        validation.ACTION_COLUMNS,
    )
    problems += found_problems
    benchmarks, found_problems = _check(
        tables["benchmarks"],
        lambda t: validation.check_benchmarks(t, measures, calendar),
        validation.BENCHMARK_COLUMNS,
    )
    problems += found_problems
    if problems:
        raise ValidationError(_in_file_order(problems))
    return Dataset(
        measures=measures,
        values=values,
        targets=targets,
        comments=comments,
        actions=actions,
        benchmarks=benchmarks,
        calendar=calendar,
        source=folder,
        digest=digest,
    )


def _check(
    table: RawTable | None,
    checker: Callable[[RawTable], tuple[pd.DataFrame, list[Problem]]],
    columns: list[str],
) -> tuple[pd.DataFrame, list[Problem]]:
    """Run a table's checker, or give an empty frame when the file is absent or unreadable."""
    if table is None:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        return frame, []
    frame, problems = checker(table)
    return frame.reset_index() if frame.index.name else frame, problems


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """Problems file by file in the order of the contract (measures first), rows in order."""
    rank = {name: i for i, name in enumerate(FILES)}
    return sorted(problems, key=lambda p: rank.get(Path(p.file).stem.lower(), len(FILES)))
