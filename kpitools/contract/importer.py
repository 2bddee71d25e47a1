"""Spreadsheets as councils keep them, into a data folder in the contract's form.

Councils keep their figures the way committees see them: a sheet per service or committee,
a title row or two, a header row (found, not assumed) with the measure's reference, title,
polarity ("Bigger", "Up is Good") and target, then one column per period - months ("Dec 16",
"Jan 17", Excel dates), quarters ("Q1 2016/17") or years ("2013/14 Result") - and further
blocks lower down with their own header rows (the quarterly measures). Between the measures
come category headings ("Performance", "Customer") and placeholder rows ("TBC"); under a
measure, its numerators and denominators ("229 / 2996"). Cells say more than numbers: status
words ("Mitigation Agreed", "Data Not Available", "n/a", "TBC"), footnote markers ("13.72*"),
part-year figures ("1,918 (Q3)"), units in the title ("(£000s)", "(YTD)", "(Snapshot)").

:func:`import_workbooks` reads every sheet and block of the workbooks and writes
``measures.csv`` and ``values.csv``. Ids are the sheet's own references where it has them,
else made from the service and title the first time and kept in ``ids.csv`` (edit it, or give
``--mapping``, to use the council's own); re-importing next month's sheet keeps the ids and
the values of other periods. What it could not infer (unit, frequency, aggregation, owner) is
listed for a person to supply. A cell it cannot read is a problem naming workbook, sheet and
cell.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpitools.contract import workbooks
from kpitools.contract.tables import csv_rows, read_table, write_table
from kpitools.core.errors import KpiToolsError, Problem, ValidationError
from kpitools.core.periods import FiscalCalendar, Granularity

ID_FILE = "ids.csv"
MEASURE_COLUMNS = [
    "measure_id", "service", "title", "polarity", "unit", "scale", "frequency",
    "aggregation", "category", "target", "include", "basis", "lead_officer",
]  # fmt: skip
VALUE_COLUMNS = ["measure_id", "period", "value", "numerator", "denominator", "status",
                 "coverage", "note"]  # fmt: skip

_HEADERS = {
    "id": ("ref", "reference", "id", "code", "pi ref", "kpi ref", "measure id", "pi", "kpi no",
           "indicator ref", "no", "no."),
    "title": ("measure", "indicator", "kpi", "title", "performance indicator", "description",
              "measure title", "indicator title", "pi title", "kpi title", "measure name"),
    "polarity": ("polarity", "good is", "good performance is", "direction of good",
                 "better is", "bigger or smaller", "aim"),
    "target": ("target", "annual target", "target 2016/17", "target value"),
    "category": ("category", "perspective", "theme"),
    "include": ("include", "included", "report", "in cpr"),
    "owner": ("lead officer", "responsible officer", "owner", "lead"),
    "unit": ("unit", "units", "measure type"),
    "service": ("service", "directorate", "committee"),
    "direction": ("direction of travel", "dot", "trend", "direction"),
}  # fmt: skip
_POLARITY = {
    "up": ("up", "bigger", "higher", "up is good", "high", "bigger is better", "higher is better",
           "increase", "maximise", "down is bad"),
    "down": ("down", "smaller", "lower", "up is bad", "low", "smaller is better",
             "lower is better", "decrease", "minimise", "down is good"),
    "neutral": ("neutral", "n/a", "monitor", "none", "-"),
}  # fmt: skip
_STATUS = {
    "mitigated": ("mitigation agreed", "mitigated", "mitigation"),
    "not_available": ("data not available", "not available", "n/a", "na", "dna", "no data",
                      "unavailable"),
    "pending": ("tbc", "pending", "to be confirmed", "awaited", "due"),
    "not_expected": ("not expected", "not due", "nd", "not applicable"),
}  # fmt: skip
_PLACEHOLDERS = {"tbc", "to be confirmed", "tbd", "placeholder"}
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_FOOTNOTE = re.compile(r"^(.*?\d)\s*([*†‡^#]+)$")
_ANNOTATED = re.compile(r"^(.*?\d)\s*\(([^)]*)\)$")
_PARTS = re.compile(r"^\s*([\d,.]+)\s*/\s*([\d,.]+)\s*$")


@dataclass
class Imported:
    """What an import wrote and what a person must still supply."""

    measures: int = 0
    values: int = 0
    sheets: list[str] = field(default_factory=list)
    inferred: list[str] = field(default_factory=list)
    to_supply: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass
class _Measure:
    measure_id: str
    service: str
    title: str
    cells: dict[str, str]
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # period label -> row


def import_workbooks(
    workbooks: Iterable[Path],
    out: Path,
    *,
    year_start_month: int = 4,
    mapping: Path | None = None,
) -> Imported:
    """Read the workbooks' sheets and write (or update) the data folder ``out``.

    Raises:
        ValidationError: cells that cannot be read, each named by workbook, sheet and cell.
    """
    calendar = FiscalCalendar(year_start_month)
    out.mkdir(parents=True, exist_ok=True)
    ids = _read_ids(out / ID_FILE)
    if mapping is not None:
        ids.update(_read_ids(mapping))
    problems: list[Problem] = []
    result = Imported()
    measures: dict[str, _Measure] = {}
    for workbook in workbooks:
        for sheet, grid in _sheets(workbook, problems, result):
            where = f"{workbook.name}[{sheet}]"
            found = _read_sheet(where, sheet, grid, calendar, ids, problems, result)
            if found:
                result.sheets.append(f"{where}: {len(found)} measures")
            for measure in found:
                if measure.measure_id in measures:
                    measures[measure.measure_id].values.update(measure.values)
                else:
                    measures[measure.measure_id] = measure
    if problems:
        raise ValidationError(problems)
    if not measures:
        raise KpiToolsError(
            "no measures found: a sheet needs a header row naming the measure (Measure, "
            "Indicator, KPI or Title) and periods (months, quarters or years) across it"
        )
    _write(out, measures, ids, result)
    return result


# -- reading sheets -----------------------------------------------------------------------
def _sheets(
    path: Path, problems: list[Problem], result: Imported
) -> list[tuple[str, list[list[Any]]]]:
    """Every sheet a person can see, as rows of cells; hidden sheets are listed as skipped."""
    if path.suffix.lower() == ".csv":
        return [(path.stem, [list(row) for row in csv_rows(path)])]
    try:
        with workbooks.opened(path) as workbook:
            for name in workbook.sheetnames:
                if workbooks.is_hidden(workbook, name):
                    result.skipped.append(f"{path.name}[{name}]: hidden sheet, not read")
            return [
                (name, [list(row) for row in workbook[name].iter_rows(values_only=True)])
                for name in workbooks.visible_sheets(workbook)
            ]
    except workbooks.WorkbookUnreadable as err:
        problems.append(Problem(path.name, None, "", str(err)))
        return []


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^\w%£/ ]+", " ", text.lower()).split())


def _role(header: str) -> str | None:
    key = _key(header)
    for role, words in _HEADERS.items():
        if key in words:
            return role
    if key.startswith(("target", "tsl")):
        return "target"
    return None


def _period(value: Any, calendar: FiscalCalendar) -> Any:
    """A header cell as a period (a date, "Dec 16", "2013/14 Result", "Q1 2016/17"), or None."""
    if isinstance(value, dt.datetime | dt.date):
        return calendar.parse(f"{value.year}-{value.month:02d}")
    text = _text(value)
    if not text or len(text) > 30:
        return None
    text = re.sub(r"(?i)\b(result|actual|outturn|value|figure|performance)s?\b", "", text).strip()
    quarter = re.fullmatch(r"(?i)q([1-4])\s+(\d{4})\s*[/-]\s*(\d{2,4})", text)
    if quarter:
        text = f"{quarter.group(2)}/{quarter.group(3)[-2:]} Q{quarter.group(1)}"
    try:
        period = calendar.parse(text)
    except ValueError:
        return None
    if calendar.granularity(period) is Granularity.RANGE:
        return None
    return period


def _read_sheet(
    where: str,
    sheet: str,
    grid: list[list[Any]],
    calendar: FiscalCalendar,
    ids: dict[tuple[str, str], str],
    problems: list[Problem],
    result: Imported,
) -> list[_Measure]:
    found: list[_Measure] = []
    columns: dict[int, str] | None = None
    periods: dict[int, Any] = {}
    category = ""
    last: _Measure | None = None
    for r, row in enumerate(grid, start=1):
        cells = [_text(v) for v in row]
        header = _header(row, calendar)
        if header is not None:
            columns, periods = header
            last = None
            continue
        if columns is None or not any(cells):
            continue
        filled = [c for c in cells if c]
        title_col = next((i for i, role in columns.items() if role == "title"), None)
        title = cells[title_col] if title_col is not None and title_col < len(cells) else ""
        if len(filled) == 1 and not any(i in periods for i, c in enumerate(cells) if c):
            category = filled[0]  # a category heading between the measures
            continue
        if not title and last is not None and _parts_row(cells, periods):
            _add_parts(last, cells, periods, calendar)
            continue
        if not title:
            continue
        if _key(title) in _PLACEHOLDERS or (
            all(_key(cells[i]) in _PLACEHOLDERS | {""} for i in periods if i < len(cells))
            and _key(title) in _PLACEHOLDERS
        ):
            result.skipped.append(f"{where} row {r}: placeholder row '{title}'")
            continue
        roles = {role: cells[i] for i, role in columns.items() if i < len(cells)}
        service = roles.get("service") or sheet
        measure_id = (
            roles.get("id", "") or ids.get((service, title), "") or _new_id(service, title, ids)
        )
        ids[(service, title)] = measure_id
        attributes = _attributes(roles, title, category)
        measure = _Measure(measure_id, service, title, attributes)
        for i, period in periods.items():
            if i >= len(row):
                continue
            cell = _cell(row[i], where, r, i, problems)
            if cell is not None:
                measure.values[calendar.label(period)] = cell
        if measure.values:
            granularities = {calendar.granularity(p) for p in periods.values()}
            measure.cells["frequency"] = {
                Granularity.MONTH: "monthly",
                Granularity.QUARTER: "quarterly",
                Granularity.YEAR: "annual",
            }[max(granularities)]
        found.append(measure)
        last = measure
    return found


def _header(
    row: list[Any], calendar: FiscalCalendar
) -> tuple[dict[int, str], dict[int, Any]] | None:
    """The roles of a header row's columns and its period columns, or None if the row is
    not a header (it needs a title column and at least one period)."""
    roles: dict[int, str] = {}
    periods: dict[int, Any] = {}
    for i, value in enumerate(row):
        period = _period(value, calendar)
        if period is not None:
            periods[i] = period
            continue
        role = _role(_text(value))
        if role and role not in roles.values():
            roles[i] = role
    if "title" in roles.values() and periods:
        return roles, periods
    return None


def _parts_row(cells: list[str], periods: dict[int, Any]) -> bool:
    shown = [cells[i] for i in periods if i < len(cells) and cells[i]]
    return bool(shown) and all(_PARTS.match(c) for c in shown)


def _add_parts(measure: _Measure, cells: list[str], periods: dict[int, Any],
               calendar: FiscalCalendar) -> None:  # fmt: skip
    for i, period in periods.items():
        match = _PARTS.match(cells[i]) if i < len(cells) else None
        row = measure.values.get(calendar.label(period))
        if match and row is not None:
            row["numerator"] = match.group(1).replace(",", "")
            row["denominator"] = match.group(2).replace(",", "")


def _cell(value: Any, where: str, r: int, c: int, problems: list[Problem]) -> dict[str, str] | None:
    """A value cell as a row of values.csv (value, status, coverage, note), or None if empty."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"value": repr(float(value)) if isinstance(value, float) else str(value)}
    text = _text(value)
    if not text or text in ("-", "–", "—"):
        return None
    key = _key(text)
    for status, words in _STATUS.items():
        if key in words:
            return {"value": "", "status": status, "note": f"source: {text}"}
    note = ""
    footnote = _FOOTNOTE.match(text)
    if footnote:
        text, note = footnote.group(1), f"footnote {footnote.group(2)} in the source"
    coverage = ""
    annotated = _ANNOTATED.match(text)
    if annotated:
        text, said = annotated.group(1).strip(), annotated.group(2).strip()
        if re.fullmatch(r"(?i)(to\s+)?q[1-3]", said):
            coverage = f"to {said[-2:].upper()}"
        else:
            note = "; ".join(x for x in (note, f"source says: {said}") if x)
    number = text.replace(",", "").replace("£", "").replace("%", "").strip()
    try:
        float(number)
    except ValueError:
        from openpyxl.utils import get_column_letter

        cell = f"{get_column_letter(c + 1)}{r}"
        problems.append(
            Problem(where, None, "", f"cell {cell}: '{_text(value)}' is not a number, a "
                    "status word (n/a, TBC, Mitigation Agreed) or empty")
        )  # fmt: skip
        return None
    return {"value": number, "coverage": coverage, "note": note}


def _attributes(roles: dict[str, str], title: str, category: str) -> dict[str, str]:
    """What the row and its title say about the measure."""
    lowered = title.lower()
    polarity = ""
    raw = _key(roles.get("polarity", ""))
    for word, spellings in _POLARITY.items():
        if raw in spellings:
            polarity = word
    unit, scale, basis = "", "", ""
    if "£000" in lowered or "£k" in lowered or "£'000" in lowered:
        unit, scale = "currency", "thousands"
    elif "£m" in lowered:
        unit, scale = "currency", "millions"
    elif "£" in lowered:
        unit = "currency"
    elif "%" in lowered or "percentage" in lowered or lowered.startswith("proportion"):
        unit = "percent"
    elif "days" in lowered:
        unit = "days"
    if "(ytd)" in lowered or "year to date" in lowered:
        basis = "ytd"
    elif "snapshot" in lowered:
        basis = "snapshot"
    include = ""
    if "include" in roles:
        include = "yes" if _key(roles["include"]) in ("y", "yes", "true", "1") else "no"
    target = roles.get("target", "").replace(",", "").replace("%", "").replace("£", "").strip()
    try:
        float(target)
    except ValueError:
        target = ""
    return {
        "polarity": polarity or "neutral",
        "unit": unit or roles.get("unit", ""),
        "scale": scale,
        "category": roles.get("category", "") or category,
        "target": target,
        "include": include,
        "basis": basis,
        "lead_officer": roles.get("owner", ""),
        "aggregation": "last" if basis else "",
        "_polarity_given": "yes" if polarity else "",
    }


def _new_id(service: str, title: str, ids: dict[tuple[str, str], str]) -> str:
    """An id from the service and title: ``CUS_CALLS_ANSWERED_60S``, unique among ``ids``."""
    head = re.sub(r"[^A-Z]", "", service.upper())[:3] or "M"
    small = {"OF", "THE", "A", "AN", "AND", "IN", "TO", "FOR", "WITHIN", "ON"}
    words = [w for w in re.sub(r"[^A-Za-z0-9 ]", " ", title).upper().split() if w not in small]
    base = f"{head}_{'_'.join(words[:4]) or 'MEASURE'}"[:40]
    taken = set(ids.values())
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


# -- ids and writing -------------------------------------------------------------------------
def _read_ids(path: Path) -> dict[tuple[str, str], str]:
    if not path.exists():
        return {}
    table, problems = read_table(path)
    if table is None:
        raise ValidationError(problems)
    return {
        (cells.get("service", ""), cells.get("title", "")): cells.get("measure_id", "")
        for _, cells in table.rows
        if cells.get("measure_id", "")
    }


def _write(out: Path, measures: dict[str, _Measure], ids: dict[tuple[str, str], str],
           result: Imported) -> None:  # fmt: skip
    existing_measures = _existing(out / "measures.csv")
    rows = []
    for measure in measures.values():
        before = existing_measures.get(measure.measure_id, {})
        cells = {"measure_id": measure.measure_id, "service": measure.service,
                 "title": measure.title}  # fmt: skip
        for column in MEASURE_COLUMNS[3:]:
            # A person's edit to measures.csv is kept over what the sheet implies.
            cells[column] = before.get(column) or measure.cells.get(column, "")
        rows.append(cells)
        missing = [c for c in ("unit", "frequency", "aggregation", "lead_officer") if not cells[c]]
        if not measure.cells.get("_polarity_given") and not before.get("polarity"):
            missing.append("polarity")
        if missing:
            result.to_supply.append(f"{measure.measure_id} ({measure.title}): {', '.join(missing)}")
    kept = [row for key, row in existing_measures.items() if key not in measures]
    write_table(out / "measures.csv", MEASURE_COLUMNS, kept + rows)
    values = {(r["measure_id"], r["period"]): r for r in _existing_rows(out / "values.csv")}
    for measure in measures.values():
        for period, cell in measure.values.items():
            values[(measure.measure_id, period)] = {"measure_id": measure.measure_id,
                                                    "period": period, **cell}  # fmt: skip
    write_table(out / "values.csv", VALUE_COLUMNS, list(values.values()))
    write_table(
        out / ID_FILE,
        ["measure_id", "service", "title"],
        [{"measure_id": i, "service": s, "title": t} for (s, t), i in sorted(ids.items())],
    )
    result.measures = len(rows)
    result.values = sum(len(m.values) for m in measures.values())
    result.inferred = [
        f"{m.measure_id}: "
        + ", ".join(f"{k} {v}" for k, v in m.cells.items() if v and not k.startswith("_"))
        for m in measures.values()
    ]


def _existing(path: Path) -> dict[str, dict[str, str]]:
    return {row["measure_id"]: row for row in _existing_rows(path)}


def _existing_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    table, problems = read_table(path)
    if table is None:
        raise ValidationError(problems)
    return [dict(cells) for _, cells in table.rows]
