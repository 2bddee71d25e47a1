"""Recording into a data folder: the workflow files kpitools itself adds rows to.

``kpitools comments --read``, ``signoff``, ``decide`` and ``publish`` change ``comments``,
``actions``, ``signoff`` and ``decisions``. Every change is made on a copy of the folder,
checked there by the same loader every run uses, and only then put in place, file by file
with an atomic rename: a change that would make the folder invalid is refused with the
loader's messages and nothing is written. What kpitools records it writes as CSV: a file
kept in Excel is carried over into a CSV file, and the command says so.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from kpitools.contract.tables import (
    Input,
    csv_bytes,
    csv_rows,
    find_input,
    input_files,
    normalise_column,
    read_table,
)
from kpitools.core.config import CouncilConfig
from kpitools.core.errors import KpiToolsError
from kpitools.core.files import write_atomic

Rows = list[dict[str, str]]
#: How one file changes: its rows (columns normalised) in, its rows out.
Change = Callable[[Rows], Rows]


def read_rows(folder: Path, name: str) -> tuple[list[str], Rows, Input | None]:
    """A contract file's header (normalised column names), its rows as text, and where it
    is kept (None when the folder has no such file: no columns, no rows).

    Raises:
        KpiToolsError: the file cannot be read.
    """
    found, problems = find_input(folder, name)
    if problems:
        raise KpiToolsError(str(problems[0]))
    if found is None:
        return [], [], None
    if found.sheet is not None or found.path.suffix.lower() != ".csv":
        table, problems = read_table(found)
        if table is None:
            raise KpiToolsError(str(problems[0]))
        return list(table.columns), [dict(cells) for _, cells in table.rows], found
    rows = csv_rows(found.path)
    if not rows:
        return [], [], found
    header = [normalise_column(c) for c in rows[0]]
    return header, [dict(zip(header, cells, strict=False)) for cells in rows[1:]], found


def update_folder(
    folder: Path,
    changes: Mapping[str, Change],
    columns: Mapping[str, tuple[str, ...]],
    config: CouncilConfig,
) -> list[str]:
    """Apply ``changes`` (file name -> change) to the folder's files, all or nothing.

    kpitools writes what it records as CSV. A file kept in Excel - ``comments.xlsx``, or the
    ``comments`` sheet of the workbook holding the whole folder - is carried over into
    ``comments.csv`` with the change: the workbook of its own is kept aside as
    ``comments.before-kpitools.xlsx``; the sheet of a whole-folder workbook is left as it is
    and no longer read (the CSV file comes first). Each such move is returned as a note.

    Args:
        columns: each file's columns as the contract names them, for a new file and for
            columns a file lacks (added at its end).

    Raises:
        ValidationError: the folder as changed would not load (the loader's messages).
    """
    from kpitools.contract.loading import clear_parsed, load

    new: dict[str, bytes] = {}
    moved: dict[str, Input] = {}
    for name, change in changes.items():
        header, rows, source = read_rows(folder, name)
        rows = change(rows)
        header = header or list(columns[name])
        header += [c for c in columns[name] if c not in header]
        new[name] = csv_bytes(header, rows)
        if source is not None and source.path.suffix.lower() != ".csv":
            moved[name] = source
    set_aside = {s.path for s in moved.values() if s.sheet is None}
    with tempfile.TemporaryDirectory(prefix=".kpitools-check-", dir=folder) as scratch:
        staging = Path(scratch)
        for path in input_files(folder):
            if path.suffix.lower() == ".csv" and path.stem.lower() in new:
                continue
            if path not in set_aside:
                shutil.copy2(path, staging / path.name)
        for name, blob in new.items():
            (staging / f"{name}.csv").write_bytes(blob)
        clear_parsed()
        load(staging, config=config)  # raises ValidationError with the file's own messages
        clear_parsed()
    notes = []
    for name, blob in new.items():
        write_atomic(folder / f"{name}.csv", blob)
        source = moved.get(name)
        if source is None:
            continue
        if source.sheet is None:
            aside = source.path.with_name(f"{source.path.stem}.before-kpitools.xlsx")
            os.replace(source.path, aside)
            notes.append(f"{name} is kept in {name}.csv from now on; {source.path.name} is "
                         f"set aside as {aside.name}")  # fmt: skip
        else:
            notes.append(f"{name} is kept in {name}.csv from now on; the sheet {source.label} "
                         "is no longer read (delete it from the workbook)")  # fmt: skip
    return notes
