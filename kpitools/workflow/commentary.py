"""Directors' commentary: workbooks out, returned workbooks checked and recorded.

``kpitools comments --out`` writes one workbook per service from the report as it stands
(:func:`write_workbooks`); ``kpitools comments --read`` checks returned workbooks against the
data - the service and period exist, the measures are the service's, the figures are the
ones the workbook was written for - and records their comments and actions into the data
folder's ``comments.csv`` and ``actions.csv`` (:func:`record_workbooks`), all or nothing.
``kpitools comments --owed`` lists who still owes which comments (:func:`owed`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kpitools.contract.commentary import (
    CommentaryForm,
    FormAction,
    FormMeasure,
    Returned,
    read_form,
    write_form,
)
from kpitools.contract.records import Rows, update_folder
from kpitools.contract.validation import SPECS
from kpitools.core.dataset import Dataset, rows_of
from kpitools.core.errors import KpiToolsError, Problem, ValidationError
from kpitools.core.model import Section
from kpitools.core.naming import slugify
from kpitools.core.workflow import MEASURE_SECTIONS, PROMPTS, SignOffState
from kpitools.report.content import Cpr, build_cpr, figures_digest, recorded_comments
from kpitools.report.drafts import DRAFTED
from kpitools.report.words import rag_label

SERVICE_SECTION_VALUES = (Section.SUMMARY.value, Section.WHATS_GOOD.value, Section.APPROACH.value)


def form_of(dataset: Dataset, report: Cpr, deadline: str = "") -> CommentaryForm:
    """The workbook's content for a built report: its exceptions with the answers already
    recorded, the service's texts and its actions."""
    recorded = {
        key: text
        for key, (text, _) in recorded_comments(dataset, report.service, report.quarter).items()
    }
    measures = tuple(
        FormMeasure(
            measure_id=line.measure_id,
            title=line.title,
            value=line.value_text,
            target=line.target_text,
            variance=line.variance_text,
            rag=rag_label(line.rag),
            direction=line.direction_text,
            reasons=line.reason_text,
            answers=_answers(recorded, line.measure_id, line.draft),
        )
        for line in report.exceptions
    )
    actions = (
        tuple(
            FormAction(
                action_id=row.action_id,
                action=row.action,
                owner=row.owner,
                due=row.due if isinstance(row.due, dt.date) else None,
                status=row.status,
                measures=row.measures,
                note=row.note,
            )
            for row in rows_of(dataset.actions[dataset.actions["service"] == report.service])
        )
        if not dataset.actions.empty
        else ()
    )
    return CommentaryForm(
        council=report.council,
        service=report.service,
        period=report.quarter,
        period_words=report.period_words,
        director=report.director,
        digest=figures_digest(report),
        stamp=dt.datetime.combine(report.report_date, dt.time(0, 0)),
        measures=measures,
        texts=_texts(recorded, report),
        actions=actions,
        deadline=deadline,
        drafted=DRAFTED,
    )


def _answers(recorded: dict[tuple[str, str], str], measure_id: str, draft: str) -> dict[str, str]:
    """An exception's recorded answers; without any, kpitools' draft as its comment."""
    answers = {s: t for (m, s), t in recorded.items() if m == measure_id}
    if not answers and draft:
        answers[Section.EXCEPTION.value] = f"{DRAFTED}{draft}"
    return answers


def _texts(recorded: dict[tuple[str, str], str], report: Cpr) -> dict[str, str]:
    texts = {s: t for (m, s), t in recorded.items() if not m}
    drafts = {Section.SUMMARY.value: report.summary_draft,
              Section.WHATS_GOOD.value: report.whats_good_draft}  # fmt: skip
    for section, draft in drafts.items():
        if not texts.get(section) and draft:
            texts[section] = f"{DRAFTED}{draft}"
    return texts


def workbook_name(service: str, period: str) -> str:
    """``children-s-services-2024-25-q1-comments.xlsx``."""
    return f"{slugify(service)}-{slugify(period)}-comments.xlsx"


def write_workbooks(
    dataset: Dataset, period: str, services: Sequence[str], out: Path, deadline: str = ""
) -> list[Path]:
    """Write each service's commentary workbook into ``out``; returns the paths."""
    written = []
    for service in services:
        report = build_cpr(dataset, service, period)
        path = out / workbook_name(service, report.quarter)
        write_form(form_of(dataset, report, deadline), path)
        written.append(path)
    return written


@dataclass(frozen=True)
class Recorded:
    """What reading returned workbooks recorded."""

    workbooks: tuple[tuple[str, str, str], ...]  # (file, service, period)
    comments: int  # comment rows now recorded for those services and periods
    actions_updated: int
    actions_added: int
    notes: tuple[str, ...] = ()  # files carried over from Excel into CSV


def check_workbooks(
    dataset: Dataset, paths: Sequence[Path], period: str | None = None
) -> list[Returned]:
    """Read and check returned workbooks against the data as it is now.

    Raises:
        ValidationError: every problem of every workbook, each naming workbook, sheet and
            cell.
    """
    problems: list[Problem] = []
    returned: list[Returned] = []
    seen: dict[tuple[str, str], str] = {}
    for path in paths:
        form, found = read_form(path)
        problems += found
        if form is None:
            continue
        where = f"{form.name}[_kpitools]"
        if form.service not in dataset.services:
            problems.append(
                Problem(
                    form.name,
                    None,
                    "",
                    f"is for the service '{form.service}',"
                    f" which the data does not have ({', '.join(dataset.services)})",
                )
            )
            continue
        if period is not None and form.period != period:
            problems.append(
                Problem(
                    form.name,
                    None,
                    "",
                    f"is for {form.period}, not {period}: "
                    "read it with --period of its own, or write a new one",
                )
            )
            continue
        key = (form.service, form.period)
        if key in seen:
            problems.append(
                Problem(
                    form.name,
                    None,
                    "",
                    f"is for {form.service} {form.period} as {seen[key]} is: read one of them",
                )
            )
            continue
        seen[key] = form.name
        try:
            report = build_cpr(dataset, form.service, form.period)
        except KpiToolsError as err:
            problems.append(Problem(where, None, "", f"its period cannot be reported: {err}"))
            continue
        measures = dataset.measures
        for comment in form.comments:
            if not comment.measure_id or not comment.text:
                continue
            if comment.measure_id not in measures.index:
                problems.append(
                    Problem(
                        comment.where,
                        None,
                        "",
                        f"the measure '{comment.measure_id}' is not in the data dictionary",
                    )
                )
            elif measures.loc[comment.measure_id, "service"] != form.service:
                problems.append(
                    Problem(
                        comment.where,
                        None,
                        "",
                        f"the measure '{comment.measure_id}' is not {form.service}'s",
                    )
                )
        if form.digest != figures_digest(report):
            problems.append(
                Problem(
                    form.name,
                    None,
                    "",
                    f"was written for figures of {form.service} "
                    f"{form.period} that have changed since (an older run): write a new "
                    "workbook with 'kpitools comments --out' and copy the comments across",
                )
            )
        for action in form.actions:
            for measure_id in action.cells["measures"].split():
                if measure_id not in measures.index:
                    problems.append(
                        Problem(
                            action.where.replace("!A", "!F"),
                            None,
                            "",
                            f"the measure '{measure_id}' is not in the data dictionary",
                        )
                    )
        returned.append(form)
    if problems:
        raise ValidationError(problems)
    return returned


def record_workbooks(
    folder: Path,
    dataset: Dataset,
    paths: Sequence[Path],
    period: str | None = None,
    at: dt.datetime | None = None,
) -> Recorded:
    """Check returned workbooks and record their comments and actions into ``folder``,
    with a ``comments_received`` sign-off step for each; all or nothing.

    The comments a workbook holds replace what was recorded for its exceptions and service
    texts in its period (an emptied cell removes a comment); comments on other measures stay.
    Actions are updated by their ref; new ones get the next ref of the service.

    Raises:
        ValidationError: a workbook does not fit the data, or the folder as changed would
            not load.
        KpiToolsError: a file cannot be recorded into (kept as a workbook).
    """
    forms = check_workbooks(dataset, paths, period)
    moment = at or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    counts = {"comments": 0, "updated": 0, "added": 0}

    def comments(rows: Rows) -> Rows:
        for form in forms:
            mine = {(m, s) for m in form.measures for s in MEASURE_SECTIONS} | {
                ("", s) for s in SERVICE_SECTION_VALUES
            }
            rows = [
                r
                for r in rows
                if not (
                    r.get("service") == form.service
                    and _same_period(dataset, r.get("quarter", ""), form.period)
                    and (
                        r.get("measure_id", "").strip(),
                        r.get("section", "").strip() or Section.EXCEPTION.value,
                    )
                    in mine
                )
            ]
            author = form.completed_by or dataset.config.service(form.service).director
            for c in form.comments:
                if c.text and not c.text.startswith(DRAFTED.strip()):
                    rows.append(
                        {
                            "service": form.service,
                            "quarter": form.period,
                            "measure_id": c.measure_id,
                            "section": c.section,
                            "author": author,
                            "comment": c.text,
                        }
                    )
                    counts["comments"] += 1
        return rows

    def actions(rows: Rows) -> Rows:
        for form in forms:
            for action in form.actions:
                ref = action.action_id
                match = (
                    next(
                        (
                            r
                            for r in rows
                            if r.get("service") == form.service and r.get("action_id") == ref
                        ),
                        None,
                    )
                    if ref
                    else None
                )
                if match is not None:
                    match.update(action.cells)
                    counts["updated"] += 1
                    continue
                ids = [r.get("action_id", "") for r in rows]
                new_id = ref or _next_ref(
                    form.service,
                    [r.get("action_id", "") for r in rows if r.get("service") == form.service],
                )
                if new_id in ids:
                    raise ValidationError(
                        [
                            Problem(
                                action.where,
                                None,
                                "",
                                f"the ref '{new_id}' is another service's action: leave it empty",
                            )
                        ]
                    )
                rows.append({"service": form.service, "action_id": new_id, **action.cells})
                counts["added"] += 1
        return rows

    def signoff(rows: Rows) -> Rows:
        for form in forms:
            rows.append(
                {
                    "service": form.service,
                    "period": form.period,
                    "state": SignOffState.COMMENTS_RECEIVED.value,
                    "by": form.completed_by,
                    "at": moment.isoformat(),
                    "digest": "",
                    "note": f"commentary workbook {form.name}",
                }
            )
        return rows

    notes = update_folder(
        folder,
        {"comments": comments, "actions": actions, "signoff": signoff},
        {name: _columns(name) for name in ("comments", "actions", "signoff")},
        dataset.config,
    )
    return Recorded(
        workbooks=tuple((f.name, f.service, f.period) for f in forms),
        comments=counts["comments"],
        actions_updated=counts["updated"],
        actions_added=counts["added"],
        notes=tuple(notes),
    )


def _columns(name: str) -> tuple[str, ...]:
    return tuple(c for c in SPECS[name].columns if c != "row")


def _same_period(dataset: Dataset, text: str, label: str) -> bool:
    try:
        return dataset.calendar.label(dataset.calendar.parse(text.strip())) == label
    except ValueError:
        return False


def _next_ref(service: str, refs: list[str]) -> str:
    """The service's next action ref: ``CSC-A3`` after ``CSC-A2``; ``<SLUG>-A1`` first."""
    import re

    numbered = [re.fullmatch(r"(.*?)(\d+)", ref) for ref in refs]
    found = [(m.group(1), int(m.group(2))) for m in numbered if m]
    if found:
        prefix = found[-1][0]
        return f"{prefix}{max(n for p, n in found if p == prefix) + 1}"
    return f"{slugify(service).upper()[:6]}-A1"


@dataclass(frozen=True)
class Owed:
    """A service whose comments are not all in."""

    service: str
    director: str
    exceptions: tuple[tuple[str, str], ...]  # (measure id, title) without a comment
    summary: bool  # the Director's summary is missing
    unanswered: int  # prompts not answered across the exceptions


def owed(dataset: Dataset, period: str, services: Sequence[str]) -> list[Owed]:
    """Who still owes which comments for ``period``."""
    found = []
    for service in services:
        report = build_cpr(dataset, service, period)
        missing = tuple((x.measure_id, x.title) for x in report.exceptions if not x.comment)
        unanswered = sum(
            len(PROMPTS) - sum(1 for label, _ in x.commentary if label not in ("", "Comment"))
            for x in report.exceptions
        )
        if missing or not report.summary_comment:
            found.append(
                Owed(service, report.director, missing, not report.summary_comment, unanswered)
            )
    return found
