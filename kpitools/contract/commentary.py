"""The Director's commentary workbook: written for one service and period, read back.

A workbook has an Instructions sheet, the service's exceptions with their figures (locked) and
one column to fill per committee prompt, the service-level texts, and the improvement-plan
actions (status from a list). A very hidden ``_kpitools`` sheet records which service,
period and figures the workbook was written for, and what every locked cell held, so that a
returned workbook can be checked: a changed locked cell, a workbook from an older run, or one
for another service or period is named by workbook, sheet and cell.

This module only knows the workbook's layout; what the figures are and whether a returned
workbook fits the data is decided by :mod:`kpitools.workflow.commentary`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpitools.contract import workbooks
from kpitools.contract.excel_out import put, save
from kpitools.core.errors import Problem
from kpitools.core.model import ActionStatus, Section
from kpitools.core.workflow import PROMPTS

FORMAT = 1
META_SHEET = "_kpitools"
EXCEPTIONS_SHEET = "Exceptions"
SERVICE_SHEET = "Service"
ACTIONS_SHEET = "Actions"
INSTRUCTIONS_SHEET = "Instructions"
NEW_ACTION_ROWS = 10  # blank rows for new actions

#: Exceptions sheet: the locked figures, then one column per prompt, then a free comment.
FIGURE_HEADERS = (
    "Measure ID",
    "Measure",
    "Value",
    "Target",
    "Variance",
    "RAG",
    "Direction of travel",
    "Why it is an exception",
)
ANSWER_SECTIONS = (*(p.section.value for p in PROMPTS), Section.EXCEPTION.value)
ANSWER_HEADERS = (*(p.question for p in PROMPTS), "Other comment")
SERVICE_TEXTS = (
    (Section.SUMMARY.value, "Director's summary", "Two or three sentences on the quarter."),
    (Section.WHATS_GOOD.value, "What's good", "What went well, beyond the figures."),
    (Section.APPROACH.value, "Improvement approach", "How the service will improve."),
)
ACTION_HEADERS = ("Ref", "Action", "Owner", "Due date", "Status", "Measures", "Note")
STATUS_WORDS = {
    ActionStatus.NOT_STARTED.value: "Not started",
    ActionStatus.ON_TRACK.value: "On track",
    ActionStatus.AT_RISK.value: "At risk",
    ActionStatus.OVERDUE.value: "Overdue",
    ActionStatus.COMPLETE.value: "Complete",
}
_STATUS_OF_WORDS = {words.lower(): code for code, words in STATUS_WORDS.items()} | {
    code: code for code in STATUS_WORDS
}

FILL_TO_COMPLETE = "FFF2CC"  # pale yellow: cells to fill
FILL_LOCKED = "E8EAEB"  # grey: locked figures
FILL_HEADER = "1F3A5F"


@dataclass(frozen=True)
class FormMeasure:
    """One exception as its row of the workbook shows it."""

    measure_id: str
    title: str
    value: str
    target: str
    variance: str
    rag: str  # the RAG as a word
    direction: str
    reasons: str
    answers: dict[str, str] = field(default_factory=dict)  # section -> text recorded


@dataclass(frozen=True)
class FormAction:
    """One improvement-plan action as recorded."""

    action_id: str
    action: str
    owner: str
    due: dt.date | None
    status: str  # an ActionStatus value
    measures: str
    note: str


@dataclass(frozen=True)
class CommentaryForm:
    """What one service's commentary workbook holds."""

    council: str
    service: str
    period: str  # the period's label, e.g. 2024/25 Q1
    period_words: str
    director: str
    digest: str  # the figures the workbook was written for
    stamp: dt.datetime  # the report date: the workbook's timestamps, never the clock
    measures: tuple[FormMeasure, ...]
    texts: dict[str, str]  # service section -> text recorded
    actions: tuple[FormAction, ...]
    deadline: str = ""  # when comments are due, in words; '' if none is set
    #: How cells holding drafted words begin ('' if the form has none).
    drafted: str = ""


@dataclass(frozen=True)
class ReturnedComment:
    measure_id: str  # '' for a service-level text
    section: str
    text: str
    where: str  # workbook[sheet]!cell


@dataclass(frozen=True)
class ReturnedAction:
    action_id: str  # '' for a new action without a ref
    cells: dict[str, str]  # actions.csv columns: action, owner, due, status, measures, note
    where: str  # workbook[sheet]!row


@dataclass(frozen=True)
class Returned:
    """A workbook as it came back, its locked cells checked."""

    name: str
    service: str
    period: str
    digest: str
    completed_by: str
    measures: tuple[str, ...]  # the exceptions the workbook was written with
    comments: tuple[ReturnedComment, ...]
    actions: tuple[ReturnedAction, ...]


# -- writing ---------------------------------------------------------------------------------
def write_form(form: CommentaryForm, path: Path) -> None:
    """Write the workbook for ``form`` atomically, with the same bytes for the same form."""
    import openpyxl

    workbook = openpyxl.Workbook()
    locked: dict[str, str] = {}
    _instructions(workbook.active, form, locked)
    _exceptions(workbook.create_sheet(EXCEPTIONS_SHEET), form, locked)
    _service(workbook.create_sheet(SERVICE_SHEET), form, locked)
    _actions(workbook.create_sheet(ACTIONS_SHEET), form, locked)
    meta = workbook.create_sheet(META_SHEET)
    meta["A1"] = "kpitools commentary workbook: do not edit"
    meta["A2"] = json.dumps(
        {
            "format": FORMAT,
            "service": form.service,
            "period": form.period,
            "digest": form.digest,
            "measures": [m.measure_id for m in form.measures],
            "locked": locked,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True
    props = workbook.properties
    props.creator = props.lastModifiedBy = form.council
    props.title = f"{form.service}: commentary for {form.period_words}"
    save(workbook, path, form.stamp)


def _styles() -> dict[str, Any]:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

    thin = Side(style="thin", color="A0A4A8")
    return {
        "header_font": Font(bold=True, color="FFFFFF"),
        "header_fill": PatternFill("solid", fgColor=FILL_HEADER),
        "fill": PatternFill("solid", fgColor=FILL_TO_COMPLETE),
        "locked_fill": PatternFill("solid", fgColor=FILL_LOCKED),
        "wrap": Alignment(wrap_text=True, vertical="top"),
        "open": Protection(locked=False),
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
    }


def _protect(sheet: Any) -> None:
    """Protect the sheet (no password: it guards against slips, not people), leaving
    columns and rows resizable."""
    protection = sheet.protection
    protection.sheet = True
    protection.formatColumns = False
    protection.formatRows = False
    protection.formatCells = False


def _lock(sheet: Any, ref: str, value: object, locked: dict[str, str]) -> None:
    put(sheet[ref], value)
    locked[f"{sheet.title}!{ref}"] = _cell_text(sheet[ref].value)


def _to_fill(sheet: Any, ref: str, value: str, styles: dict[str, Any]) -> None:
    cell = sheet[ref]
    put(cell, value)
    cell.fill = styles["fill"]
    cell.protection = styles["open"]
    cell.alignment = styles["wrap"]
    cell.border = styles["border"]


def _instructions(sheet: Any, form: CommentaryForm, locked: dict[str, str]) -> None:
    from openpyxl.styles import Font

    styles = _styles()
    sheet.title = INSTRUCTIONS_SHEET
    _lock(sheet, "A1", f"{form.service}: commentary for {form.period_words}", locked)
    sheet["A1"].font = Font(bold=True, size=14)
    facts = [
        ("Council", form.council),
        ("Service", form.service),
        ("Period", form.period),
        ("Director", form.director or "–"),
    ]
    if form.deadline:
        facts.append(("Comments due by", form.deadline))
    row = 3
    for label, value in facts:
        _lock(sheet, f"A{row}", label, locked)
        _lock(sheet, f"B{row}", value, locked)
        sheet[f"A{row}"].font = Font(bold=True)
        row += 1
    _lock(sheet, f"A{row}", "Completed by", locked)
    sheet[f"A{row}"].font = Font(bold=True)
    _to_fill(sheet, f"B{row}", "", styles)
    row += 2
    lines = [
        "How to fill in this workbook",
        "1. Yellow cells are for you to fill. Grey cells hold the figures of the report and "
        "are locked: kpitools refuses a workbook whose locked cells have changed.",
        f"2. '{EXCEPTIONS_SHEET}': every measure needing attention, with the questions the "
        "committees ask of it. Answer those that apply; 'Other comment' is for anything else.",
        f"3. '{SERVICE_SHEET}': the Director's summary, what's good and the improvement approach.",
        f"4. '{ACTIONS_SHEET}': update each action's owner, due date, status (from the list) "
        "and note; add new actions in the blank rows.",
        "5. Type your name under 'Completed by', save the workbook under any name and return "
        "it to the performance team. Do not copy rows between workbooks.",
        "Text already recorded is filled in: change it or leave it. An emptied cell removes "
        "the comment.",
    ]
    if form.drafted:
        lines.append(
            f"Cells beginning '{form.drafted.strip()}' hold a sentence drafted from the figures: "
            "delete those words to accept it, or write over it. A draft left as it is is not "
            "recorded."
        )
    for text in lines:
        _lock(sheet, f"A{row}", text, locked)
        sheet[f"A{row}"].alignment = styles["wrap"]
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
        sheet.row_dimensions[row].height = 32 if text[0].isdigit() else 18
        row += 1
    sheet[f"A{row - len(lines)}"].font = Font(bold=True)
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 48
    sheet.column_dimensions["C"].width = 20
    sheet.column_dimensions["D"].width = 20
    _protect(sheet)


def _header(sheet: Any, headers: tuple[str, ...], locked: dict[str, str]) -> None:
    from openpyxl.utils import get_column_letter

    styles = _styles()
    for i, text in enumerate(headers, start=1):
        ref = f"{get_column_letter(i)}1"
        _lock(sheet, ref, text, locked)
        cell = sheet[ref]
        cell.font = styles["header_font"]
        cell.fill = styles["header_fill"]
        cell.alignment = styles["wrap"]
    sheet.freeze_panes = "A2"


def _exceptions(sheet: Any, form: CommentaryForm, locked: dict[str, str]) -> None:
    from openpyxl.utils import get_column_letter

    styles = _styles()
    _header(sheet, FIGURE_HEADERS + ANSWER_HEADERS, locked)
    sheet.row_dimensions[1].height = 45
    for r, measure in enumerate(form.measures, start=2):
        figures = (
            measure.measure_id,
            measure.title,
            measure.value,
            measure.target,
            measure.variance,
            measure.rag,
            measure.direction,
            measure.reasons,
        )
        for c, value in enumerate(figures, start=1):
            ref = f"{get_column_letter(c)}{r}"
            _lock(sheet, ref, value, locked)
            sheet[ref].fill = styles["locked_fill"]
            sheet[ref].alignment = styles["wrap"]
        for c, section in enumerate(ANSWER_SECTIONS, start=len(figures) + 1):
            _to_fill(sheet, f"{get_column_letter(c)}{r}", measure.answers.get(section, ""), styles)
        sheet.row_dimensions[r].height = 90
    if not form.measures:
        _lock(sheet, "A2", "No measures need attention this period.", locked)
    widths = (12, 30, 11, 14, 12, 9, 12, 26) + (32,) * len(ANSWER_HEADERS)
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width
    _protect(sheet)


def _service(sheet: Any, form: CommentaryForm, locked: dict[str, str]) -> None:
    styles = _styles()
    _header(sheet, ("Section", "What to write", "Your text"), locked)
    for r, (section, name, hint) in enumerate(SERVICE_TEXTS, start=2):
        _lock(sheet, f"A{r}", name, locked)
        _lock(sheet, f"B{r}", hint, locked)
        sheet[f"B{r}"].alignment = styles["wrap"]
        _to_fill(sheet, f"C{r}", form.texts.get(section, ""), styles)
        sheet.row_dimensions[r].height = 110
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 30
    sheet.column_dimensions["C"].width = 90
    _protect(sheet)


def _actions(sheet: Any, form: CommentaryForm, locked: dict[str, str]) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    styles = _styles()
    _header(sheet, ACTION_HEADERS, locked)
    words = ",".join(STATUS_WORDS.values())
    status = DataValidation(
        type="list",
        formula1=f'"{words}"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Status",
        error=f"Choose one of: {words.replace(',', ', ')}",
    )
    sheet.add_data_validation(status)
    dates = DataValidation(
        type="date",
        operator="greaterThan",
        formula1="1",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Due date",
        error="Type a date, for example 31/03/2025",
    )
    sheet.add_data_validation(dates)
    rows = [*form.actions, *([None] * NEW_ACTION_ROWS)]
    for r, action in enumerate(rows, start=2):
        if action is not None:
            _lock(sheet, f"A{r}", action.action_id, locked)
            sheet[f"A{r}"].fill = styles["locked_fill"]
            values = (
                action.action,
                action.owner,
                action.due,
                STATUS_WORDS.get(action.status, action.status),
                action.measures,
                action.note,
            )
        else:
            _to_fill(sheet, f"A{r}", "", styles)
            values = ("", "", None, "", "", "")
        for column, value in zip("BCDEFG", values, strict=True):
            ref = f"{column}{r}"
            _to_fill(sheet, ref, "", styles)
            put(sheet[ref], value)
        sheet[f"D{r}"].number_format = "dd/mm/yyyy"
        status.add(f"E{r}")
        dates.add(f"D{r}")
    for column, width in zip("ABCDEFG", (10, 50, 24, 12, 14, 22, 36), strict=True):
        sheet.column_dimensions[column].width = width
    _protect(sheet)


# -- reading ---------------------------------------------------------------------------------
def read_form(path: Path) -> tuple[Returned | None, list[Problem]]:
    """Read a returned workbook: its comments and actions, and a problem for every locked
    cell changed, every cell that cannot be read, or a workbook that is not one of ours."""
    import openpyxl

    name = path.name
    try:
        workbook = openpyxl.load_workbook(path, data_only=True)
    except workbooks.DAMAGED as err:
        return None, [Problem(name, None, "", workbooks.why_unreadable(path, err))]
    if META_SHEET not in workbook.sheetnames:
        return None, [
            Problem(
                name,
                None,
                "",
                "is not a kpitools commentary workbook (it has "
                "no _kpitools sheet): write one with 'kpitools comments --out'",
            )
        ]
    try:
        meta = json.loads(str(workbook[META_SHEET]["A2"].value))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError("format")
        locked = dict(meta["locked"])
        service, period, digest = str(meta["service"]), str(meta["period"]), str(meta["digest"])
        measures = tuple(str(m) for m in meta["measures"])
    except (ValueError, KeyError, TypeError):
        return None, [
            Problem(
                f"{name}[{META_SHEET}]",
                None,
                "",
                "the workbook's kpitools record is damaged: write a new workbook",
            )
        ]
    problems: list[Problem] = []
    for sheet in (EXCEPTIONS_SHEET, SERVICE_SHEET, ACTIONS_SHEET, INSTRUCTIONS_SHEET):
        if sheet not in workbook.sheetnames:
            problems.append(Problem(name, None, "", f"the sheet '{sheet}' is missing"))
    if problems:
        return None, problems
    for key, was in locked.items():
        sheet_name, ref = key.rsplit("!", 1)
        now = _cell_text(workbook[sheet_name][ref].value)
        if now != was:
            problems.append(
                Problem(
                    f"{name}[{sheet_name}]!{ref}",
                    None,
                    "",
                    f"this cell is locked and was changed (it held '{_short(was)}', it "
                    f"holds '{_short(now)}'): undo the change or write a new workbook",
                )
            )
    comments = _read_answers(workbook, name, measures) + _read_texts(workbook, name)
    actions = _read_actions(workbook, name, problems)
    instructions = workbook[INSTRUCTIONS_SHEET]
    completed_by = ""
    for row in instructions.iter_rows(min_row=3, max_row=12, max_col=2):
        if _cell_text(row[0].value) == "Completed by":
            completed_by = _cell_text(row[1].value)
    returned = Returned(
        name, service, period, digest, completed_by, measures, tuple(comments), tuple(actions)
    )
    return returned, problems


def _read_answers(workbook: Any, name: str, measures: tuple[str, ...]) -> list[ReturnedComment]:
    from openpyxl.utils import get_column_letter

    sheet = workbook[EXCEPTIONS_SHEET]
    found = []
    for r, measure_id in enumerate(measures, start=2):
        for c, section in enumerate(ANSWER_SECTIONS, start=len(FIGURE_HEADERS) + 1):
            ref = f"{get_column_letter(c)}{r}"
            text = _cell_text(sheet[ref].value)
            found.append(ReturnedComment(measure_id, section, text, f"{name}[{sheet.title}]!{ref}"))
    return found


def _read_texts(workbook: Any, name: str) -> list[ReturnedComment]:
    sheet = workbook[SERVICE_SHEET]
    return [
        ReturnedComment(
            "", section, _cell_text(sheet[f"C{r}"].value), f"{name}[{sheet.title}]!C{r}"
        )
        for r, (section, _, _) in enumerate(SERVICE_TEXTS, start=2)
    ]


def _read_actions(workbook: Any, name: str, problems: list[Problem]) -> list[ReturnedAction]:
    sheet = workbook[ACTIONS_SHEET]
    found = []
    for r in range(2, sheet.max_row + 1):
        cells = [sheet.cell(row=r, column=c).value for c in range(1, len(ACTION_HEADERS) + 1)]
        if all(_cell_text(v) == "" for v in cells):
            continue
        where = f"{name}[{sheet.title}]"
        ref, action, owner, due, status, measures, note = cells
        if not _cell_text(action):
            problems.append(
                Problem(
                    f"{where}!B{r}",
                    None,
                    "",
                    "the action is empty: describe the action, or clear the row",
                )
            )
        due_text = ""
        if isinstance(due, dt.datetime | dt.date):
            due_text = (due.date() if isinstance(due, dt.datetime) else due).isoformat()
        elif _cell_text(due):
            try:
                due_text = _parse_day(_cell_text(due)).isoformat()
            except ValueError:
                problems.append(
                    Problem(
                        f"{where}!D{r}",
                        None,
                        "",
                        f"'{_short(_cell_text(due))}' is not a date (type 31/03/2025)",
                    )
                )
        code = ""
        if _cell_text(status):
            code = _STATUS_OF_WORDS.get(_cell_text(status).lower(), "")
            if not code:
                problems.append(
                    Problem(
                        f"{where}!E{r}",
                        None,
                        "",
                        f"'{_short(_cell_text(status))}"
                        f"' is not a status: choose one of "
                        f"{', '.join(STATUS_WORDS.values())}",
                    )
                )
        found.append(
            ReturnedAction(
                _cell_text(ref),
                {
                    "action": _cell_text(action),
                    "owner": _cell_text(owner),
                    "due": due_text,
                    "status": code or ActionStatus.NOT_STARTED.value,
                    "measures": " ".join(_cell_text(measures).replace(",", " ").split()),
                    "note": _cell_text(note),
                },
                f"{where}!A{r}",
            )
        )
    return found


def _parse_day(text: str) -> dt.date:
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%d/%m/%y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _cell_text(value: object) -> str:
    """A cell as text, as this module wrote it (numbers and dates as ISO text)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n").strip()


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"
