"""Sign-off steps, publishing and committee decisions recorded into a data folder."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kpitools.core.errors import KpiToolsError, ValidationError
from kpitools.core.workflow import FollowUp, SignOffState
from kpitools.report.content import build_cpr
from kpitools.report.deck import build_deck
from kpitools.report.summary import ReportSummary
from kpitools.workflow.signoff import (
    close_decisions,
    current_signoff,
    publish,
    record_decision,
    record_step,
)
from tests.conftest import QUARTER

FINANCE = "Finance"
AT = dt.datetime(2024, 7, 14, 10, 30)


def footers(report) -> list[str]:
    deck = build_deck(report)
    return [
        shape.text_frame.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame and "Slide " in shape.text_frame.text
    ]


def marks(report) -> int:
    deck = build_deck(report)
    return sum(
        shape.text_frame.text == "DRAFT"
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame
    )


def test_a_report_is_a_draft_until_the_director_approves_it(folder, load_folder):
    report = build_cpr(load_folder(folder), FINANCE, QUARTER)
    assert report.signoff_text == "DRAFT: not yet approved by the Director"
    assert all(f.startswith("DRAFT: not yet approved by the Director · ") for f in footers(report))
    assert marks(report) == len(footers(report)) == 6

    state = record_step(folder, load_folder(folder), FINANCE, QUARTER, SignOffState.APPROVED,
                        "Jane Smith", at=AT)  # fmt: skip
    assert state.text == "Approved by the Director (Jane Smith, 14 July 2024)"
    approved = build_cpr(load_folder(folder), FINANCE, QUARTER)
    assert approved.signoff.approved
    assert marks(approved) == 0
    assert not any("DRAFT" in f for f in footers(approved))
    assert "Approved by the Director (Jane Smith, 14 July 2024)" in approved.footer


def test_an_approval_lapses_when_the_figures_or_words_change(folder, load_folder):
    record_step(folder, load_folder(folder), FINANCE, QUARTER, SignOffState.APPROVED, "J. Smith",
                at=AT)  # fmt: skip
    with (folder / "comments.csv").open("a", encoding="utf-8") as file:
        file.write(f"{FINANCE},{QUARTER},FIN_KPI_02,why,Director of Finance,Late invoices.\n")
    dataset = load_folder(folder)
    state = current_signoff(dataset, FINANCE, QUARTER)
    assert state.text == "Draft: the report has changed since J. Smith approved it on 14 July 2024"
    assert build_cpr(dataset, FINANCE, QUARTER).signoff_text.startswith("DRAFT: the report has")


def test_noting_needs_an_approved_report_and_a_name(folder, load_folder):
    with pytest.raises(KpiToolsError, match="is not approved by the Director"):
        record_step(folder, load_folder(folder), FINANCE, QUARTER, SignOffState.NOTED, "Cllr L")
    with pytest.raises(KpiToolsError, match="say who approved by the director it: --by NAME"):
        record_step(folder, load_folder(folder), FINANCE, QUARTER, SignOffState.APPROVED, " ")
    with pytest.raises(KpiToolsError, match="kpitools publish"):
        record_step(folder, load_folder(folder), FINANCE, QUARTER, SignOffState.PUBLISHED, "x")
    assert not (folder / "signoff.csv").exists()
    state = record_step(folder, load_folder(folder), FINANCE, QUARTER, SignOffState.NOTED,
                        "Cllr L", at=AT, force=True)  # fmt: skip
    assert state.state is SignOffState.NOTED


def test_noting_and_publishing_do_not_change_the_report(folder, load_folder):
    from kpitools.batch.fingerprints import service_fingerprint
    from kpitools.report.content import content_digest

    record_step(folder, load_folder(folder), FINANCE, QUARTER, SignOffState.APPROVED, "J. Smith",
                at=AT)  # fmt: skip
    before = load_folder(folder)
    record_step(folder, before, FINANCE, QUARTER, SignOffState.NOTED, "Cllr L", at=AT)
    after = load_folder(folder)
    assert service_fingerprint(after, FINANCE) == service_fingerprint(before, FINANCE)
    assert build_cpr(after, FINANCE, QUARTER).footer == build_cpr(before, FINANCE, QUARTER).footer
    assert content_digest(build_cpr(after, FINANCE, QUARTER)) == content_digest(
        build_cpr(before, FINANCE, QUARTER)
    )
    assert current_signoff(after, FINANCE, QUARTER).text == (
        "Noted by the cabinet member (Cllr L, 14 July 2024)"
    )


def built(out: Path, dataset, services) -> Path:
    """A period folder as ``kpitools run`` leaves it: a manifest and each report's summary."""
    root = out / "2024-25-q1"
    entries = {}
    for service in services:
        slug = service.lower().replace(" ", "-")
        (root / slug).mkdir(parents=True)
        (root / slug / f"{slug}.pptx").write_bytes(b"deck of " + service.encode())
        summary = ReportSummary.of(build_cpr(dataset, service, QUARTER))
        (root / slug / "summary.json").write_bytes(summary.to_json())
        entries[slug] = {"service": service, "status": "ok",
                         "files": [f"{slug}/{slug}.pptx", f"{slug}/summary.json"]}  # fmt: skip
    (root / "manifest.json").write_text(json.dumps({"services": entries}), encoding="utf-8")
    return root


def test_publishing_refuses_reports_not_approved(folder, load_folder, tmp_path):
    dataset = load_folder(folder)
    root = built(tmp_path / "out", dataset, [FINANCE, "Adult Social Care"])
    record_step(folder, dataset, FINANCE, QUARTER, SignOffState.APPROVED, "J. Smith", at=AT)
    with pytest.raises(KpiToolsError) as caught:
        publish(folder, load_folder(folder), QUARTER, tmp_path / "out",
                [FINANCE, "Adult Social Care"])  # fmt: skip
    assert str(caught.value) == (
        "not approved by the Director, so not published: Adult Social Care (Draft) (record "
        "the approval with 'kpitools signoff --state approved', or --force)"
    )
    assert not (root / "published.json").exists()

    done = publish(folder, load_folder(folder), QUARTER, tmp_path / "out",
                   [FINANCE, "Adult Social Care"], by="Performance team", force=True,
                   at=dt.datetime(2024, 7, 21, 9, 0))  # fmt: skip
    assert [(p.service, p.forced) for p in done] == [(FINANCE, False), ("Adult Social Care", True)]
    record = json.loads((root / "published.json").read_text(encoding="utf-8"))
    finance = record["services"][FINANCE]
    assert finance["signoff"] == "Approved by the Director (J. Smith, 14 July 2024)"
    assert finance["published_at"] == "2024-07-21T09:00:00"
    import hashlib

    assert (
        finance["files"]["finance/finance.pptx"] == hashlib.sha256(b"deck of Finance").hexdigest()
    )
    assert record["services"]["Adult Social Care"]["forced"] is True
    assert current_signoff(load_folder(folder), FINANCE, QUARTER).text == (
        "Published (Performance team, 21 July 2024)"
    )


def test_publishing_refuses_reports_not_built_or_out_of_date(folder, load_folder, tmp_path):
    dataset = load_folder(folder)
    with pytest.raises(KpiToolsError, match="no report of Finance for 2024/25 Q1"):
        publish(folder, dataset, QUARTER, tmp_path / "out", [FINANCE], force=True)
    built(tmp_path / "out", dataset, [FINANCE])
    with (folder / "comments.csv").open("a", encoding="utf-8") as file:
        file.write(f"{FINANCE},{QUARTER},,whats_good,Director of Finance,Collection is up.\n")
    with pytest.raises(KpiToolsError, match="are not what the data says now"):
        publish(folder, load_folder(folder), QUARTER, tmp_path / "out", [FINANCE], force=True)


def test_a_committee_decision_shows_next_period_until_closed(folder, load_folder):
    from kpitools.report import fragments

    service = record_decision(folder, load_folder(folder), "FIN_KPI_04", "2023/24 Q4", "Scrutiny",
                              FollowUp.REFER_TASK_AND_FINISH, report_back=dt.date(2024, 6, 30),
                              note="Members asked for the savings plan.")  # fmt: skip
    assert service == FINANCE
    report = build_cpr(load_folder(folder), FINANCE, QUARTER)
    text = (
        "Scrutiny, 2023/24 Q4: referred to a task and finish group; report back by 30 June "
        "2024. Members asked for the savings plan."
    )
    line = next(x for x in report.exceptions if x.measure_id == "FIN_KPI_04")
    assert [d.text for d in line.decisions] == [text]
    assert [d.text for d in report.decisions] == [text]
    html = fragments.exceptions(report)
    assert f"<h4>Committee follow-up</h4><ul><li>{text} <strong>Report back due</strong>" in html
    assert (
        f'<th scope="row">Committee</th><td>{text}</td><td>Scrutiny</td><td>30 Jun 2024</td>'
        in (fragments.improvement_plan(report))
    )
    deck = build_deck(report)
    texts = [
        cell.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_table
        for row in shape.table.rows
        for cell in row.cells
    ]
    assert f"Committee: {text}" in "\n".join(texts)  # slide 3, beside the measure
    assert text in texts and "Report back due" in texts  # slide 4, in the plan

    assert close_decisions(folder, load_folder(folder), "FIN_KPI_04", dt.date(2024, 6, 1)) == 1
    closed = build_cpr(load_folder(folder), FINANCE, QUARTER)
    assert closed.decisions == ()
    with pytest.raises(KpiToolsError, match="has no open decision"):
        close_decisions(folder, load_folder(folder), "FIN_KPI_04", dt.date(2024, 6, 1))


def test_bad_workflow_rows_are_named_by_file_row_and_column(folder, load_folder):
    (folder / "signoff.csv").write_text(
        "service,period,state,by,at\n"
        "Finance,2024/25 Q1,signed,J. Smith,2024-07-14T10:30\n"
        "Parks,2024/25 Q1,approved,J. Smith,yesterday\n",
        encoding="utf-8",
    )
    (folder / "decisions.csv").write_text(
        "service,period,measure_id,committee,decision,report_back\n"
        "Finance,2024/25 Q1,CHS_KPI_01,Scrutiny,refer_dmt,2024-11-31\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as caught:
        load_folder(folder)
    text = str(caught.value)
    assert "signoff.csv:2: state 'signed'" in text
    assert "signoff.csv:3: service 'Parks' has no measures" in text
    assert "signoff.csv:3: at 'yesterday' is not a time (write 2024-07-14T10:30)" in text
    assert (
        "decisions.csv:2: measure_id CHS_KPI_01 belongs to Children's Services, not Finance" in text
    )
    assert "decisions.csv:2: report_back '2024-11-31' is not a date (write 2024-11-30)" in text


def test_a_recording_that_would_break_the_folder_writes_nothing(folder, load_folder):
    before = (folder / "comments.csv").read_bytes()
    (folder / "decisions.csv").write_text("service,period,measure_id,decision\n", encoding="utf-8")
    with pytest.raises(KpiToolsError, match="not in the data dictionary"):
        record_decision(folder, load_folder(folder), "NOPE", QUARTER, "", FollowUp.REFER_DMT)
    assert (folder / "comments.csv").read_bytes() == before
    assert not list(folder.glob(".kpitools-check-*"))


def test_a_reports_digest_is_kept_as_built_and_a_changed_copy_works_its_own_out(
    folder, load_folder
):
    from dataclasses import replace

    from kpitools.report.content import content_digest

    report = build_cpr(load_folder(folder), FINANCE, QUARTER)
    kept = content_digest(report)
    same = replace(report)  # a copy: worked out afresh, to the same digest
    assert "_content_digest" not in same.__dict__ and content_digest(same) == kept
    changed = replace(report, summary_comment=report.summary_comment + " More.")
    assert content_digest(changed) != kept
