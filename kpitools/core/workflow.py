"""The quarter's workflow: the committees' prompts, sign-off and committee decisions.

A service's CPR for a period moves through sign-off states (draft, comments received,
approved by the Director, noted by the cabinet member, published), each recorded with who and
when in ``signoff.csv``. An approval is of the report as it stood: it records a digest of the
report's content, and a report whose figures or words have changed since is a draft again.
Committees record a follow-up decision on an exception in ``decisions.csv``; it is shown with
the measure in later reports until it is closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from kpitools.core.model import Section

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Prompt:
    """One of the questions committees ask of each exception."""

    section: Section
    question: str
    label: str  # how slides name the answer: "Why", "Impact"


PROMPTS: tuple[Prompt, ...] = (
    Prompt(Section.WHY, "Why are we not meeting the target?", "Why"),
    Prompt(Section.IMPACT, "What is the impact?", "Impact"),
    Prompt(Section.FORECAST, "What performance is predicted?", "Forecast"),
    Prompt(Section.IMPROVE, "How can it be improved?", "Improvement"),
    Prompt(Section.BACK_ON_TRACK, "When will it be back on track?", "Back on track"),
    Prompt(Section.LEARNING, "What can we learn?", "Learning"),
)
PROMPT_SECTIONS = frozenset(p.section.value for p in PROMPTS)
#: Sections that need a measure: the answers to the prompts (a free comment on an exception
#: is ``exception``).
MEASURE_SECTIONS = PROMPT_SECTIONS | {Section.EXCEPTION.value}
SERVICE_SECTIONS = (Section.SUMMARY, Section.WHATS_GOOD, Section.APPROACH)


class SignOffState(StrEnum):
    """Where a service's CPR for a period stands, in order."""

    DRAFT = "draft"
    COMMENTS_RECEIVED = "comments_received"
    APPROVED = "approved"
    NOTED = "noted"
    PUBLISHED = "published"

    @property
    def words(self) -> str:
        return _STATE_WORDS[self]

    @property
    def rank(self) -> int:
        return list(SignOffState).index(self)

    @property
    def approved(self) -> bool:
        """Approved by the Director (and perhaps noted or published since)."""
        return self.rank >= SignOffState.APPROVED.rank


_STATE_WORDS = {
    SignOffState.DRAFT: "Draft",
    SignOffState.COMMENTS_RECEIVED: "Comments received",
    SignOffState.APPROVED: "Approved by the Director",
    SignOffState.NOTED: "Noted by the cabinet member",
    SignOffState.PUBLISHED: "Published",
}


class FollowUp(StrEnum):
    """What a committee decides to do about an exception."""

    APPROVE_ACTIONS = "approve_actions"
    OTHER_ACTIONS = "other_actions"
    REFER_DMT = "refer_dmt"
    REFER_TASK_AND_FINISH = "refer_task_and_finish"
    REFER_LEADERSHIP = "refer_leadership"
    REFER_POLICY_COMMITTEE = "refer_policy_committee"

    @property
    def words(self) -> str:
        return _FOLLOW_UP_WORDS[self]


_FOLLOW_UP_WORDS = {
    FollowUp.APPROVE_ACTIONS: "approved the actions",
    FollowUp.OTHER_ACTIONS: "asked for other actions",
    FollowUp.REFER_DMT: "referred to the departmental management team",
    FollowUp.REFER_TASK_AND_FINISH: "referred to a task and finish group",
    FollowUp.REFER_LEADERSHIP: "referred to the leadership team",
    FollowUp.REFER_POLICY_COMMITTEE: "referred to the policy committee",
}


@dataclass(frozen=True)
class SignOff:
    """A service's sign-off for one report period, as its record stands.

    Attributes:
        state: the state now; ``draft`` when an approval has lapsed.
        by, at: who recorded the state, and when.
        approved_by, approved_at: the Director's approval still in force ('' / None if none).
        lapsed: the report was approved, but has changed since (the approval's words).
        history: every recorded step, oldest first: (state, by, at, note).
    """

    state: SignOffState = SignOffState.DRAFT
    by: str = ""
    at: dt.datetime | None = None
    approved_by: str = ""
    approved_at: dt.datetime | None = None
    lapsed: str = ""
    history: tuple[tuple[str, str, dt.datetime | None, str], ...] = ()

    @property
    def approved(self) -> bool:
        return self.state.approved

    @property
    def text(self) -> str:
        """One line for the overview and the reports: ``Approved by the Director (Jane
        Smith, 14 July 2024)``, ``Draft: changed since approved by ...``."""
        if self.lapsed:
            return f"Draft: {self.lapsed}"
        who = ", ".join(x for x in (self.by, _date(self.at)) if x)
        return f"{self.state.words} ({who})" if who else self.state.words


def _date(moment: dt.datetime | None) -> str:
    return f"{moment:%-d %B %Y}" if moment is not None else ""


def sign_off(frame: pd.DataFrame, service: str, period: str, digest: str) -> SignOff:
    """The sign-off of ``service``'s report for ``period`` (a period label), from the
    ``signoff`` frame; ``digest`` is the report's content now (:func:`content_digest` of the
    report), compared with the digest each approval recorded.
    """
    if frame.empty:
        return SignOff()
    mine = frame[(frame["service"] == service) & (frame["period"] == period)]
    history = tuple(
        (str(r.state), str(r.by), r.at if isinstance(r.at, dt.datetime) else None, str(r.note))
        for r in mine.itertuples()
    )
    if not history:
        return SignOff()
    state, by, at = SignOffState.DRAFT, "", None
    approved_by, approved_at, approved_digest = "", None, ""
    for r in mine.itertuples():
        step = SignOffState(str(r.state))
        moment = r.at if isinstance(r.at, dt.datetime) else None
        state, by, at = step, str(r.by), moment
        if step is SignOffState.APPROVED:
            approved_by, approved_at, approved_digest = str(r.by), moment, str(r.digest)
        elif not step.approved:
            approved_by, approved_at, approved_digest = "", None, ""
    lapsed = ""
    if state.approved and approved_digest and digest and approved_digest != digest:
        when = f" on {_date(approved_at)}" if approved_at else ""
        lapsed = f"the report has changed since {approved_by or 'the Director'} approved it{when}"
        state = SignOffState.DRAFT
    return SignOff(
        state=state,
        by=by,
        at=at,
        approved_by=approved_by if not lapsed else "",
        approved_at=approved_at if not lapsed else None,
        lapsed=lapsed,
        history=history,
    )


@dataclass(frozen=True)
class Decision:
    """A committee's follow-up decision on an exception, still open at a report's date."""

    measure_id: str
    period: str  # the report the committee considered
    committee: str
    decision: FollowUp
    report_back: dt.date | None
    note: str

    @property
    def text(self) -> str:
        """``Scrutiny, 2024/25 Q1: referred to a task and finish group; report back by
        30 November 2024. Note``."""
        head = f"{self.committee or 'Committee'}, {self.period}: {self.decision.words}"
        if self.report_back is not None:
            head += f"; report back by {self.report_back:%-d %B %Y}"
        return f"{head}. {self.note}".strip() if self.note else f"{head}."

    def due(self, on: dt.date) -> bool:
        """The report back is due by ``on``."""
        return self.report_back is not None and self.report_back <= on


def open_decisions(
    frame: pd.DataFrame,
    service: str,
    period_start: pd.Period,
    report_date: dt.date,
    label_of: Callable[[pd.Period], str],
) -> tuple[Decision, ...]:
    """The service's decisions made on earlier reports and not closed by ``report_date``.

    Args:
        frame: the ``decisions`` frame (``period`` as pandas periods).
        period_start: the first month of this report: decisions on reports before it count.
        label_of: how to name a decision's period (the calendar's ``label``).
    """
    if frame.empty:
        return ()
    import pandas  # only with decisions to read: the command line starts without pandas

    found = []
    for r in frame[frame["service"] == service].itertuples():
        period = r.period
        if not isinstance(period, pandas.Period) or period.asfreq("M", how="end") >= period_start:
            continue
        closed = r.closed if isinstance(r.closed, dt.date) else None
        if closed is not None and closed <= report_date:
            continue
        found.append(
            Decision(
                measure_id=str(r.measure_id),
                period=str(label_of(period)),
                committee=str(r.committee),
                decision=FollowUp(str(r.decision)),
                report_back=r.report_back if isinstance(r.report_back, dt.date) else None,
                note=str(r.note),
            )
        )
    return tuple(found)
