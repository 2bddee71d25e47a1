"""Recording into a data folder: the workflow files kpitools itself adds rows to.

``kpitools comments --read``, ``signoff``, ``decide`` and ``publish`` change ``comments``,
``actions``, ``signoff`` and ``decisions``. Every change is made on a copy of the folder,
checked there by the same loader every run uses, and only then put in place, file by file
with an atomic rename: a change that would make the folder invalid is refused with the
loader's messages and nothing is written. A file kept as a workbook (or as a sheet of the
whole-folder workbook) is not rewritten: kpitools says so and records nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from kpitools.contract.tables import (
    csv_bytes,
    csv_rows,
    find_input,
    input_files,
    normalise_column,
)
from kpitools.core.config import CouncilConfig
from kpitools.core.errors import KpiToolsError
from kpitools.core.files import write_atomic

Rows = list[dict[str, str]]
#: How one file changes: its rows (columns normalised) in, its rows out.
Change = Callable[[Rows], Rows]


def read_rows(folder: Path, name: str) -> tuple[list[str], Rows]:
    """A contract file's header (normalised column names) and rows as text, or the given
    columns and no rows when the folder has no such file.

    Raises:
        KpiToolsError: the file is a workbook, or cannot be read as CSV.
    """
    found, problems = find_input(folder, name)
    if problems:
        raise KpiToolsError(str(problems[0]))
    if found is None:
        return [], []
    if found.sheet is not None or found.path.suffix.lower() != ".csv":
        raise KpiToolsError(
            f"{found.label}: kpitools records {name} only into a CSV file; save the "
            f"{'sheet' if found.sheet else 'workbook'} as {name}.csv in the data folder "
            "(and remove it from the workbook) first"
        )
    rows = csv_rows(found.path)
    if not rows:
        return [], []
    header = [normalise_column(c) for c in rows[0]]
    return header, [dict(zip(header, cells, strict=False)) for cells in rows[1:]]


def update_folder(
    folder: Path,
    changes: Mapping[str, Change],
    columns: Mapping[str, tuple[str, ...]],
    config: CouncilConfig,
) -> None:
    """Apply ``changes`` (file name -> change) to the folder's CSV files, all or nothing.

    Args:
        columns: each file's columns as the contract names them, for a new file and for
            columns a file lacks (added at its end).

    Raises:
        KpiToolsError: a file cannot be changed (a workbook), or
        ValidationError: the folder as changed would not load (the loader's messages).
    """
    from kpitools.contract.loading import clear_parsed, load

    new: dict[str, bytes] = {}
    for name, change in changes.items():
        header, rows = read_rows(folder, name)
        rows = change(rows)
        header = header or list(columns[name])
        header += [c for c in columns[name] if c not in header]
        new[name] = csv_bytes(header, rows)
    with tempfile.TemporaryDirectory(prefix=".kpitools-check-", dir=folder) as scratch:
        staging = Path(scratch)
        for path in input_files(folder):
            if path.stem.lower() not in new:
                shutil.copy2(path, staging / path.name)
        for name, blob in new.items():
            (staging / f"{name}.csv").write_bytes(blob)
        clear_parsed()
        load(staging, config=config)  # raises ValidationError with the file's own messages
        clear_parsed()
    for name, blob in new.items():
        found, _ = find_input(folder, name)
        target = found.path if found is not None else folder / f"{name}.csv"
        write_atomic(target, blob)
