"""Checking and typing the input tables against the data contract.

Each ``check_*`` function turns one :class:`~kpitools.loading.RawTable` into a clean, typed
DataFrame and a list of every problem found in it, so that a user sees all problems of all
files in one go. Cell parsing is tolerant of what real spreadsheets hold (``7.0%``,
``5,705``, ``£1,200``, ``229 / 2996``, ``Up is Good``) and strict about everything else.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

import pandas as pd

from kpitools.errors import Problem
from kpitools.model import (
    RAG,
    ActionStatus,
    Aggregation,
    Category,
    Flag,
    Frequency,
    Polarity,
    RagMethod,
    Section,
    Status,
    Unit,
)
from kpitools.periods import FiscalCalendar, Granularity
from kpitools.tables import RawTable

E = TypeVar("E", bound=StrEnum)

REQUIRED_COLUMNS = {
    "measures": ("measure_id", "service", "title", "polarity"),
    "values": ("measure_id", "period", "value"),
    "targets": ("measure_id", "start"),
    "comments": ("service", "quarter", "comment"),
    "actions": ("service", "action_id", "action"),
    "benchmarks": ("measure_id", "period", "value"),
}

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

    def __init__(self, table: RawTable):
        self.table = table
        self.problems: list[Problem] = []

    def add(self, row: int | None, column: str, message: str) -> None:
        self.problems.append(Problem(self.table.file, row, column, message))

    def missing_columns(self, kind: str) -> bool:
        """Report required columns that are absent; True if any are."""
        missing = [c for c in REQUIRED_COLUMNS[kind] if c not in self.table.columns]
        for column in missing:
            self.add(None, column, f"missing required column '{column}'")
        return bool(missing)

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
            return calendar.parse(raw)
        except ValueError as err:
            self.add(row, column, f"{column} {err}")
            return None


# -- measures.csv -------------------------------------------------------------------------
MEASURE_COLUMNS = [
    "measure_id", "service", "title", "description", "polarity", "unit", "frequency",
    "aggregation", "category", "rag_method", "target", "tolerance", "tsl", "msl",
    "lead_officer", "data_owner", "include", "seasonal", "benchmark", "row",
]  # fmt: skip


def check_measures(
    table: RawTable, default_tolerance: float = 0.05
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check the data dictionary; one row per measure, indexed by ``measure_id``."""
    check = TableChecker(table)
    if check.missing_columns("measures"):
        return _empty(MEASURE_COLUMNS).set_index("measure_id"), check.problems
    records: list[dict[str, object]] = []
    first_row: dict[str, int] = {}
    for row, cells in table.rows:
        measure_id = check.text(row, cells, "measure_id", required=True)
        if measure_id in first_row:
            check.add(
                row,
                "measure_id",
                f"measure_id {quote(measure_id)} is a duplicate of row {first_row[measure_id]}",
            )
            continue
        raw_polarity = cells.get("polarity", "").strip()
        if not raw_polarity:
            check.add(row, "polarity", "polarity is empty: write up, down or neutral")
        polarity = check.enum(row, cells, "polarity", Polarity, Polarity.NEUTRAL, _POLARITY_WORDS)
        record: dict[str, object] = {
            "measure_id": measure_id,
            "service": check.text(row, cells, "service", required=True),
            "title": check.text(row, cells, "title", required=True),
            "description": check.text(row, cells, "description", required=False),
            "polarity": polarity.value,
            "unit": check.enum(row, cells, "unit", Unit, Unit.NUMBER).value,
            "frequency": check.enum(row, cells, "frequency", Frequency, Frequency.MONTHLY).value,
            "aggregation": check.enum(
                row, cells, "aggregation", Aggregation, Aggregation.LAST
            ).value,
            "category": check.enum(row, cells, "category", Category, Category.OTHER).value,
            "target": check.number(row, cells, "target"),
            "tsl": check.number(row, cells, "tsl"),
            "msl": check.number(row, cells, "msl"),
            "tolerance": _tolerance(check, row, cells, default_tolerance),
            "lead_officer": check.text(row, cells, "lead_officer", required=False),
            "data_owner": check.text(row, cells, "data_owner", required=False),
            "include": _yes_no(check, row, cells, "include", default=True),
            "seasonal": _yes_no(check, row, cells, "seasonal", default=False),
            "benchmark": check.text(row, cells, "benchmark", required=False),
            "row": row,
        }
        has_levels = not (math.isnan(record["tsl"]) and math.isnan(record["msl"]))  # type: ignore[arg-type]
        default_method = RagMethod.THRESHOLDS if has_levels else RagMethod.TOLERANCE
        record["rag_method"] = check.enum(row, cells, "rag_method", RagMethod, default_method).value
        _check_levels(check, row, measure_id, polarity, record["tsl"], record["msl"])  # type: ignore[arg-type]
        first_row[measure_id] = row
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=MEASURE_COLUMNS)
    return frame.set_index("measure_id"), check.problems


def _tolerance(check: TableChecker, row: int, cells: dict[str, str], default: float) -> float:
    raw = cells.get("tolerance", "").strip()
    if not raw:
        return default
    try:
        number, percent = parse_number(raw)
    except ValueError:
        check.add(row, "tolerance", f"tolerance {quote(raw)} is not a number")
        return default
    if percent:
        number /= 100
    if number < 0 or number > 1:
        check.add(
            row,
            "tolerance",
            f"tolerance {quote(raw)} must be a fraction between 0 and 1 (0.05) "
            "or a percentage (5%)",
        )
        return default
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


# -- targets.csv --------------------------------------------------------------------------
TARGET_COLUMNS = ["measure_id", "start", "end", "target", "tsl", "msl", "row"]


def check_targets(
    table: RawTable, measures: pd.DataFrame, calendar: FiscalCalendar
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check time-varying targets; ``start``/``end`` become months (``end`` NaT = open)."""
    check = TableChecker(table)
    if check.missing_columns("targets"):
        return _empty(TARGET_COLUMNS), check.problems
    records = []
    for row, cells in table.rows:
        measure_id = _known_measure(check, row, cells, measures)
        start = check.period(row, cells, "start", calendar)
        end = None
        if cells.get("end", "").strip():
            end = check.period(row, cells, "end", calendar)
        levels = {c: check.number(row, cells, c) for c in ("target", "tsl", "msl")}
        no_levels = all(math.isnan(v) for v in levels.values())
        if no_levels:
            check.add(row, "target", "target, tsl and msl are all empty: give at least one")
        if measure_id is None or start is None or no_levels:
            continue
        start_month = calendar.first_month(start)
        end_month = calendar.last_month(end) if end is not None else None
        if end_month is not None and end_month < start_month:
            check.add(
                row,
                "end",
                f"end {calendar.label(end)} is before start {calendar.label(start)}",  # type: ignore[arg-type]
            )
            continue
        measure = measures.loc[measure_id]
        tsl = levels["tsl"] if not math.isnan(levels["tsl"]) else measure["tsl"]
        msl = levels["msl"] if not math.isnan(levels["msl"]) else measure["msl"]
        if math.isnan(tsl) != math.isnan(msl):
            missing = "msl" if math.isnan(msl) else "tsl"
            check.add(
                row,
                missing,
                f"{missing} is missing for {measure_id}: "
                "a thresholds measure needs both tsl and msl",
            )
        _check_levels(check, row, measure_id, Polarity(measure["polarity"]), tsl, msl)
        records.append(
            {"measure_id": measure_id, "start": start_month, "end": end_month, **levels, "row": row}
        )
    frame = pd.DataFrame.from_records(records, columns=TARGET_COLUMNS)
    _check_overlaps(check, frame, calendar)
    return frame, check.problems


def _check_overlaps(check: TableChecker, frame: pd.DataFrame, calendar: FiscalCalendar) -> None:
    for measure_id, group in frame.groupby("measure_id", sort=False):
        ranges = sorted(group.itertuples(index=False), key=lambda r: (r.start.ordinal, r.row))
        for before, after in itertools.pairwise(ranges):
            if pd.isna(before.end) or after.start <= before.end:
                check.add(
                    after.row,
                    "start",
                    f"start {calendar.label(after.start)} overlaps the target range for "
                    f"{measure_id} on row {before.row}",
                )


def check_threshold_levels(
    measures: pd.DataFrame, targets: pd.DataFrame, file: str
) -> list[Problem]:
    """A thresholds measure needs both levels somewhere: its own row or targets.csv."""
    problems = []
    with_levels = set(targets.loc[targets["tsl"].notna() | targets["msl"].notna(), "measure_id"])
    for measure_id, m in measures.iterrows():
        if m["rag_method"] != RagMethod.THRESHOLDS:
            continue
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
VALUE_COLUMNS = [
    "measure_id", "period", "granularity", "value", "numerator", "denominator", "status",
    "note", "flags", "restated_from", "rag_override", "row",
]  # fmt: skip


def check_values(
    table: RawTable, measures: pd.DataFrame, calendar: FiscalCalendar
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check the values; one row per measure per period, numbers as floats."""
    check = TableChecker(table)
    if check.missing_columns("values"):
        return _empty(VALUE_COLUMNS), check.problems
    records = []
    first_row: dict[tuple[str, pd.Period], int] = {}
    # Plain dicts: a DataFrame row lookup per value would dominate the load time.
    info = measures[["frequency", "aggregation", "unit"]].to_dict("index")
    for row, cells in table.rows:
        measure_id = _known_measure(check, row, cells, measures)
        period = check.period(row, cells, "period", calendar)
        status = check.enum(row, cells, "status", Status, Status.REPORTED, _STATUS_WORDS)
        if status is Status.MISSING:
            check.add(row, "status", f"status 'missing' is not one of {_INPUT_STATUSES}")
        if measure_id is None or period is None:
            continue
        measure = info[measure_id]
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
        key = (measure_id, period)
        if key in first_row:
            check.add(row, "period", f"period: {label} is a duplicate of row {first_row[key]}")
            continue
        first_row[key] = row
        before = len(check.problems)
        value, numerator, denominator = _value_cells(check, row, cells, label, measure)
        if len(check.problems) > before:
            continue  # the value cells were already reported
        if status is Status.REPORTED and math.isnan(value):
            check.add(
                row,
                "value",
                f"value is empty for {label}: give a number, or a status saying why "
                "(mitigated, not_available, pending, not_expected)",
            )
        elif status is Status.NOT_AVAILABLE and not math.isnan(value):
            check.add(row, "status", f"status is not_available for {label} but a value is given")
        if (
            measure["aggregation"] == Aggregation.RATIO
            and not math.isnan(value)
            and (math.isnan(numerator) or math.isnan(denominator))
        ):
            check.add(
                row,
                "numerator",
                f"numerator and denominator are needed for {label}: its aggregation is ratio",
            )
        if not usable:
            continue
        records.append(
            {
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
                "row": row,
            }
        )
    return pd.DataFrame.from_records(records, columns=VALUE_COLUMNS), check.problems


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
    if math.isnan(value) and not (math.isnan(numerator) or math.isnan(denominator)):
        value = ratio_value(numerator, denominator, Unit(measure["unit"]))
    return value, numerator, denominator


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


def _known_measure(
    check: TableChecker, row: int, cells: dict[str, str], measures: pd.DataFrame
) -> str | None:
    measure_id = cells.get("measure_id", "").strip()
    if not measure_id:
        check.add(row, "measure_id", "measure_id is empty")
        return None
    if measure_id not in measures.index:
        check.add(row, "measure_id", f"measure_id {quote(measure_id)} is not in measures")
        return None
    return measure_id


# -- comments.csv -------------------------------------------------------------------------
COMMENT_COLUMNS = ["service", "quarter", "measure_id", "section", "author", "comment", "row"]


def check_comments(
    table: RawTable, measures: pd.DataFrame, calendar: FiscalCalendar
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check commentary: a known service, a quarter, and a measure of that service or a section."""
    check = TableChecker(table)
    if check.missing_columns("comments"):
        return _empty(COMMENT_COLUMNS), check.problems
    services = set(measures["service"])
    records = []
    for row, cells in table.rows:
        service = check.text(row, cells, "service", required=True)
        if service and service not in services:
            check.add(row, "service", f"service {quote(service)} has no measures")
        quarter = check.period(row, cells, "quarter", calendar)
        if quarter is not None and calendar.granularity(quarter) is not Granularity.QUARTER:
            check.add(
                row, "quarter", f"quarter {calendar.label(quarter)} is not a financial quarter"
            )
        measure_id = cells.get("measure_id", "").strip()
        if measure_id:
            if measure_id not in measures.index:
                check.add(row, "measure_id", f"measure_id {quote(measure_id)} is not in measures")
            elif service and measures.loc[measure_id, "service"] != service:
                check.add(
                    row,
                    "measure_id",
                    f"measure_id {measure_id} belongs to {measures.loc[measure_id, 'service']}, "
                    f"not {service}",
                )
        default = Section.EXCEPTION if measure_id else None
        section = cells.get("section", "").strip()
        if not section and default is None:
            check.add(
                row, "section", f"section is empty: give a measure_id or one of {words(Section)}"
            )
            continue
        parsed = check.enum(row, cells, "section", Section, default or Section.SUMMARY)
        records.append(
            {
                "service": service,
                "quarter": quarter,
                "measure_id": measure_id,
                "section": parsed.value,
                "author": cells.get("author", "").strip(),
                "comment": cells.get("comment", "").strip(),
                "row": row,
            }
        )
    return pd.DataFrame.from_records(records, columns=COMMENT_COLUMNS), check.problems


# -- actions.csv --------------------------------------------------------------------------
ACTION_COLUMNS = [
    "service", "action_id", "action", "owner", "due", "status", "measures", "note", "row",
]  # fmt: skip


def check_actions(table: RawTable, measures: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """Check improvement-plan actions: known service and measures, a date, a status."""
    check = TableChecker(table)
    if check.missing_columns("actions"):
        return _empty(ACTION_COLUMNS), check.problems
    services = set(measures["service"])
    records = []
    first_row: dict[tuple[str, str], int] = {}
    for row, cells in table.rows:
        service = check.text(row, cells, "service", required=True)
        if service and service not in services:
            check.add(row, "service", f"service {quote(service)} has no measures")
        action_id = check.text(row, cells, "action_id", required=True)
        if (service, action_id) in first_row:
            check.add(
                row,
                "action_id",
                f"action_id {quote(action_id)} is a duplicate of row "
                f"{first_row[service, action_id]}",
            )
            continue
        first_row[service, action_id] = row
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
        records.append(
            {
                "service": service,
                "action_id": action_id,
                "action": check.text(row, cells, "action", required=True),
                "owner": cells.get("owner", "").strip(),
                "due": due,
                "status": check.enum(
                    row, cells, "status", ActionStatus, ActionStatus.NOT_STARTED
                ).value,
                "measures": " ".join(linked),
                "note": cells.get("note", "").strip(),
                "row": row,
            }
        )
    return pd.DataFrame.from_records(records, columns=ACTION_COLUMNS), check.problems


# -- benchmarks.csv -----------------------------------------------------------------------
BENCHMARK_COLUMNS = ["measure_id", "period", "area", "peer_group", "value", "row"]


def check_benchmarks(
    table: RawTable, measures: pd.DataFrame, calendar: FiscalCalendar
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check peer values: a known measure, a period and a number."""
    check = TableChecker(table)
    if check.missing_columns("benchmarks"):
        return _empty(BENCHMARK_COLUMNS), check.problems
    records = []
    for row, cells in table.rows:
        measure_id = _known_measure(check, row, cells, measures)
        period = check.period(row, cells, "period", calendar)
        value = check.number(row, cells, "value")
        if not cells.get("value", "").strip():
            check.add(row, "value", "value is empty")
        records.append(
            {
                "measure_id": measure_id,
                "period": period,
                "area": cells.get("area", "").strip(),
                "peer_group": cells.get("peer_group", "").strip(),
                "value": value,
                "row": row,
            }
        )
    return pd.DataFrame.from_records(records, columns=BENCHMARK_COLUMNS), check.problems


def _empty(columns: Iterable[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
