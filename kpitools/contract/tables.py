"""Reading input tables: the only code that opens input files.

Each input file may be CSV (UTF-8, with or without BOM) or an Excel workbook; both are read
into a :class:`RawTable` of text cells with the row numbers a spreadsheet user sees, so that
validation can name file, row and column whatever the format.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kpitools.core.errors import Problem

FILES = ("measures", "targets", "values", "comments", "actions", "benchmarks")
REQUIRED_FILES = ("measures", "values")


@dataclass(frozen=True)
class RawTable:
    """One input file as text cells.

    Attributes:
        file: the file's name, as messages should show it (``values.csv``).
        columns: normalised column names (lower case, stripped, spaces as ``_``).
        rows: ``(row_number, cells)`` pairs; the header is row 1, blank rows are skipped.
    """

    file: str
    columns: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]

    def __len__(self) -> int:
        return len(self.rows)


def normalise_column(name: str) -> str:
    """``' Measure ID '`` -> ``measure_id``: column names are case- and space-insensitive."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def find_input(folder: Path, name: str) -> tuple[Path | None, list[Problem]]:
    """Locate ``name.csv`` or ``name.xlsx`` in ``folder`` (case-insensitive)."""
    candidates = [
        path
        for path in sorted(folder.iterdir())
        if path.is_file() and path.stem.lower() == name and path.suffix.lower() in {".csv", ".xlsx"}
    ]
    if len(candidates) > 1:
        names = " and ".join(p.name for p in candidates)
        return None, [Problem(candidates[0].name, None, "", f"found {names}: keep only one")]
    return (candidates[0] if candidates else None), []


def read_table(path: Path) -> tuple[RawTable | None, list[Problem]]:
    """Read a CSV or Excel file into text cells, or say why it cannot be read."""
    try:
        if path.suffix.lower() == ".xlsx":
            header, body = _read_xlsx(path)
        else:
            header, body = _read_csv(path)
    except _Unreadable as err:
        return None, [Problem(path.name, err.row, "", str(err))]
    return _to_table(path.name, header, body)


class _Unreadable(Exception):
    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.row = row


def _to_table(
    file: str, header: list[str] | None, body: Iterator[tuple[int, list[str]]]
) -> tuple[RawTable | None, list[Problem]]:
    if header is None:
        return None, [Problem(file, None, "", "is empty: expected a header row")]
    columns = [normalise_column(name) for name in header]
    problems: list[Problem] = []
    seen: set[str] = set()
    for name in columns:
        if name and name in seen:
            problems.append(Problem(file, 1, name, f"column '{name}' appears twice in the header"))
        seen.add(name)
    rows = []
    for number, cells in body:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
            problems.append(
                Problem(
                    file,
                    number,
                    "",
                    f"row has {len(cells)} cells but the header has {len(columns)} columns",
                )
            )
            continue
        record = {
            name: (cells[i] if i < len(cells) else "") for i, name in enumerate(columns) if name
        }
        rows.append((number, record))
    if problems:
        return None, problems
    return RawTable(file, tuple(c for c in columns if c), tuple(rows)), []


def _read_csv(path: Path) -> tuple[list[str] | None, Iterator[tuple[int, list[str]]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise _Unreadable(
            f"is not UTF-8 text (byte 0x{path.read_bytes()[err.start]:02x} on line {line}): "
            "save it as 'CSV UTF-8'",
        ) from None
    except OSError as err:
        raise _Unreadable(f"cannot be read: {err.strerror}") from None
    if "\x00" in text:
        raise _Unreadable("contains NUL bytes: it is not a CSV text file")
    try:
        records = list(csv.reader(text.splitlines(keepends=True), strict=True))
    except csv.Error as err:
        raise _Unreadable(f"is not valid CSV: {err}") from None
    if not records:
        return None, iter(())
    # Rows as a spreadsheet counts them: one per record, the header being row 1.
    return records[0], ((i, record) for i, record in enumerate(records[1:], start=2))


def _read_xlsx(path: Path) -> tuple[list[str] | None, Iterator[tuple[int, list[str]]]]:
    import openpyxl  # imported here: reading CSV must not pay for it

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise _Unreadable(f"is not a readable Excel workbook ({err})") from None
    try:
        by_name = {name.strip().lower(): name for name in workbook.sheetnames}
        sheet = workbook[by_name.get(path.stem.lower(), workbook.sheetnames[0])]
        rows = [
            (i, [_excel_text(cell) for cell in row])
            for i, row in enumerate(sheet.iter_rows(min_row=1), start=1)
        ]
    finally:
        workbook.close()
    while rows and not any(cell.strip() for cell in rows[0][1]):
        rows.pop(0)  # leading blank rows before the header
    if not rows:
        return None, iter(())
    return rows[0][1], iter(rows[1:])


def _excel_text(cell: object) -> str:
    """An Excel cell as the text a person sees in it (7% stays 7%, dates as ISO)."""
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        number_format = getattr(cell, "number_format", "") or ""
        if "%" in number_format:
            return f"{round(value * 100, 10)!r}%"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)
