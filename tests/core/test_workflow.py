"""Sign-off states and committee decisions, from their recorded rows."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kpitools.core.workflow import (
    Decision,
    FollowUp,
    SignOffState,
    open_decisions,
    sign_off,
)

COLUMNS = ["service", "period", "state", "by", "at", "digest", "note", "row"]


def steps(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    """(state, by, at, digest) rows for Finance 2024/25 Q1."""
    return pd.DataFrame(
        [["Finance", "2024/25 Q1", s, by, dt.datetime.fromisoformat(at), d, "", i + 2]
         for i, (s, by, at, d) in enumerate(rows)],
        columns=COLUMNS,
    )  # fmt: skip


def test_no_steps_is_a_draft():
    state = sign_off(steps(), "Finance", "2024/25 Q1", "abc")
    assert state.state is SignOffState.DRAFT
    assert state.text == "Draft"
    assert not state.approved


def test_the_latest_step_stands_and_noting_keeps_the_approval():
    frame = steps(
        ("comments_received", "J. Smith", "2024-07-10T09:00", ""),
        ("approved", "J. Smith", "2024-07-14T10:30", "abc"),
        ("noted", "Cllr Lewis", "2024-07-20T12:00", ""),
    )
    state = sign_off(frame, "Finance", "2024/25 Q1", "abc")
    assert state.state is SignOffState.NOTED
    assert state.approved
    assert (state.approved_by, state.approved_at) == ("J. Smith", dt.datetime(2024, 7, 14, 10, 30))
    assert state.text == "Noted by the cabinet member (Cllr Lewis, 20 July 2024)"
    assert [h[0] for h in state.history] == ["comments_received", "approved", "noted"]


def test_an_approval_lapses_when_the_report_changes():
    frame = steps(("approved", "J. Smith", "2024-07-14T10:30", "abc"))
    state = sign_off(frame, "Finance", "2024/25 Q1", "changed")
    assert state.state is SignOffState.DRAFT
    assert not state.approved
    assert state.text == (
        "Draft: the report has changed since J. Smith approved it on 14 July 2024"
    )


def test_a_draft_after_an_approval_withdraws_it():
    frame = steps(
        ("approved", "J. Smith", "2024-07-14T10:30", "abc"),
        ("draft", "J. Smith", "2024-07-15T08:00", ""),
    )
    state = sign_off(frame, "Finance", "2024/25 Q1", "abc")
    assert state.state is SignOffState.DRAFT and state.approved_by == ""


def test_other_services_and_periods_do_not_count():
    frame = steps(("approved", "J. Smith", "2024-07-14T10:30", "abc"))
    assert sign_off(frame, "Finance", "2024/25 Q2", "abc").state is SignOffState.DRAFT
    assert sign_off(frame, "ICT", "2024/25 Q1", "abc").state is SignOffState.DRAFT


def decisions(*rows: tuple[str, str, str | None, str | None]) -> pd.DataFrame:
    """(period, decision, report_back, closed) rows on FIN_KPI_01."""
    return pd.DataFrame(
        [{"service": "Finance", "period": pd.Period(p, "Q-MAR"), "measure_id": "FIN_KPI_01",
          "committee": "Scrutiny", "decision": d,
          "report_back": dt.date.fromisoformat(rb) if rb else None,
          "closed": dt.date.fromisoformat(c) if c else None, "note": "", "row": i + 2}
         for i, (p, d, rb, c) in enumerate(rows)]
    )  # fmt: skip


def label(period: pd.Period) -> str:
    return f"Q{period.quarter} FY{period.qyear}"


@pytest.mark.parametrize(
    ("period", "closed", "shown"),
    [
        ("2024Q4", None, True),  # an earlier report's decision, open: shown
        ("2025Q1", None, False),  # made on this very report: shown from the next one
        ("2024Q4", "2024-06-30", False),  # closed by the report date
        ("2024Q4", "2024-07-01", True),  # closed after it: still open then
    ],
)
def test_decisions_show_from_the_next_report_until_closed(period, closed, shown):
    frame = decisions((period, "refer_dmt", "2024-09-30", closed))
    found = open_decisions(frame, "Finance", pd.Period("2024-04", "M"), dt.date(2024, 6, 30), label)
    assert bool(found) is shown


def test_a_decision_in_words():
    decision = Decision("FIN_KPI_01", "2023/24 Q4", "Scrutiny", FollowUp.REFER_TASK_AND_FINISH,
                        dt.date(2024, 11, 30), "Members asked for the plan.")  # fmt: skip
    assert decision.text == (
        "Scrutiny, 2023/24 Q4: referred to a task and finish group; report back by "
        "30 November 2024. Members asked for the plan."
    )
    assert decision.due(dt.date(2024, 11, 30)) and not decision.due(dt.date(2024, 11, 29))
