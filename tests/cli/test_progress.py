"""What the user sees while a batch runs, on a terminal that is not interactive (a CI log)."""

import io
from pathlib import Path

import pytest
from rich.console import Console

import kpitools
from kpitools.batch.outcomes import BatchResult, ServiceOutcome
from kpitools.batch.status import BatchEvent, ServiceStatus
from kpitools.cli.progress import BatchDisplay, run_title
from kpitools.report.summary import ReportSummary
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER


@pytest.fixture(scope="module")
def summaries():
    dataset = kpitools.load(EXAMPLE, config=kpitools.load_config(COUNCIL_CONFIG))
    return {s: ReportSummary.of(kpitools.build_cpr(dataset, s, QUARTER)) for s in dataset.services}


@pytest.fixture
def display():
    console = Console(file=io.StringIO(), force_terminal=False, width=120)
    return BatchDisplay("2024/25 Q1 CPRs on 2 worker(s)", console=console)


def output(display: BatchDisplay) -> str:
    return display.console.file.getvalue()


def words(text: str) -> str:
    """The text with line wrapping undone."""
    return " ".join(text.split())


def outcome(service, slug, status, summary=None, **kwargs) -> ServiceOutcome:
    return ServiceOutcome(service, slug, status, "k" * 64, "r1", summary=summary, **kwargs)


def test_a_batch_in_a_log(display, summaries):
    outcomes = [
        outcome("Adult Social Care", "adult-social-care", ServiceStatus.SKIPPED,
                summaries["Adult Social Care"]),
        outcome("Waste & Environment", "waste-and-environment", ServiceStatus.SKIPPED,
                summaries["Waste & Environment"]),
        outcome("Finance", "finance", ServiceStatus.PENDING),
        outcome("ICT & Digital", "ict-and-digital", ServiceStatus.PENDING),
    ]  # fmt: skip
    with display:
        display.update(BatchEvent.START, None, outcomes)
        outcomes[2].status = outcomes[3].status = ServiceStatus.RUNNING
        display.update(BatchEvent.RUNNING, None, outcomes)
        finance = outcomes[2]
        finance.status, finance.summary, finance.seconds = (
            ServiceStatus.OK, summaries["Finance"], 2.345)  # fmt: skip
        display.update(BatchEvent.DONE, finance, outcomes)
        ict = outcomes[3]
        ict.status, ict.error = ServiceStatus.FAILED, "cell 7: RuntimeError: analyst cell broke"
        display.update(BatchEvent.DONE, ict, outcomes)
    lines = output(display).splitlines()
    assert lines[0] == "2024/25 Q1 CPRs on 2 worker(s)"
    assert lines[1] == "up to date, skipped: Adult Social Care, Waste & Environment"
    assert words("\n".join(lines[2:-2])) == (
        "warning: Finance: no Director's comment for 4 exception(s), shown as drafted or "
        "'Comment awaited': FIN_FN_01, FIN_KPI_05, FIN_KPI_03, FIN_KPI_02"
    )
    assert lines[-2:] == [
        "Finance: done in 2.3 s",
        "ICT & Digital: FAILED: cell 7: RuntimeError: analyst cell broke",
    ]
    task = display.progress.tasks[0]
    assert (task.total, task.completed) == (4, 4)
    assert task.fields["counts"] == "done 3 · failed 1 · remaining 0"


def test_nothing_skipped_says_nothing(display):
    outcomes = [outcome("Finance", "finance", ServiceStatus.PENDING)]
    display.update(BatchEvent.START, None, outcomes)
    assert output(display) == ""
    task = display.progress.tasks[0]
    assert task.fields["counts"] == "done 0 · failed 0 · remaining 1"


def test_a_service_with_every_comment_has_no_warning(display, summaries):
    summary = summaries["Waste & Environment"]
    assert summary.awaiting_comment == []
    done = outcome("Waste & Environment", "waste-and-environment", ServiceStatus.OK, summary,
                   seconds=0.5)  # fmt: skip
    display.update(BatchEvent.DONE, done, [done])
    assert output(display) == "Waste & Environment: done in 0.5 s\n"


def test_a_strict_failure_warns_and_fails(display, summaries):
    failed = outcome("Finance", "finance", ServiceStatus.FAILED, summaries["Finance"],
                     error="warnings are errors with --strict: ...")  # fmt: skip
    display.update(BatchEvent.DONE, failed, [failed])
    text = words(output(display))
    assert text.startswith("warning: Finance: no Director's comment for 4 exception(s)")
    assert text.endswith("Finance: FAILED: warnings are errors with --strict: ...")


def test_the_running_services_are_shown(display):
    outcomes = [outcome(f"S{i}", f"s{i}", ServiceStatus.RUNNING) for i in range(5)]
    display.update(BatchEvent.RUNNING, None, outcomes)
    assert display.progress.tasks[0].fields["current"] == "running: S0, S1, S2…"
    outcomes = outcomes[:2]
    display.update(BatchEvent.RUNNING, None, outcomes)
    assert display.progress.tasks[0].fields["current"] == "running: S0, S1"


def test_the_summary_table(display, summaries):
    root = Path("/reports/2024-25-q1")
    outcomes = [
        outcome("Finance", "finance", ServiceStatus.OK, summaries["Finance"], seconds=2.345),
        outcome("Adult Social Care", "adult-social-care", ServiceStatus.SKIPPED,
                summaries["Adult Social Care"]),
        outcome("ICT & Digital", "ict-and-digital", ServiceStatus.FAILED, error="boom",
                seconds=9.0),
        outcome("Waste & Environment", "waste-and-environment", ServiceStatus.NOT_RUN),
    ]  # fmt: skip
    display.summary(BatchResult(root=root, outcomes=outcomes, seconds=12.34))
    lines = [line.rstrip() for line in output(display).splitlines()]
    assert lines[0] == (
        "4 services: 1 built, 1 up to date, 1 failed, 1 not run; 12.3 s -> /reports/2024-25-q1"
    )
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in lines if "│" in line]
    assert rows == [  # a failed service took its time too; an up-to-date one took none
        ["Finance", "ok", "2.3", "6", "4", "finance/"],
        ["Adult Social Care", "skipped", "–", "2", "2", "adult-social-care/"],
        ["ICT & Digital", "failed", "9.0", "–", "0", "boom"],
        ["Waste & Environment", "not run", "–", "–", "0", ""],
    ]
    header = next(line for line in lines if "Service" in line)
    assert header.split() == ["┃", "Service", "┃", "Status", "┃", "Seconds", "┃", "Exceptions",
                              "┃", "Warnings", "┃", "Detail", "┃"]  # fmt: skip
    assert lines[-1] == "Overview: /reports/2024-25-q1/index.html"


def test_a_run_with_every_service_up_to_date_says_so_and_what_took_its_time(display):
    """Every service up to date and only the board pack made: the summary line says the
    services were up to date and that the time went on the board pack; a pack kept as it
    was takes no time of its own."""
    root = Path("/reports/2024-25-q1")
    outcomes = [outcome(f"S{i}", f"s{i}", ServiceStatus.SKIPPED) for i in range(6)]
    result = BatchResult(root=root, outcomes=outcomes, seconds=7.24,
                         pack=[root / "board-pack.pptx"], pack_seconds=7.1)  # fmt: skip
    display.summary(result)
    lines = [line.rstrip() for line in output(display).splitlines()]
    assert lines[0] == (
        "6 services: 6 up to date; 7.2 s, the board pack 7.1 s of it -> /reports/2024-25-q1"
    )
    assert lines[-1] == "Board pack: board-pack.pptx in /reports/2024-25-q1"
    kept = BatchResult(root=root, outcomes=outcomes, seconds=0.01, pack=result.pack)
    assert run_title(kept) == "6 services: 6 up to date; 0.0 s -> /reports/2024-25-q1"
