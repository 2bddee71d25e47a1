"""Reading input tables: the only code that opens input files.

Each input file may be CSV (UTF-8, with or without BOM) or an Excel workbook; both are read
into a :class:`RawTable` of text cells with the row numbers a spreadsheet user sees, so that
validation can name file, row and column whatever the format.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kpitools.contract import workbooks
from kpitools.core.errors import KpiToolsError, Problem
from kpitools.core.files import FORMULA_STARTS

if TYPE_CHECKING:
    from openpyxl import Workbook

FILES = (
    "measures", "targets", "values", "comments", "actions", "benchmarks", "signoff", "decisions",
)  # fmt: skip
#: Files derived from the history store (the figures restated since a report was published):
#: read like the others, never ingested.
DERIVED_FILES = ("restatements",)
ALL_FILES = FILES + DERIVED_FILES
REQUIRED_FILES = ("measures", "values")


@dataclass(frozen=True)
class RawTable:
    """One input file as text cells, a column at a time.

    Attributes:
        file: the file's name, as messages should show it (``values.csv``).
        columns: normalised column names (lower case, stripped, spaces as ``_``).
        numbers: each row's number as a spreadsheet shows it (the header is row 1; blank
            rows are skipped).
        cells: each column's cells, in the order of ``numbers``.
    """

    file: str
    columns: tuple[str, ...]
    numbers: tuple[int, ...]
    cells: Mapping[str, Sequence[str] | np.ndarray]

    @classmethod
    def from_rows(
        cls, file: str, columns: tuple[str, ...], rows: Iterable[tuple[int, dict[str, str]]]
    ) -> RawTable:
        """A table from ``(row_number, cells)`` pairs (a cell left out is empty)."""
        listed = list(rows)
        return cls(
            file,
            columns,
            tuple(number for number, _ in listed),
            {c: tuple(cells.get(c, "") for _, cells in listed) for c in columns},
        )

    @cached_property
    def rows(self) -> tuple[tuple[int, dict[str, str]], ...]:
        """``(row_number, cells)`` pairs, a dict of the row's cells by column."""
        columns = [(c, self.cells[c]) for c in self.columns]
        return tuple(
            (number, {c: cells[i] for c, cells in columns}) for i, number in enumerate(self.numbers)
        )

    def column(self, name: str) -> Sequence[str] | np.ndarray:
        """A column's cells (all empty where the file has no such column)."""
        found = self.cells.get(name)
        return found if found is not None else ("",) * len(self.numbers)

    def __len__(self) -> int:
        return len(self.numbers)


def stem_of(label: str) -> str:
    """The contract file a message's file label is about: ``council.xlsx[Values]`` and
    ``values.csv`` are both ``values``."""
    if label.endswith("]") and "[" in label:
        return label[label.rindex("[") + 1 : -1].strip().lower()
    return Path(label).stem.lower()


def normalise_column(name: str) -> str:
    """``' Measure ID '`` -> ``measure_id``: column names are case- and space-insensitive."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


@dataclass(frozen=True)
class Input:
    """Where one contract file comes from: a file of its own (``values.csv``,
    ``values.xlsx``) or a sheet of a workbook that holds the whole data folder."""

    path: Path
    sheet: str | None = None  # the sheet of a whole-folder workbook

    @property
    def label(self) -> str:
        """How messages name it: ``values.csv``, or ``council.xlsx[values]``."""
        return f"{self.path.name}[{self.sheet}]" if self.sheet else self.path.name


def find_input(folder: Path, name: str) -> tuple[Input | None, list[Problem]]:
    """Locate ``name.csv`` or ``name.xlsx`` in ``folder`` (case-insensitive), else a sheet
    called ``name`` in a workbook of the folder that holds the whole data folder."""
    candidates = [
        path
        for path in sorted(folder.iterdir())
        if path.is_file() and path.stem.lower() == name and path.suffix.lower() in {".csv", ".xlsx"}
    ]
    if len(candidates) > 1:
        names = " and ".join(p.name for p in candidates)
        return None, [Problem(candidates[0].name, None, "", f"found {names}: keep only one")]
    if candidates:
        return Input(candidates[0]), []
    holders = [(path, sheet) for path, sheets in _folder_workbooks(folder)
               for sheet in sheets if sheet.strip().lower() == name]  # fmt: skip
    if len(holders) > 1:
        names = " and ".join(f"{p.name}[{s}]" for p, s in holders)
        return None, [Problem(f"{name}.csv", None, "", f"found {names}: keep only one")]
    if not holders and name in REQUIRED_FILES:
        # A whole-folder workbook that cannot be opened: say so, not only that the file is missing.
        broken = [p for p in _other_workbooks(folder) if not _sheet_names(p)]
        if broken:
            why = workbooks.why_unreadable(broken[0])
            return None, [Problem(broken[0].name, None, "", f"{why}; so {name} is not found")]
    return (Input(*holders[0]) if holders else None), []


def input_files(folder: Path) -> list[Path]:
    """Every file of the folder that the data is read from, in name order: the contract's
    files and any workbook holding them as sheets (for cache keys, bundles and manifests)."""
    own = [
        p
        for p in sorted(folder.iterdir())
        if p.is_file() and p.stem.lower() in ALL_FILES and p.suffix.lower() in {".csv", ".xlsx"}
    ]
    workbooks = [path for path, _ in _folder_workbooks(folder)]
    return sorted(set(own) | set(workbooks))


def _folder_workbooks(folder: Path) -> list[tuple[Path, list[str]]]:
    """The folder's workbooks not named after a contract file, with their sheet names,
    that have at least one sheet named after one (a whole data folder in one workbook)."""
    found = []
    for path in _other_workbooks(folder):
        sheets = _sheet_names(path)
        if any(sheet.strip().lower() in FILES for sheet in sheets):
            found.append((path, sheets))
    return found


def _other_workbooks(folder: Path) -> list[Path]:
    """The folder's workbooks not named after a contract file (Excel's lock files left out)."""
    return [
        path
        for path in sorted(folder.iterdir())
        if path.is_file()
        and path.suffix.lower() == ".xlsx"
        and path.stem.lower() not in FILES
        and not path.name.startswith("~$")  # Excel's lock file while the workbook is open
    ]


def _sheet_names(path: Path) -> list[str]:
    """A workbook's sheet names; none for a file that is not a readable workbook (a
    contract file missing because of it is reported by :func:`find_input`)."""
    try:
        with workbooks.opened(path, data_only=False) as workbook:
            return list(workbook.sheetnames)
    except workbooks.WorkbookUnreadable:
        return []


def read_table(
    source: Input | Path, required: Sequence[str] = ()
) -> tuple[RawTable | None, list[Problem]]:
    """Read a CSV file, a workbook or one sheet into text cells, or say why it cannot be.
    ``required``: the columns the file must have, which pick its sheet in a workbook of
    several sheets none of which is named after the file (a cover sheet and a data sheet)."""
    source = source if isinstance(source, Input) else Input(source)
    path, label = source.path, source.label
    try:
        if path.suffix.lower() == ".xlsx":
            header, body, label = _read_xlsx(path, source.sheet, required)
        else:
            text = _csv_text(path)
            by_columns = _csv_by_columns(label, text)
            if by_columns is not None:
                return _restored(by_columns, text)
            header, body = _csv_records(text)
            return _restored(_to_table(label, header, body, _delimiter(_first_line(text))), text)
    except _Unreadable as err:
        return None, [Problem(label, err.row, "", str(err))]
    return _to_table(label, header, body)


class _Unreadable(Exception):
    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.row = row


def _header(file: str, header: list[str]) -> tuple[list[str], list[Problem]]:
    """The normalised column names, and a problem for each name given twice."""
    columns = [normalise_column(name) for name in header]
    problems: list[Problem] = []
    seen: set[str] = set()
    for name in columns:
        if name and name in seen:
            problems.append(Problem(file, 1, name, f"column '{name}' appears twice in the header"))
        seen.add(name)
    return columns, problems


_SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs"}


def _too_many_cells(cells: int, width: int, delimiter: str | None) -> str:
    """Why a row with more cells than the header is refused; for a CSV file, how the
    header was read, since a header in one separator and rows in another is the usual cause."""
    message = f"row has {cells} cells but the header has {width} column{'s' if width != 1 else ''}"
    if delimiter is None:
        return message
    if width == 1:
        return (
            f"{message}: the header row has no comma, semicolon or tab, so kpitools cannot tell "
            "how the file is separated; separate the header's names as the rows are"
        )
    return f"{message} (the header is separated by {_SEPARATORS[delimiter]})"


def _first_line(text: str) -> str:
    first = re.match(r"[^\r\n]*", text)
    return first.group(0) if first else ""


def _to_table(
    file: str,
    header: list[str] | None,
    body: Iterator[tuple[int, list[str]]],
    delimiter: str | None = None,
) -> tuple[RawTable | None, list[Problem]]:
    if header is None:
        return None, [Problem(file, None, "", "is empty: expected a header row")]
    columns, problems = _header(file, header)
    width = len(columns)
    numbers: list[int] = []
    kept: list[list[str]] = []
    for number, cells in body:
        if len(cells) != width:
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                problems.append(
                    Problem(file, number, "", _too_many_cells(len(cells), width, delimiter))
                )
                continue
            cells = [*cells[:width], *[""] * (width - len(cells))]
        if not any(cell.strip() for cell in cells):
            continue
        numbers.append(number)
        kept.append(cells)
    if problems:
        return None, problems
    by_column = list(zip(*kept, strict=True)) if kept else [()] * width
    named = {name: tuple(cells) for name, cells in zip(columns, by_column, strict=True) if name}
    return RawTable(file, tuple(c for c in columns if c), tuple(numbers), named), []


def _read_csv(path: Path) -> tuple[list[str] | None, Iterator[tuple[int, list[str]]]]:
    return _csv_records(_csv_text(path))


def _csv_text(path: Path) -> str:
    try:
        blob = path.read_bytes()
    except OSError as err:
        raise _Unreadable(f"cannot be read: {err.strerror}") from None
    text = decode_text(blob)
    if "\x00" in text:
        raise _Unreadable("contains NUL bytes: it is not a CSV text file")
    return text


def _csv_records(text: str) -> tuple[list[str] | None, Iterator[tuple[int, list[str]]]]:
    # Records end at CR, LF or CRLF only: a line separator (U+2028), a vertical tab or a
    # form feed inside a comment is part of its text, as Excel reads it.
    delimiter = _delimiter(_first_line(text))
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as err:
        raise _Unreadable(f"is not valid CSV: {err}") from None
    if not records:
        return None, iter(())
    # Rows as a spreadsheet counts them: one per record, the header being row 1.
    return records[0], ((i, record) for i, record in enumerate(records[1:], start=2))


#: Line ends other than CR and LF, which pandas' parser would not read as the record reader does.
_OTHER_LINE_ENDS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _csv_by_columns(file: str, text: str) -> tuple[RawTable | None, list[Problem]] | None:
    """A plain CSV file (no quotes, a record a line, as many cells as the header or fewer)
    read by pandas' C parser into the same table the record reader gives; None for any
    other file, which the record reader reads and words the problems of."""
    if '"' in text or not text.strip() or _OTHER_LINE_ENDS.search(text):
        return None
    delimiter = _delimiter(_first_line(text))
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=delimiter, header=None, dtype=object, na_filter=False,
            skip_blank_lines=False, engine="c", quoting=csv.QUOTE_NONE,
        )  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None  # more cells than the header, or anything else odd
    cells = [frame[c].to_numpy(dtype=object) for c in frame.columns]
    columns, problems = _header(file, [str(c[0]) for c in cells])
    if problems:
        return None, problems
    body = [c[1:] for c in cells]
    numbers = np.arange(2, len(frame) + 1)
    if body:
        # Blank rows are skipped: most rows show it by their first cell.
        codes, distinct = pd.factorize(body[0])  # a first column has few distinct cells
        lead = np.array([bool(str(c).strip()) for c in distinct.tolist()], dtype=bool)[codes]
        unsure = np.flatnonzero(~lead)
        blank = [i for i in unsure.tolist() if not any(c[i].strip() for c in body)]
        if blank:
            kept = np.ones(len(numbers), dtype=bool)
            kept[blank] = False
            numbers = numbers[kept]
            body = [c[kept] for c in body]
    named = {name: c for name, c in zip(columns, body, strict=True) if name}
    return RawTable(file, tuple(c for c in columns if c), tuple(numbers.tolist()), named), []


def csv_rows(path: Path) -> list[list[str]]:
    """Every row of a CSV file as Excel saved it (any encoding and separator read above).

    Raises:
        KpiToolsError: the file cannot be read as CSV.
    """
    try:
        header, body = _read_csv(path)
    except _Unreadable as err:
        raise KpiToolsError(f"{path.name} {err}") from None
    return [] if header is None else [header, *(cells for _, cells in body)]


ENCODINGS = "UTF-8, UTF-16 or Windows-1252"


def decode_text(blob: bytes) -> str:
    """The text of a file as Excel saves it: UTF-8 (with or without a BOM), UTF-16 (with a
    BOM, or without one when every other byte of the first line is NUL) or, failing UTF-8,
    Windows-1252 (Excel's plain "CSV" on a UK PC: ``£`` is byte 0xa3).

    Raises:
        _Unreadable: bytes that none of these encodings can read, located by line.
    """
    if blob.startswith(codecs.BOM_UTF8):
        return _decoded(blob[3:], "utf-8")
    if blob.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decoded(blob, "utf-16")
    head = blob[: blob.find(b"\n") if b"\n" in blob else len(blob)]
    if len(head) >= 4 and head[1::2].count(0) >= len(head[1::2]) - 1 and head[0::2].count(0) == 0:
        return _decoded(blob, "utf-16-le")
    if len(head) >= 4 and head[0::2].count(0) >= len(head[0::2]) - 1 and head[1::2].count(0) == 0:
        return _decoded(blob, "utf-16-be")
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return _decoded(blob, "cp1252")


def _decoded(blob: bytes, encoding: str) -> str:
    try:
        return blob.decode(encoding)
    except UnicodeDecodeError as err:
        line = blob[: err.start].count(b"\n") + 1
        raise _Unreadable(
            f"is not text in an encoding kpitools reads ({ENCODINGS}): byte "
            f"0x{blob[err.start]:02x} on line {line}; save it as 'CSV UTF-8'"
        ) from None


def _delimiter(header: str) -> str:
    """The separator Excel used, from the header row: comma, semicolon (Excel set to a
    European locale) or tab, whichever separates most header cells (outside quotes)."""
    bare = re.sub(r'"[^"]*"', "", header)
    counts = {sep: bare.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _read_xlsx(
    path: Path, sheet_name: str | None = None, required: Sequence[str] = ()
) -> tuple[list[str] | None, Iterator[tuple[int, list[str]]], str]:
    """The header and rows of a sheet: the one named, else the one named after the file,
    else the only sheet a person can see (or the only one with the ``required`` columns); and
    how messages name it (the sheet too when the workbook has several). A hidden sheet is
    never read."""
    try:
        with workbooks.opened(path) as workbook:
            chosen = sheet_name or _chosen_sheet(workbook, path, required)
            label = path.name if len(workbook.sheetnames) == 1 else f"{path.name}[{chosen}]"
            if workbooks.is_hidden(workbook, chosen):
                raise _Unreadable(workbooks.hidden_sheet(f"'{chosen}'"))
            rows = [
                (i, [_excel_text(cell) for cell in row])
                for i, row in enumerate(workbook[chosen].iter_rows(min_row=1), start=1)
            ]
    except workbooks.WorkbookUnreadable as err:
        raise _Unreadable(str(err)) from None
    while rows and not any(cell.strip() for cell in rows[0][1]):
        rows.pop(0)  # leading blank rows before the header
    if not rows:
        return None, iter(()), label
    return rows[0][1], iter(rows[1:]), label


def _chosen_sheet(workbook: Workbook, path: Path, required: Sequence[str]) -> str:
    """The sheet a workbook named after a contract file holds its table in."""
    by_name: dict[str, str] = {str(name).strip().lower(): str(name) for name in workbook.sheetnames}
    if path.stem.lower() in by_name:
        return by_name[path.stem.lower()]
    visible = workbooks.visible_sheets(workbook)
    if not visible:
        raise _Unreadable("has no sheet a person can see: every sheet is hidden")
    if len(visible) == 1 or not required:
        return visible[0]
    fitting = [name for name in visible if set(required) <= set(_sheet_header(workbook[name]))]
    if len(fitting) == 1:
        return fitting[0]
    sheets = ", ".join(f"'{name}'" for name in visible)
    which = "none has" if not fitting else "more than one has"
    raise _Unreadable(
        f"has sheets {sheets} and {which} the columns {', '.join(required)}: name the sheet "
        f"to read '{path.stem.lower()}'"
    )


def _sheet_header(sheet: Any) -> list[str]:
    """A sheet's column names: its first row with anything in it (of the first 50)."""
    for row in sheet.iter_rows(min_row=1, max_row=50, values_only=True):
        cells = ["" if cell is None else str(cell) for cell in row]
        if any(cell.strip() for cell in cells):
            return [normalise_column(cell) for cell in cells]
    return []


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


#: A cell written with a leading apostrophe by :func:`csv_bytes` (so Excel runs no formula).
#: A run of apostrophes before a formula's first character (a cell :func:`defused` marked
#: when the run starts the cell: see :func:`_any_defused`).
_DEFUSED = re.compile(r"'+[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?(\d[\d,]*)?(\.\d+)?([eE][+-]?\d+)?%?")


def defused(cell: str) -> str:
    """A cell for a CSV file a council may open in Excel: text that would start a formula
    (``=``, ``+``, ``-``, ``@``, a tab or carriage return) gets a leading ``'``, as Excel
    marks text (one more where apostrophes already lead it); a number (``-4.5``) stays as it
    is. Reading the file back gives the cell (see :func:`_restored`)."""
    text = cell.lstrip("'")
    if not text.startswith(FORMULA_STARTS):
        return cell
    if text is cell and _NUMBER.fullmatch(cell) and any(ch.isdigit() for ch in cell):
        return cell
    return "'" + cell


def _restored(
    read: tuple[RawTable | None, list[Problem]], text: str
) -> tuple[RawTable | None, list[Problem]]:
    """A table read from CSV with the cells :func:`defused` wrote given back as they were:
    one leading apostrophe taken from text that then starts a formula."""
    table, problems = read
    if table is None or not _any_defused(text):
        return read
    cells = {name: tuple(_undefused(c) for c in column) for name, column in table.cells.items()}
    return RawTable(table.file, table.columns, table.numbers, cells), problems


def _any_defused(text: str) -> bool:
    """Whether any cell of a file's text starts with apostrophes before a formula's first
    character. Most files have no apostrophe at all, found at memory speed."""
    if "'" not in text:
        return False
    for found in _DEFUSED.finditer(text):
        at = found.start()  # the run's first apostrophe: a cell starts here, or not
        if at == 0 or text[at - 1] in ',;\t\n"':
            return True
    return False


def _undefused(cell: str) -> str:
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def write_table(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    """Write a contract file as CSV (UTF-8, comma-separated): the columns in order, each row's
    cells as text, none of them a formula when Excel opens the file (see :func:`defused`).
    Reading it back gives the same cells."""
    path.write_bytes(csv_bytes(columns, rows))


def csv_bytes(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    """A contract file's CSV bytes (see :func:`write_table`)."""
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for cells in rows:
        writer.writerow([defused(cells.get(column, "")) for column in columns])
    return buffer.getvalue().encode("utf-8")
