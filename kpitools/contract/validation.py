"""Checking and typing the input tables against the data contract.

One mechanism for every file: a :class:`TableSpec` names a file's required columns, its
output columns and how one row is read; :func:`check_table` runs it over a
:class:`~kpitools.contract.tables.RawTable` and returns a clean, typed DataFrame and every
problem found, so that a user sees all problems of all files in one go. Cell parsing is
tolerant of what real spreadsheets hold (``7.0%``, ``5,705``, ``£1,200``, ``229 / 2996``,
``Up is Good``) and strict about everything else.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from kpitools.contract.tables import RawTable
from kpitools.core.config import CouncilConfig
from kpitools.core.errors import Problem
from kpitools.core.model import (
    RAG,
    ActionStatus,
    Aggregation,
    Basis,
    Flag,
    Frequency,
    Polarity,
    RagMethod,
    Scale,
    Section,
    Status,
    Unit,
)
from kpitools.core.periods import FiscalCalendar, Granularity, period_column
from kpitools.core.workflow import PROMPT_SECTIONS, SERVICE_SECTIONS, FollowUp, SignOffState

E = TypeVar("E", bound=StrEnum)

_POLARITY_WORDS = {
    "up": Polarity.UP,
    "bigger": Polarity.UP,
    "bigger is better": Polarity.UP,
    "higher is better": Polarity.UP,
    "up is good": Polarity.UP,
    "down": Polarity.DOWN,
    "smaller": Polarity.DOWN,
    "smaller is better": Polarity.DOWN,
    "lower is better": Polarity.DOWN,
    "up is bad": Polarity.DOWN,
    "neutral": Polarity.NEUTRAL,
}
_STATUS_WORDS = {"": Status.REPORTED, "n/a": Status.NOT_AVAILABLE}
_INPUT_STATUSES = "empty, " + ", ".join(s.value for s in Status if s is not Status.MISSING)
_SCALE_WORDS = {
    "1": Scale.UNITS, "unit": Scale.UNITS, "£": Scale.UNITS, "none": Scale.UNITS,
    "000s": Scale.THOUSANDS, "000": Scale.THOUSANDS, "'000s": Scale.THOUSANDS,
    "£000s": Scale.THOUSANDS, "£000": Scale.THOUSANDS, "£'000": Scale.THOUSANDS,
    "£'000s": Scale.THOUSANDS, "£k": Scale.THOUSANDS, "k": Scale.THOUSANDS,
    "thousand": Scale.THOUSANDS, "1000": Scale.THOUSANDS, "1,000": Scale.THOUSANDS,
    "m": Scale.MILLIONS, "£m": Scale.MILLIONS, "mn": Scale.MILLIONS, "£mn": Scale.MILLIONS,
    "million": Scale.MILLIONS, "1000000": Scale.MILLIONS, "1,000,000": Scale.MILLIONS,
}  # fmt: skip
# A unit cell may carry its scale, as budget sheets write it: "£000s" is currency in thousands.
_UNIT_WORDS = {
    "%": (Unit.PERCENT, Scale.UNITS), "£": (Unit.CURRENCY, Scale.UNITS),
    "£000s": (Unit.CURRENCY, Scale.THOUSANDS), "£000": (Unit.CURRENCY, Scale.THOUSANDS),
    "£'000": (Unit.CURRENCY, Scale.THOUSANDS), "£'000s": (Unit.CURRENCY, Scale.THOUSANDS),
    "£k": (Unit.CURRENCY, Scale.THOUSANDS), "£m": (Unit.CURRENCY, Scale.MILLIONS),
    "£mn": (Unit.CURRENCY, Scale.MILLIONS), "pounds": (Unit.CURRENCY, Scale.UNITS),
}  # fmt: skip
_SCALED_UNITS = (Unit.CURRENCY, Unit.COUNT)
_BASIS_WORDS = {
    "ytd": Basis.YTD,
    "year to date": Basis.YTD,
    "year-to-date": Basis.YTD,
    "snapshot": Basis.SNAPSHOT,
    "rolling 12 months": Basis.ROLLING_12,
    "rolling_12_months": Basis.ROLLING_12,
    "rolling 12": Basis.ROLLING_12,
    "r12": Basis.ROLLING_12,
}
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}
_FLAG_WORDS = {
    "budget": Flag.BUDGET,
    "corporate_risk": Flag.CORPORATE_RISK,
    "risk": Flag.CORPORATE_RISK,
}
# Months or quarters a measure's values may be given in, by its frequency.
_ALLOWED_GRANULARITY = {
    Frequency.MONTHLY: {Granularity.MONTH},
    Frequency.QUARTERLY: {Granularity.QUARTER},
    Frequency.TERMLY: {Granularity.MONTH, Granularity.QUARTER},
    Frequency.ANNUAL: {Granularity.YEAR},
}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_RATIO = re.compile(r"^(.+?)\s*/\s*(.+)$")


# -- cell parsing -------------------------------------------------------------------------
def quote(text: str, limit: int = 40) -> str:
    """A cell's text for a message: quoted, control characters escaped, long text cut."""
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    shown = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in shown)
    return f"'{shown}'"


def parse_number(text: str) -> tuple[float, bool]:
    """Parse ``7.0%``, ``5,705``, ``£1,200``, ``(1,200)`` or ``1.5e3``.

    Returns:
        The number and whether it was written as a percentage.

    Raises:
        ValueError: the text is not a number.
    """
    s = text.strip().replace("\u2212", "-").replace("\u00a0", "").replace(" ", "")
    if not s:
        raise ValueError(text)
    negative = s.startswith("(") and s.endswith(")")
    if negative:
        s = s[1:-1]
    percent = s.endswith("%")
    if percent:
        s = s[:-1]
    if s[:1] in "+-" and s[1:2] in "£$€":
        s = s[0] + s[2:]
    elif s[:1] in "£$€":
        s = s[1:]
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    if not _NUMBER.match(s):
        raise ValueError(text)
    number = float(s)
    if not math.isfinite(number):
        raise ValueError(text)
    return (-number if negative else number), percent


def parse_enum(enum: type[E], text: str, aliases: dict[str, E] | None = None) -> E:
    """Parse an enum word, forgiving case, spaces and hyphens (``Not Available``)."""
    key = text.strip().lower()
    if aliases and key in aliases:
        return aliases[key]
    return enum(re.sub(r"[\s\-]+", "_", key))


def parse_date(text: str) -> dt.date:
    """Parse an ISO date (``2024-03-31``) or a UK one (``31/03/2024``)."""
    s = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def words(enum: type[StrEnum]) -> str:
    """The words an enum accepts, for a message (output-only statuses left out)."""
    return ", ".join(member.value for member in enum if member is not Status.MISSING)


class TableChecker:
    """Collects the problems of one table while its cells are parsed."""

    def __init__(self, table: RawTable, years: tuple[int, int] | None = None):
        self.table = table
        self.years = years  # the financial years a period may fall in, first and last
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self._first_row: dict[object, int] = {}

    def add(self, row: int | None, column: str, message: str) -> None:
        self.problems.append(Problem(self.table.file, row, column, message))

    def warn(self, row: int | None, column: str, message: str) -> None:
        """Something a person should look at that does not stop the data being used."""
        self.warnings.append(Problem(self.table.file, row, column, message))

    def missing_columns(self, required: Iterable[str]) -> bool:
        """Report required columns that are absent; True if any are."""
        missing = [c for c in required if c not in self.table.columns]
        for column in missing:
            self.add(None, column, f"missing required column '{column}'")
        return bool(missing)

    def duplicate(self, key: object, row: int, column: str, what: str) -> bool:
        """Report a row whose key an earlier row already has; True if it is a duplicate."""
        first = self._first_row.get(key)
        if first is not None:
            self.add(row, column, f"{what} is a duplicate of row {first}")
            return True
        self._first_row[key] = row
        return False

    def text(self, row: int, cells: dict[str, str], column: str, *, required: bool) -> str:
        value = cells.get(column, "").strip()
        if required and not value:
            self.add(row, column, f"{column} is empty")
        return value

    def number(self, row: int, cells: dict[str, str], column: str, what: str = "") -> float:
        raw = cells.get(column, "").strip()
        if not raw:
            return math.nan
        try:
            return parse_number(raw)[0]
        except ValueError:
            self.add(row, column, f"{column} {quote(raw)}{what} is not a number")
            return math.nan

    def enum(
        self,
        row: int,
        cells: dict[str, str],
        column: str,
        enum: type[E],
        default: E,
        aliases: dict[str, E] | None = None,
    ) -> E:
        raw = cells.get(column, "").strip()
        if not raw:
            return default
        try:
            return parse_enum(enum, raw, aliases)
        except ValueError:
            self.add(row, column, f"{column} {quote(raw)} is not one of {words(enum)}")
            return default

    def period(
        self, row: int, cells: dict[str, str], column: str, calendar: FiscalCalendar
    ) -> pd.Period | None:
        raw = cells.get(column, "").strip()
        if not raw:
            self.add(row, column, f"{column} is empty")
            return None
        try:
            period = calendar.parse(raw)
        except ValueError as err:
            self.add(row, column, f"{column} {err}")
            return None
        if self.years is not None and not in_years(calendar, period, self.years):
            first, last = (calendar.year_label(y) for y in self.years)
            self.add(
                row,
                column,
                f"{column} {quote(raw)} is outside {first} to {last}, the financial years data "
                "may cover: a typing error? (earliest_year and latest_year in the "
                "configuration set them)",
            )
            return None
        return period

    def known_measure(self, row: int, cells: dict[str, str], context: Context) -> str | None:
        measure_id = cells.get("measure_id", "").strip()
        if not measure_id:
            self.add(row, "measure_id", "measure_id is empty")
            return None
        if measure_id not in _measures(context).index:
            self.add(row, "measure_id", f"measure_id {quote(measure_id)} is not in measures")
            return None
        return measure_id

    def known_service(self, row: int, cells: dict[str, str], context: Context) -> str:
        service = self.text(row, cells, "service", required=True)
        if service and service not in context.services:
            self.add(row, "service", f"service {quote(service)} has no measures")
        return service


def period_years(
    calendar: FiscalCalendar, config: CouncilConfig | None, today: dt.date | None = None
) -> tuple[int, int]:
    """The financial years data may cover: from the configuration's ``earliest_year`` (1990)
    to its ``latest_year`` (by default the year after the one holding today)."""
    earliest = config.earliest_year if config is not None else 1990
    if config is not None and config.latest_year is not None:
        return earliest, config.latest_year
    month = pd.Period(today or dt.date.today(), freq="M")
    return earliest, max(earliest, calendar.fiscal_start_year(month) + 1)


def in_years(calendar: FiscalCalendar, period: pd.Period, years: tuple[int, int]) -> bool:
    """Whether a period lies wholly within the financial years ``years`` (first, last)."""
    first = calendar.fiscal_start_year(calendar.first_month(period))
    last = calendar.fiscal_start_year(calendar.last_month(period))
    return years[0] <= first and last <= years[1]


# -- one mechanism for every file ---------------------------------------------------------
Record = dict[str, Any]


@dataclass(frozen=True)
class Context:
    """What checking a file may need from the files checked before it."""

    calendar: FiscalCalendar
    measures: pd.DataFrame | None = None  # the checked data dictionary, by measure_id
    config: CouncilConfig | None = None  # the council's categories

    @cached_property
    def years(self) -> tuple[int, int]:
        """The first and last financial years (by start year) a period may fall in."""
        return period_years(self.calendar, self.config)

    @cached_property
    def services(self) -> set[str]:
        return set(self.measures["service"]) if self.measures is not None else set()

    @cached_property
    def measure_info(self) -> dict[str, dict[str, Any]]:
        """What other files' rows are checked against, per measure as plain dicts (its
        service, frequency, aggregation, unit, polarity, tsl and msl): a DataFrame row
        lookup per row would dominate the load time."""
        columns = ["service", "frequency", "aggregation", "unit", "polarity", "tsl", "msl"]
        return _measures(self)[columns].to_dict("index")  # type: ignore[return-value]


RowReader = Callable[[TableChecker, int, dict[str, str], Context], Record | None]
Finisher = Callable[[TableChecker, pd.DataFrame, Context], None]
#: Reads the well-formed rows of a table a column at a time: their checked columns (by the
#: spec's column names) and the positions of the rows left for ``read_row``.
ColumnReader = Callable[[RawTable, Context], tuple[dict[str, np.ndarray], np.ndarray]]


@dataclass(frozen=True)
class TableSpec:
    """How one input file is checked.

    Attributes:
        name: the file's stem (``values``).
        required: columns that must be in the header.
        columns: the columns of the checked frame.
        read_row: turns one row's cells into a record (None to leave the row out), reporting
            its problems on the checker.
        finish: checks across rows, on the checked frame (overlapping ranges).
        reshape: turns another shape of the file (a spreadsheet's own column names, a
            column per period) into the contract's, before it is checked.
        read_columns: reads the rows that are plainly well formed at column speed, leaving
            every other row to ``read_row`` (which finds and words its problems): the same
            frame and messages as ``read_row`` alone, in a fraction of the time.
    """

    name: str
    required: tuple[str, ...]
    columns: tuple[str, ...]
    read_row: RowReader
    finish: Finisher | None = None
    reshape: Callable[[RawTable, Context], RawTable] | None = None
    read_columns: ColumnReader | None = None
    #: Whether a row that repeats an earlier one cell for cell is refused as a copy; False
    #: where the file's own key finds repeated rows and words them better.
    copies: bool = True

    def empty(self) -> pd.DataFrame:
        return _empty(self.columns)


def check_table(
    table: RawTable, spec: TableSpec, context: Context
) -> tuple[pd.DataFrame, list[Problem], list[Problem]]:
    """Check one table against its spec: the typed frame, every problem and every warning."""
    if spec.reshape is not None:
        table = spec.reshape(table, context)
    check = TableChecker(table, context.years)
    if check.missing_columns(spec.required):
        return spec.empty(), check.problems, check.warnings
    if spec.copies:
        table = _without_copies(check, table)
    if spec.read_columns is None or not len(table):
        records = []
        for row, cells in table.rows:
            record = spec.read_row(check, row, cells, context)
            if record is not None:
                records.append(record)
        frame = pd.DataFrame.from_records(records, columns=list(spec.columns))
    else:
        frame = _by_columns(check, table, spec, context)
    if spec.finish is not None:
        spec.finish(check, frame, context)
    return frame, check.problems, check.warnings


def _without_copies(check: TableChecker, table: RawTable) -> RawTable:
    """The table without rows that repeat an earlier row cell for cell, each reported: a
    row pasted twice would otherwise count twice (a comment shown twice, a peer counted
    twice)."""
    if len(table) < 2:
        return table
    cells = pd.DataFrame({c: pd.Series(table.column(c), dtype=object).str.strip()
                          for c in table.columns})  # fmt: skip
    copies = cells.duplicated(keep="first").to_numpy()
    if not copies.any():
        return table
    first_of = cells.groupby(list(cells.columns), sort=False, dropna=False).ngroup().to_numpy()
    first_row: dict[int, int] = {}
    for number, group in zip(table.numbers, first_of.tolist(), strict=True):
        first_row.setdefault(group, number)
    for i in np.flatnonzero(copies).tolist():
        check.add(table.numbers[i], "", f"row repeats row {first_row[first_of[i]]} cell for cell")
    kept = ~copies
    return RawTable(
        table.file,
        table.columns,
        tuple(n for n, k in zip(table.numbers, kept.tolist(), strict=True) if k),
        {c: np.asarray(table.column(c), dtype=object)[kept] for c in table.columns},
    )


def _by_columns(
    check: TableChecker, table: RawTable, spec: TableSpec, context: Context
) -> pd.DataFrame:
    """The table read by ``spec.read_columns``, its other rows by ``spec.read_row`` in
    order (so their problems are found and worded as ever), in the file's order."""
    assert spec.read_columns is not None
    plain, left = spec.read_columns(table, context)
    if not len(left):  # every row read at column speed: already in the file's order
        return _frame(dict(plain), spec)
    positions = [np.flatnonzero(~np.isin(np.arange(len(table)), left))]
    records = []
    kept = []
    columns = [(c, table.cells[c]) for c in table.columns]
    for i in left.tolist():
        cells = {c: cells[i] for c, cells in columns}
        record = spec.read_row(check, table.numbers[i], cells, context)
        if record is not None:
            records.append(record)
            kept.append(i)
    positions.append(np.asarray(kept, dtype=np.intp))
    order = np.argsort(np.concatenate(positions), kind="stable")
    joined = {}
    for name in spec.columns:
        slow = np.empty(len(records), dtype=plain[name].dtype)
        slow[:] = [record[name] for record in records]
        joined[name] = np.concatenate([plain[name], slow])[order]
    return _frame(joined, spec)


def _frame(joined: dict[str, np.ndarray], spec: TableSpec) -> pd.DataFrame:
    """The checked frame of these columns (a period column typed at column speed)."""
    if "period" in joined:
        joined["period"] = period_column(joined["period"])
    return pd.DataFrame(joined, columns=list(spec.columns))


def _measures(context: Context) -> pd.DataFrame:
    assert context.measures is not None, "the data dictionary is checked first"
    return context.measures


# -- measures.csv -------------------------------------------------------------------------
def _measure_row(
    check: TableChecker, row: int, cells: dict[str, str], context: Context
) -> Record | None:
    measure_id = check.text(row, cells, "measure_id", required=True)
    if check.duplicate(measure_id, row, "measure_id", f"measure_id {quote(measure_id)}"):
        return None
    raw_polarity = cells.get("polarity", "").strip()
    if not raw_polarity:
        check.add(row, "polarity", "polarity is empty: write up, down or neutral")
    polarity = check.enum(row, cells, "polarity", Polarity, Polarity.NEUTRAL, _POLARITY_WORDS)
    tsl = check.number(row, cells, "tsl")
    msl = check.number(row, cells, "msl")
    has_levels = not (math.isnan(tsl) and math.isnan(msl))
    default_method = RagMethod.THRESHOLDS if has_levels else RagMethod.TOLERANCE
    _check_levels(check, row, measure_id, polarity, tsl, msl)
    basis = check.enum(row, cells, "basis", Basis, Basis.PERIOD, _BASIS_WORDS)
    aggregation = check.enum(row, cells, "aggregation", Aggregation, Aggregation.LAST)
    if (
        basis in (Basis.YTD, Basis.SNAPSHOT, Basis.ROLLING_12)
        and aggregation is not Aggregation.LAST
    ):
        check.add(
            row,
            "aggregation",
            f"aggregation is {aggregation.value} for {measure_id}, whose basis is "
            f"{basis.value}: such a figure already covers its period, so a quarter takes its "
            "last month (aggregation last)",
        )
    unit, scale = _unit_and_scale(check, row, cells)
    service = check.text(row, cells, "service", required=True)
    if len(service) > MAX_SERVICE_NAME:
        check.add(
            row,
            "service",
            f"service {quote(service)} is {len(service)} characters long: at most "
            f"{MAX_SERVICE_NAME} (the name heads the service's slides and web page)",
        )
    return {
        "measure_id": measure_id,
        "service": service,
        "title": check.text(row, cells, "title", required=True),
        "short_title": check.text(row, cells, "short_title", required=False),
        "description": check.text(row, cells, "description", required=False),
        "polarity": polarity.value,
        "unit": unit.value,
        "scale": scale.value,
        "frequency": check.enum(row, cells, "frequency", Frequency, Frequency.MONTHLY).value,
        "aggregation": aggregation.value,
        "category": _category(check, row, cells, context.config or CouncilConfig.defaults()),
        "rag_method": check.enum(row, cells, "rag_method", RagMethod, default_method).value,
        "target": check.number(row, cells, "target"),
        "tolerance": _tolerance(check, row, cells),
        "tsl": tsl,
        "msl": msl,
        "lead_officer": check.text(row, cells, "lead_officer", required=False),
        "data_owner": check.text(row, cells, "data_owner", required=False),
        "include": _yes_no(check, row, cells, "include", default=True),
        "seasonal": _yes_no(check, row, cells, "seasonal", default=False),
        "public": _yes_no(check, row, cells, "public", default=False),
        "benchmark": check.text(row, cells, "benchmark", required=False),
        "basis": basis.value,
        "abatement_points": _abatement_points(check, row, cells),
        "spc_recalculate": ", ".join(_spc_periods(check, row, cells, "spc_recalculate", context)),
        "spc_baseline": ", ".join(_spc_periods(check, row, cells, "spc_baseline", context)[:1]),
        "row": row,
    }


_QUARTER_WORD = re.compile(r"^[Qq][1-4]$")


#: The longest service name: it heads every slide and names the report's files.
MAX_SERVICE_NAME = 100


def _abatement_points(check: TableChecker, row: int, cells: dict[str, str]) -> float:
    """A contract KPI's abatement points (0 for a measure that is not a contract KPI)."""
    points = check.number(row, cells, "abatement_points")
    if math.isnan(points):
        return 0.0
    if points < 0:
        check.add(row, "abatement_points", f"abatement_points {points:g} is negative")
        return 0.0
    return points


def _spc_periods(
    check: TableChecker, row: int, cells: dict[str, str], column: str, context: Context
) -> list[str]:
    """The periods an SPC column names, as labels: space-separated (a quarter's ``Q1`` kept
    with its year), commas and semicolons allowed; one only for the baseline."""
    raw = cells.get(column, "").strip()
    tokens = raw.replace(",", " ").replace(";", " ").split()
    joined: list[str] = []
    for token in tokens:
        if joined and _QUARTER_WORD.match(token):
            joined[-1] = f"{joined[-1]} {token}"
        else:
            joined.append(token)
    if column == "spc_baseline" and len(joined) > 1:
        check.add(
            row,
            column,
            f"{column} {quote(raw)} names {len(joined)} periods: give the last period of the "
            "baseline only",
        )
        return []
    labels = []
    for text in joined:
        try:
            period = context.calendar.parse(text)
        except ValueError as err:
            check.add(row, column, f"{column} {err}")
            continue
        labels.append(context.calendar.label(period))
    return labels


def _category(check: TableChecker, row: int, cells: dict[str, str], config: CouncilConfig) -> str:
    """The configured category the cell names ('' for none: grouped as other measures)."""
    raw = cells.get("category", "").strip()
    name = config.category(raw)
    if name is None:
        check.add(
            row,
            "category",
            f"category {quote(raw)} is not one of the council's categories "
            f"({', '.join(config.category_names)}): name it in the configuration's "
            "categories, or correct the cell",
        )
        return ""
    return name


def _unit_and_scale(check: TableChecker, row: int, cells: dict[str, str]) -> tuple[Unit, Scale]:
    """The unit, and the scale of a currency or count (``£000s``: thousands of pounds)."""
    raw_unit = cells.get("unit", "").strip()
    key = raw_unit.lower().replace(" ", "")
    if key in _UNIT_WORDS:
        unit, scale = _UNIT_WORDS[key]
    else:
        unit, scale = check.enum(row, cells, "unit", Unit, Unit.NUMBER), Scale.UNITS
    raw_scale = cells.get("scale", "").strip()
    if raw_scale:
        try:
            scale = parse_enum(Scale, raw_scale.replace(" ", ""), _SCALE_WORDS)
        except ValueError:
            check.add(
                row, "scale",
                f"scale {quote(raw_scale)} is not one of units, thousands (£000s), millions (£m)",
            )  # fmt: skip
    if scale is not Scale.UNITS and unit not in _SCALED_UNITS:
        check.add(
            row, "scale",
            f"scale {scale.value} is for currency and counts, not a {unit.value} measure",
        )  # fmt: skip
        scale = Scale.UNITS
    return unit, scale


def _tolerance(check: TableChecker, row: int, cells: dict[str, str]) -> float:
    """The measure's own tolerance, or NaN: the council's default applies when rating."""
    raw = cells.get("tolerance", "").strip()
    if not raw:
        return math.nan
    try:
        number, percent = parse_number(raw)
    except ValueError:
        check.add(row, "tolerance", f"tolerance {quote(raw)} is not a number")
        return math.nan
    if percent:
        number /= 100
    if number < 0 or number > 1:
        check.add(
            row,
            "tolerance",
            f"tolerance {quote(raw)} must be a fraction between 0 and 1 (0.05) "
            "or a percentage (5%)",
        )
        return math.nan
    return number


def _yes_no(
    check: TableChecker, row: int, cells: dict[str, str], column: str, default: bool
) -> bool:
    raw = cells.get(column, "").strip().lower()
    if not raw:
        return default
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    check.add(row, column, f"{column} {quote(raw)} is not yes or no")
    return default


def _check_levels(
    check: TableChecker, row: int, measure_id: str, polarity: Polarity, tsl: float, msl: float
) -> None:
    """TSL must be the harder level: above MSL when up is good, below it when down is good."""
    if math.isnan(tsl) or math.isnan(msl):
        return
    if polarity is Polarity.UP and tsl < msl:
        check.add(
            row,
            "tsl",
            f"tsl {tsl:g} is below msl {msl:g} for {measure_id}, where bigger is better: "
            "the target service level must be the harder one",
        )
    elif polarity is Polarity.DOWN and tsl > msl:
        check.add(
            row,
            "tsl",
            f"tsl {tsl:g} is above msl {msl:g} for {measure_id}, where smaller is better: "
            "the target service level must be the harder one",
        )


MEASURE_COLUMNS = (
    "measure_id", "service", "title", "short_title", "description", "polarity", "unit",
    "scale", "frequency", "aggregation", "category", "rag_method", "target", "tolerance", "tsl",
    "msl", "lead_officer", "data_owner", "include", "seasonal", "public", "benchmark", "basis",
    "abatement_points", "spc_recalculate", "spc_baseline", "row",
)  # fmt: skip
MEASURES = TableSpec(
    name="measures",
    required=("measure_id", "service", "title", "polarity"),
    columns=MEASURE_COLUMNS,
    read_row=_measure_row,
    copies=False,
)


# -- targets.csv --------------------------------------------------------------------------
def _target_row(
    check: TableChecker, row: int, cells: dict[str, str], context: Context
) -> Record | None:
    calendar = context.calendar
    measure_id = check.known_measure(row, cells, context)
    start = check.period(row, cells, "start", calendar)
    end = None
    if cells.get("end", "").strip():
        end = check.period(row, cells, "end", calendar)
    levels = {c: check.number(row, cells, c) for c in ("target", "tsl", "msl")}
    no_levels = all(math.isnan(v) for v in levels.values())
    if no_levels:
        check.add(row, "target", "target, tsl and msl are all empty: give at least one")
    if measure_id is None or start is None or no_levels:
        return None
    start_month = calendar.first_month(start)
    end_month = calendar.last_month(end) if end is not None else None
    if end is not None and end_month is not None and end_month < start_month:
        check.add(row, "end", f"end {calendar.label(end)} is before start {calendar.label(start)}")
        return None
    measure = context.measure_info[measure_id]
    tsl = levels["tsl"] if not math.isnan(levels["tsl"]) else float(measure["tsl"])
    msl = levels["msl"] if not math.isnan(levels["msl"]) else float(measure["msl"])
    if math.isnan(tsl) != math.isnan(msl):
        missing = "msl" if math.isnan(msl) else "tsl"
        check.add(
            row,
            missing,
            f"{missing} is missing for {measure_id}: a thresholds measure needs both tsl and msl",
        )
    _check_levels(check, row, measure_id, Polarity(str(measure["polarity"])), tsl, msl)
    return {"measure_id": measure_id, "start": start_month, "end": end_month, **levels, "row": row}


def _check_overlaps(check: TableChecker, frame: pd.DataFrame, context: Context) -> None:
    calendar = context.calendar
    for measure_id, group in frame.groupby("measure_id", sort=False):
        records = group.to_dict("records")
        ranges = sorted(records, key=lambda r: (r["start"].ordinal, r["row"]))
        for before, after in itertools.pairwise(ranges):
            if pd.isna(before["end"]) or after["start"] <= before["end"]:
                check.add(
                    int(after["row"]),
                    "start",
                    f"start {calendar.label(after['start'])} overlaps the target range for "
                    f"{measure_id} on row {before['row']}",
                )


TARGETS = TableSpec(
    name="targets",
    required=("measure_id", "start"),
    columns=("measure_id", "start", "end", "target", "tsl", "msl", "row"),
    read_row=_target_row,
    finish=_check_overlaps,
)


def check_threshold_levels(
    measures: pd.DataFrame, targets: pd.DataFrame, file: str
) -> list[Problem]:
    """A thresholds measure needs both levels somewhere: its own row or targets.csv."""
    problems = []
    with_levels = set(targets.loc[targets["tsl"].notna() | targets["msl"].notna(), "measure_id"])
    tsl, msl = measures["tsl"].isna(), measures["msl"].isna()
    # Only the thresholds measures that lack a level need a look, one by one.
    suspect = (measures["rag_method"] == RagMethod.THRESHOLDS.value) & (tsl | msl)
    for measure_id, m in measures[suspect].iterrows():
        if math.isnan(m["tsl"]) != math.isnan(m["msl"]):
            missing = "msl" if math.isnan(m["msl"]) else "tsl"
            problems.append(
                Problem(
                    file,
                    int(m["row"]),
                    missing,
                    f"{missing} is empty for {measure_id}: a thresholds measure needs both "
                    "tsl and msl",
                )
            )
        elif math.isnan(m["tsl"]) and measure_id not in with_levels:
            problems.append(
                Problem(
                    file,
                    int(m["row"]),
                    "rag_method",
                    f"rag_method is thresholds for {measure_id} but no tsl and msl are given "
                    "here or in targets",
                )
            )
    return problems


# -- values.csv ---------------------------------------------------------------------------
def _value_row(
    check: TableChecker, row: int, cells: dict[str, str], context: Context
) -> Record | None:
    calendar = context.calendar
    measure_id = check.known_measure(row, cells, context)
    period = check.period(row, cells, "period", calendar)
    status = check.enum(row, cells, "status", Status, Status.REPORTED, _STATUS_WORDS)
    if status is Status.MISSING:
        check.add(row, "status", f"status 'missing' is not one of {_INPUT_STATUSES}")
    if measure_id is None or period is None:
        return None
    measure = context.measure_info[measure_id]
    label = f"{measure_id} {calendar.label(period)}"
    granularity = calendar.granularity(period)
    frequency = Frequency(measure["frequency"])
    usable = True
    if granularity not in _ALLOWED_GRANULARITY[frequency]:
        check.add(
            row,
            "period",
            f"period {calendar.label(period)} is a {granularity.word} but {measure_id} is "
            f"{frequency.value}",
        )
        usable = False
    if check.duplicate((measure_id, period), row, "period", f"period: {label}"):
        return None
    before = len(check.problems)
    cells, coverage = _coverage(check, row, cells, calendar, period)
    value, numerator, denominator = _value_cells(check, row, cells, label, measure)
    if len(check.problems) > before:
        return None  # the value cells were already reported
    if status is Status.REPORTED and math.isnan(value):
        check.add(
            row,
            "value",
            f"value is empty for {label}: give a number, or a status saying why "
            "(mitigated, not_available, pending, not_expected)",
        )
    elif status is Status.NOT_AVAILABLE and not math.isnan(value):
        check.add(row, "status", f"status is not_available for {label} but a value is given")
    _check_ratio(check, row, cells, label, measure, value, numerator, denominator)
    if not usable:
        return None
    return {
        "measure_id": measure_id,
        "period": period,
        "granularity": int(granularity),
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        "status": status.value,
        "note": cells.get("note", "").strip(),
        "flags": _flags(check, row, cells),
        "restated_from": check.number(row, cells, "restated_from"),
        "rag_override": _rag_override(check, row, cells),
        "coverage": coverage,
        "row": row,
    }


def _value_cells(
    check: TableChecker, row: int, cells: dict[str, str], label: str, measure: dict[str, str]
) -> tuple[float, float, float]:
    """The value, numerator and denominator of a row, reading ``229 / 2996`` as a ratio."""
    numerator = check.number(row, cells, "numerator", f" for {label}")
    denominator = check.number(row, cells, "denominator", f" for {label}")
    raw = cells.get("value", "").strip()
    value = math.nan
    ratio = _RATIO.match(raw)
    if ratio:
        try:
            numerator = parse_number(ratio.group(1))[0]
            denominator = parse_number(ratio.group(2))[0]
        except ValueError:
            check.add(row, "value", f"value {quote(raw)} for {label} is not a number")
            return math.nan, math.nan, math.nan
    elif raw:
        try:
            value = parse_number(raw)[0]
        except ValueError:
            check.add(row, "value", f"value {quote(raw)} for {label} is not a number")
            return math.nan, numerator, denominator
    if denominator == 0:
        check.add(row, "denominator", f"denominator is zero for {label}")
        return value, numerator, math.nan
    if denominator < 0:
        check.add(
            row,
            "denominator",
            f"denominator {denominator:g} for {label} is negative: a denominator counts what "
            "the measure is out of, so it is above zero",
        )
        return value, numerator, math.nan
    if Unit(measure["unit"]) is Unit.PERCENT and not math.isnan(numerator + denominator):
        if numerator < 0:
            check.add(
                row,
                "numerator",
                f"numerator {numerator:g} for {label} is negative: a percentage's numerator "
                "counts part of its denominator",
            )
        elif numerator > denominator:
            check.add(
                row,
                "numerator",
                f"numerator {numerator:g} for {label} is above its denominator "
                f"{denominator:g}: a percentage of a whole is at most 100% (for a measure that "
                "may pass 100%, give the value without numerator and denominator)",
            )
    if math.isnan(value) and not (math.isnan(numerator) or math.isnan(denominator)):
        value = ratio_value(numerator, denominator, Unit(measure["unit"]))
    return value, numerator, denominator


_PART_YEAR = re.compile(r"^(?P<value>.*?)\s*\((?:to\s+)?Q(?P<quarter>[1-4])\)$", re.IGNORECASE)
_COVERAGE = re.compile(
    r"^(?:(?:to\s+)?Q(?P<quarter>[1-4])|(?P<months>\d{1,2})(?:\s+of\s+(?P<of>\d{1,2}))?\s+months?)$",
    re.IGNORECASE,
)


def _coverage(
    check: TableChecker,
    row: int,
    cells: dict[str, str],
    calendar: FiscalCalendar,
    period: pd.Period,
) -> tuple[dict[str, str], float]:
    """How many months of its period a value covers (NaN: all of them), from a ``coverage``
    cell (``to Q3``, ``Q3``, ``9 of 12 months``) or a value annotated as councils write it
    (``1,918 (Q3)``, ``98.20% (Q3)``); returns the cells with the annotation taken off."""
    raw = cells.get("coverage", "").strip()
    value = cells.get("value", "").strip()
    annotated = _PART_YEAR.match(value)
    if annotated:
        cells = {**cells, "value": annotated.group("value")}
        raw = raw or f"Q{annotated.group('quarter')}"
    if not raw:
        return cells, math.nan
    months_in = (calendar.last_month(period) - calendar.first_month(period)).n + 1
    column = "value" if annotated and not cells.get("coverage", "").strip() else "coverage"
    shown = f"{column} {quote(value if column == 'value' else raw)}"
    has = f"the period has {months_in} month{'s' if months_in != 1 else ''}"
    match = _COVERAGE.match(raw)
    if match is None:
        check.add(
            row, column, f"{shown}: coverage is to Q1-Q3 or a number of months (9 of 12 months)"
        )
        return cells, math.nan
    if match.group("quarter") and months_in != 12:
        check.add(row, column, f"{shown}: 'to Q{match.group('quarter')}' is part of a year; {has}")
        return cells, math.nan
    months = (
        3 * int(match.group("quarter")) if match.group("quarter") else int(match.group("months"))
    )
    if match.group("of") and int(match.group("of")) != months_in:
        check.add(row, column, f"{shown}: {has}")
        return cells, math.nan
    if not 1 <= months <= months_in:
        check.add(row, column, f"{shown}: {has}")
        return cells, math.nan
    return cells, (math.nan if months == months_in else float(months))


def _check_ratio(
    check: TableChecker,
    row: int,
    cells: dict[str, str],
    label: str,
    measure: dict[str, str],
    value: float,
    numerator: float,
    denominator: float,
) -> None:
    """A value given with its numerator and denominator must agree with them, to the
    precision it is written in (33.9% for 961 / 2927 = 32.8% does not)."""
    raw = cells.get("value", "").strip()
    if math.isnan(value) or math.isnan(numerator) or math.isnan(denominator) or not raw:
        return
    if _RATIO.match(raw):
        return  # the value was worked out from them
    computed = ratio_value(numerator, denominator, Unit(measure["unit"]))
    written = raw.rstrip("%").replace(",", "")
    decimals = len(written.split(".", 1)[1]) if "." in written else 0
    if abs(value - computed) > 0.5 * 10**-decimals + 1e-9 * max(1.0, abs(computed)):
        shown = f"{computed:.{max(decimals, 1)}f}"
        check.warn(
            row,
            "value",
            f"value {quote(raw)} for {label} disagrees with numerator / denominator "
            f"{numerator:g} / {denominator:g} = {shown}"
            + ("%" if Unit(measure["unit"]) is Unit.PERCENT else ""),
        )


def ratio_value(numerator: float, denominator: float, unit: Unit) -> float:
    """A value from its numerator and denominator: a percentage for percent measures."""
    scale = 100.0 if unit is Unit.PERCENT else 1.0
    return scale * numerator / denominator


def _flags(check: TableChecker, row: int, cells: dict[str, str]) -> str:
    raw = cells.get("flag", cells.get("flags", "")).strip()
    if not raw:
        return ""
    found: list[str] = []
    for token in filter(None, (t.strip().lower() for t in re.split(r"[,;]", raw))):
        key = re.sub(r"[\s\-]+", "_", token)
        if key not in _FLAG_WORDS:
            check.add(row, "flag", f"flag {quote(token)} is not one of {words(Flag)}")
            continue
        found.append(_FLAG_WORDS[key].value)
    return " ".join(dict.fromkeys(found))


def _rag_override(check: TableChecker, row: int, cells: dict[str, str]) -> str:
    raw = cells.get("rag_override", "").strip()
    if not raw:
        return ""
    try:
        return parse_enum(RAG, raw).value
    except ValueError:
        check.add(row, "rag_override", f"rag_override {quote(raw)} is not one of {words(RAG)}")
        return ""


# -- values.csv at column speed -----------------------------------------------------------
class _Left:
    """What a cell reads as when the row reader must see its row."""


_LEFT = _Left()


def _each_distinct(
    cells: Sequence[str] | np.ndarray, read: Callable[[str], Any]
) -> tuple[np.ndarray, list[Any]]:
    """Each distinct cell read once: the cells' codes and what each distinct cell reads as."""
    codes, uniques = pd.factorize(np.asarray(cells, dtype=object), use_na_sentinel=False)
    return codes, [read(text) for text in uniques.tolist()]


def _quietly(
    table: RawTable, column: str, read: Callable[[TableChecker, int, dict[str, str]], Any]
) -> Callable[[str], Any]:
    """A cell reader of the row reader's own; a cell it has anything to say of (a problem or
    a warning) reads as ``_LEFT``."""
    scratch = TableChecker(table)

    def quiet(text: str) -> Any:
        found = read(scratch, 0, {column: text})
        if scratch.problems or scratch.warnings:
            scratch.problems.clear()
            scratch.warnings.clear()
            return _LEFT
        return found

    return quiet


def _values_by_column(
    table: RawTable, context: Context
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The plainly well-formed rows of values.csv read a column at a time, as
    :func:`_value_row` reads them: each distinct cell once, then whole columns at once. Any
    row with something to say (a problem, a warning, a duplicate, a ratio or part-year
    figure to work out) is left to :func:`_value_row`."""
    calendar = context.calendar
    years = context.years
    measures = _measures(context)
    n = len(table)
    left = np.zeros(n, dtype=bool)

    def read(name: str, reader: Callable[[str], Any]) -> tuple[np.ndarray, list[Any]]:
        codes, found = _each_distinct(table.column(name), reader)
        left[np.array([f is _LEFT for f in found], dtype=bool)[codes]] = True
        return codes, found

    def floats(found: list[Any]) -> np.ndarray:
        return np.array([math.nan if f is _LEFT else f for f in found], dtype=float)

    def texts(name: str, reader: Callable[[str], Any]) -> np.ndarray:
        codes, found = read(name, reader)
        distinct = np.array(["" if f is _LEFT else f for f in found], dtype=object)
        return np.take(distinct, codes)

    def numbers(name: str) -> np.ndarray:
        codes, found = read(
            name, _quietly(table, name, lambda c, r, cells: c.number(r, cells, name))
        )
        return np.take(floats(found), codes)

    # The measure and the period: positions in the data dictionary and distinct periods.
    position = {m: i for i, m in enumerate(measures.index)}
    m_codes, m_found = read("measure_id", lambda t: position.get(t.strip(), _LEFT))
    measure = np.array([-1 if f is _LEFT else f for f in m_found], dtype=np.intp)[m_codes]

    def period(text: str) -> Any:
        if not text.strip():
            return _LEFT
        try:
            found = calendar.parse(text.strip())
        except ValueError:
            return _LEFT
        return found if in_years(calendar, found, years) else _LEFT

    p_codes, p_found = read("period", period)
    distinct = {p: i for i, p in enumerate(dict.fromkeys(f for f in p_found if f is not _LEFT))}
    p_canon = np.array([-1 if f is _LEFT else distinct[f] for f in p_found], dtype=np.intp)
    p_grain = np.array([0 if f is _LEFT else int(calendar.granularity(f)) for f in p_found])
    p_objects = np.empty(len(p_found), dtype=object)
    p_objects[:] = [None if f is _LEFT else f for f in p_found]
    known = (measure >= 0) & (p_canon[p_codes] >= 0)

    # A figure of a length of period its measure does not have is the row reader's.
    frequencies = list(Frequency)
    m_frequency = np.array([frequencies.index(Frequency(f)) for f in measures["frequency"]])
    allowed = np.zeros((len(frequencies), max(int(g) for g in Granularity) + 1), dtype=bool)
    for i, f in enumerate(frequencies):
        for g in _ALLOWED_GRANULARITY[f]:
            allowed[i, int(g)] = True
    grain = p_grain[p_codes]
    left[known & ~allowed[m_frequency[np.where(known, measure, 0)], grain]] = True
    # A measure and period given twice: every row of it goes to the row reader, in order.
    key = np.where(known, measure * (len(distinct) + 1) + p_canon[p_codes], -1 - np.arange(n))
    left[pd.Series(key).duplicated(keep=False).to_numpy()] = True

    quiet_status = _quietly(table, "status", lambda c, r, cells: c.enum(
        r, cells, "status", Status, Status.REPORTED, _STATUS_WORDS))  # fmt: skip

    def status(text: str) -> Any:
        found = quiet_status(text)
        return _LEFT if found is Status.MISSING else found  # 'missing' is not an input

    s_codes, s_found = read("status", status)
    reported = np.array([f is Status.REPORTED for f in s_found], dtype=bool)[s_codes]
    not_available = np.array([f is Status.NOT_AVAILABLE for f in s_found], dtype=bool)[s_codes]
    statuses = np.array(["" if f is _LEFT else f.value for f in s_found], dtype=object)[s_codes]

    def value(text: str) -> Any:
        """The number and the text it is written as."""
        raw = text.strip()
        if not raw:
            return math.nan, raw
        if _RATIO.match(raw) or _PART_YEAR.match(raw):
            return _LEFT  # a ratio or a part-year figure
        try:
            return parse_number(raw)[0], raw
        except ValueError:
            return _LEFT

    v_codes, v_found = read("value", value)
    v_read = [(math.nan, "") if f is _LEFT else f for f in v_found]
    values = np.array([number for number, _ in v_read], dtype=float)[v_codes]
    # How far a written value may be from its numerator / denominator: half its last digit.
    tolerance = np.array([0.5 * 10 ** -_decimals(raw) for _, raw in v_read])[v_codes]
    written = np.array([bool(raw) for _, raw in v_read], dtype=bool)[v_codes]
    numerators = numbers("numerator")
    denominators = numbers("denominator")
    read("coverage", lambda text: "" if not text.strip() else _LEFT)

    with np.errstate(invalid="ignore"):
        left |= denominators <= 0
    scale = np.array([100.0 if Unit(u) is Unit.PERCENT else 1.0 for u in measures["unit"]])
    row_scale = scale[np.where(measure >= 0, measure, 0)]
    both = ~np.isnan(numerators) & ~np.isnan(denominators)
    # A percentage's numerator is part of its denominator: anything else is the row reader's.
    with np.errstate(invalid="ignore"):
        left |= both & (row_scale == 100.0) & ((numerators < 0) | (numerators > denominators))
    with np.errstate(divide="ignore", invalid="ignore"):
        computed = row_scale * numerators / denominators
    worked_out = np.isnan(values) & both
    values = np.where(worked_out, computed, values)
    left |= reported & np.isnan(values)
    left |= not_available & ~np.isnan(values)
    checked = written & both & ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        off = np.abs(values - computed) > tolerance + 1e-9 * np.maximum(1.0, np.abs(computed))
    left |= checked & off  # the row reader words the warning

    flag = "flag" if "flag" in table.columns else "flags"
    columns = {
        "measure_id": np.asarray(measures.index, dtype=object)[np.where(measure >= 0, measure, 0)],
        "period": p_objects[p_codes],
        "granularity": grain.astype(np.int64),
        "value": values,
        "numerator": numerators,
        "denominator": denominators,
        "status": statuses,
        "note": texts("note", str.strip),
        "flags": texts(flag, _quietly(table, flag, _flags)),
        "restated_from": numbers("restated_from"),
        "rag_override": texts("rag_override", _quietly(table, "rag_override", _rag_override)),
        "coverage": np.full(n, math.nan),
        "row": np.asarray(table.numbers, dtype=np.int64),
    }
    if not left.any():  # a well-formed file: every row read here, nothing to copy
        return columns, np.flatnonzero(left)
    plain = ~left
    return {name: array[plain] for name, array in columns.items()}, np.flatnonzero(left)


def _decimals(text: str) -> int:
    """Digits after the point of a value as written (``32.8%`` has one)."""
    written = text.rstrip("%").replace(",", "")
    return len(written.split(".", 1)[1]) if "." in written else 0


VALUE_COLUMNS = (
    "measure_id", "period", "granularity", "value", "numerator", "denominator", "status",
    "note", "flags", "restated_from", "rag_override", "coverage", "row",
)  # fmt: skip
VALUES = TableSpec(
    name="values",
    required=("measure_id", "period", "value"),
    columns=VALUE_COLUMNS,
    read_row=_value_row,
    read_columns=_values_by_column,
    copies=False,
)


# -- comments.csv -------------------------------------------------------------------------
def _comment_row(
    check: TableChecker, row: int, cells: dict[str, str], context: Context
) -> Record | None:
    calendar = context.calendar
    measures = _measures(context)
    service = check.known_service(row, cells, context)
    quarter = check.period(row, cells, "quarter", calendar)
    if quarter is not None and calendar.granularity(quarter) is not Granularity.QUARTER:
        check.add(row, "quarter", f"quarter {calendar.label(quarter)} is not a financial quarter")
    measure_id = cells.get("measure_id", "").strip()
    if measure_id:
        if measure_id not in measures.index:
            check.add(row, "measure_id", f"measure_id {quote(measure_id)} is not in measures")
        elif service and (owner := str(context.measure_info[measure_id]["service"])) != service:
            check.add(
                row, "measure_id", f"measure_id {measure_id} belongs to {owner}, not {service}"
            )
    default = Section.EXCEPTION if measure_id else None
    if not cells.get("section", "").strip() and default is None:
        check.add(
            row, "section",
            "section is empty: give a measure_id or one of "
            + ", ".join(s.value for s in SERVICE_SECTIONS),
        )  # fmt: skip
        return None
    section = check.enum(row, cells, "section", Section, default or Section.SUMMARY)
    if section.value in PROMPT_SECTIONS and not measure_id:
        check.add(
            row, "section", f"section {section.value} answers a prompt about an exception: "
            "give its measure_id",
        )  # fmt: skip
    return {
        "service": service,
        "quarter": quarter,
        "measure_id": measure_id,
        "section": section.value,
        "author": cells.get("author", "").strip(),
        "comment": cells.get("comment", "").strip(),
        "internal": _yes_no(check, row, cells, "internal", default=False),
        "row": row,
    }


COMMENTS = TableSpec(
    name="comments",
    required=("service", "quarter", "comment"),
    columns=("service", "quarter", "measure_id", "section", "author", "comment", "internal", "row"),
    read_row=_comment_row,
)


# -- actions.csv --------------------------------------------------------------------------
def _action_row(
    check: TableChecker, row: int, cells: dict[str, str], context: Context
) -> Record | None:
    measures = _measures(context)
    service = check.known_service(row, cells, context)
    action_id = check.text(row, cells, "action_id", required=True)
    if check.duplicate((service, action_id), row, "action_id", f"action_id {quote(action_id)}"):
        return None
    due_text = cells.get("due", "").strip()
    due = None
    if due_text:
        try:
            due = parse_date(due_text)
        except ValueError:
            check.add(row, "due", f"due {quote(due_text)} is not a date (write 2024-03-31)")
    linked = cells.get("measures", "").replace(",", " ").split()
    for measure_id in linked:
        if measure_id not in measures.index:
            check.add(
                row, "measures", f"measures names {quote(measure_id)}, which is not in measures"
            )
    return {
        "service": service,
        "action_id": action_id,
        "action": check.text(row, cells, "action", required=True),
        "owner": cells.get("owner", "").strip(),
        "due": due,
        "status": check.enum(row, cells, "status", ActionStatus, ActionStatus.NOT_STARTED).value,
        "measures": " ".join(linked),
        "note": cells.get("note", "").strip(),
        "row": row,
    }


ACTION_COLUMNS = (
    "service", "action_id", "action", "owner", "due", "status", "measures", "note", "row",
)  # fmt: skip
ACTIONS = TableSpec(
    name="actions",
    required=("service", "action_id", "action"),
    columns=ACTION_COLUMNS,
    read_row=_action_row,
    copies=False,
)


# -- benchmarks.csv -----------------------------------------------------------------------
def _benchmark_row(
    check: TableChecker, row: int, cells: dict[str, str], context: Context
) -> Record | None:
    """One area's value; an empty value (or LG Inform's ``-``, ``..``, ``x``, ``c`` for not
    reported or suppressed) is a peer that did not report, counted as such."""
    measure_id = check.known_measure(row, cells, context)
    period = check.period(row, cells, "period", context.calendar)
    raw = cells.get("value", "").strip()
    value = math.nan if raw.lower() in _NOT_REPORTED else check.number(row, cells, "value")
    area = cells.get("area", "").strip()
    peer_group = cells.get("peer_group", "").strip() or "peers"
    if not area:
        check.add(row, "area", "area is empty: name the council the value is for")
    elif measure_id is not None and period is not None:
        what = (
            f"area {quote(area)} for {measure_id} {context.calendar.label(period)} ({peer_group})"
        )
        if check.duplicate((measure_id, period, area.casefold(), peer_group.casefold()), row,
                           "area", what):  # fmt: skip
            return None
    return {
        "measure_id": measure_id,
        "period": period,
        "area": area,
        "peer_group": peer_group,
        "value": value,
        "row": row,
    }


_NOT_REPORTED = {"", "-", "–", "..", "…", "x", "c", ":", "*", "n/a", "na", "not available"}


#: Column names LG Inform's downloads and councils' own benchmark sheets use.
_BENCHMARK_COLUMNS = {
    "area_name": "area", "name": "area", "authority": "area", "council": "area",
    "local_authority": "area", "comparison_group": "peer_group", "comparator_group": "peer_group",
    "group": "peer_group", "peer_group_name": "peer_group", "time_period": "period",
    "year": "period", "data_value": "value", "figure": "value",
}  # fmt: skip


def _benchmark_shapes(table: RawTable, context: Context) -> RawTable:
    """LG Inform's shapes as the contract's: its column names (``Area name``, ``Period``,
    ``Value``), and a table with a column per period (``2022/23``, ``2023/24``) instead of
    ``period`` and ``value`` columns, read as one row per area and period."""
    renamed = {c: _BENCHMARK_COLUMNS.get(c, c) for c in table.columns}
    if len(set(renamed.values())) < len(renamed) or renamed == {c: c for c in table.columns}:
        renamed = {c: c for c in table.columns}  # a clash: checked as written
    columns = tuple(renamed[c] for c in table.columns)
    rows = tuple((n, {renamed.get(k, k): v for k, v in cells.items()}) for n, cells in table.rows)
    if "period" in columns or "value" in columns:
        return RawTable.from_rows(table.file, columns, rows)
    periods = {}
    for column in columns:
        try:
            context.calendar.parse(column.replace("_", " "))
        except ValueError:
            continue
        periods[column] = column.replace("_", " ")
    if not periods:
        return RawTable.from_rows(table.file, columns, rows)
    kept = tuple(c for c in columns if c not in periods)
    melted = []
    for number, cells in rows:
        base = {k: v for k, v in cells.items() if k not in periods}
        for column, label in periods.items():
            melted.append((number, {**base, "period": label, "value": cells.get(column, "")}))
    return RawTable.from_rows(table.file, (*kept, "period", "value"), melted)


BENCHMARKS = TableSpec(
    name="benchmarks",
    required=("measure_id", "period", "area", "value"),
    columns=("measure_id", "period", "area", "peer_group", "value", "row"),
    read_row=_benchmark_row,
    reshape=_benchmark_shapes,
)


# -- restatements.csv --------------------------------------------------------------------
def _restatement_row(
    check: TableChecker, row: int, cells: dict[str, str], context: Context
) -> Record | None:
    """A figure that changed since a report was published (the history store writes these
    beside the data it exports)."""
    dates: dict[str, dt.date | None] = {}
    for column in ("restated_on", "published_on"):
        text = cells.get(column, "").strip()
        dates[column] = None
        if text:
            try:
                dates[column] = parse_date(text)
            except ValueError:
                check.add(row, column, f"{column} {quote(text)} is not a date (write 2024-10-03)")
    rags = {}
    for column in ("rag_before", "rag_after"):
        rags[column] = (
            check.enum(row, cells, column, RAG, RAG.WHITE).value
            if cells.get(column, "").strip()
            else ""
        )
    return {
        "service": check.known_service(row, cells, context),
        "report_period": check.period(row, cells, "report_period", context.calendar),
        "measure_id": check.known_measure(row, cells, context),
        "value_before": check.number(row, cells, "value_before"),
        "value_after": check.number(row, cells, "value_after"),
        "status_before": cells.get("status_before", "").strip(),
        "status_after": cells.get("status_after", "").strip(),
        **rags,
        **dates,
        "reason": cells.get("reason", "").strip(),
        "row": row,
    }


RESTATEMENT_COLUMNS = (
    "service", "report_period", "measure_id", "value_before", "value_after", "status_before",
    "status_after", "rag_before", "rag_after", "restated_on", "published_on", "reason", "row",
)  # fmt: skip
RESTATEMENTS = TableSpec(
    name="restatements",
    required=("service", "report_period", "measure_id"),
    columns=RESTATEMENT_COLUMNS,
    read_row=_restatement_row,
)


# -- signoff.csv --------------------------------------------------------------------------
def parse_moment(text: str) -> dt.datetime:
    """An ISO time (``2024-07-14T10:30``, with or without an offset) or a date; a time with
    an offset is kept in UTC."""
    s = text.strip()
    try:
        moment = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        moment = dt.datetime.combine(parse_date(s), dt.time(0, 0))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _report_period(
    check: TableChecker, row: int, cells: dict[str, str], context: Context
) -> pd.Period | None:
    return check.period(row, cells, "period", context.calendar)


def _signoff_row(
    check: TableChecker, row: int, cells: dict[str, str], context: Context
) -> Record | None:
    period = _report_period(check, row, cells, context)
    text = cells.get("at", "").strip()
    at = None
    if text:
        try:
            at = parse_moment(text)
        except ValueError:
            check.add(row, "at", f"at {quote(text)} is not a time (write 2024-07-14T10:30)")
    return {
        "service": check.known_service(row, cells, context),
        "period": context.calendar.label(period) if period is not None else "",
        "state": check.enum(row, cells, "state", SignOffState, SignOffState.DRAFT).value,
        "by": cells.get("by", "").strip(),
        "at": at,
        "digest": cells.get("digest", "").strip(),
        "note": cells.get("note", "").strip(),
        "row": row,
    }


SIGNOFF_COLUMNS = ("service", "period", "state", "by", "at", "digest", "note", "row")
SIGNOFF = TableSpec(
    name="signoff",
    required=("service", "period", "state"),
    columns=SIGNOFF_COLUMNS,
    read_row=_signoff_row,
    copies=False,  # a log kpitools appends to: a step recorded twice in a second is one
)


# -- decisions.csv ------------------------------------------------------------------------
def _decision_row(
    check: TableChecker, row: int, cells: dict[str, str], context: Context
) -> Record | None:
    service = check.known_service(row, cells, context)
    measure_id = check.known_measure(row, cells, context)
    if measure_id and service and (owner := context.measure_info[measure_id]["service"]) != service:
        check.add(row, "measure_id", f"measure_id {measure_id} belongs to {owner}, not {service}")
    dates: dict[str, dt.date | None] = {}
    for column in ("report_back", "closed"):
        text = cells.get(column, "").strip()
        dates[column] = None
        if text:
            try:
                dates[column] = parse_date(text)
            except ValueError:
                check.add(row, column, f"{column} {quote(text)} is not a date (write 2024-11-30)")
    if not cells.get("decision", "").strip():
        check.add(row, "decision", f"decision is empty: one of {words(FollowUp)}")
    return {
        "service": service,
        "period": _report_period(check, row, cells, context),
        "measure_id": measure_id or "",
        "committee": cells.get("committee", "").strip(),
        "decision": check.enum(row, cells, "decision", FollowUp, FollowUp.APPROVE_ACTIONS).value,
        **dates,
        "note": cells.get("note", "").strip(),
        "row": row,
    }


DECISION_COLUMNS = (
    "service", "period", "measure_id", "committee", "decision", "report_back", "closed",
    "note", "row",
)  # fmt: skip
DECISIONS = TableSpec(
    name="decisions",
    required=("service", "period", "measure_id", "decision"),
    columns=DECISION_COLUMNS,
    read_row=_decision_row,
)

#: Every file's spec, in the order files are checked (the data dictionary first).
SPECS = {
    spec.name: spec
    for spec in (
        MEASURES, TARGETS, VALUES, COMMENTS, ACTIONS, BENCHMARKS, SIGNOFF, DECISIONS,
        RESTATEMENTS,
    )
}  # fmt: skip


def _empty(columns: Iterable[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
