"""What the user sees while a batch runs: a live progress display, then a summary table."""

from __future__ import annotations

import sys
from collections import Counter
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kpitools.batch.outcomes import BatchResult, ServiceOutcome
from kpitools.batch.status import BatchEvent, ServiceStatus
from kpitools.report.words import counted

STATUS_STYLE = {
    ServiceStatus.OK: "green",
    ServiceStatus.SKIPPED: "green",
    ServiceStatus.FAILED: "bold red",
    ServiceStatus.NOT_RUN: "yellow",
}


class BatchDisplay:
    """Live progress on stderr (done / failed / remaining, elapsed, current services); on a
    terminal that is not interactive, one line per finished service instead."""

    def __init__(self, title: str, console: Console | None = None):
        self.console = console or Console(stderr=True, width=None if sys.stderr.isatty() else 120)
        self.title = title
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[current]}"),
            console=self.console,
            transient=False,
        )
        self.task = self.progress.add_task(title, total=1, counts="", current="")

    def __enter__(self) -> BatchDisplay:
        if self.console.is_terminal:
            self.progress.start()
        else:
            self.console.print(self.title)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.console.is_terminal:
            self.progress.stop()

    def update(
        self, event: BatchEvent, outcome: ServiceOutcome | None, outcomes: list[ServiceOutcome]
    ) -> None:
        done = sum(o.status.has_report for o in outcomes)
        failed = sum(o.status is ServiceStatus.FAILED for o in outcomes)
        remaining = len(outcomes) - done - failed
        running = [o.label for o in outcomes if o.status is ServiceStatus.RUNNING]
        self.progress.update(
            self.task,
            total=len(outcomes),
            completed=done + failed,
            counts=f"done {done} · failed {failed} · remaining {remaining}",
            current=("running: " + ", ".join(running[:3]) + ("…" if len(running) > 3 else ""))
            if running
            else "",
        )
        if event is BatchEvent.START:
            skipped = [o.label for o in outcomes if o.status is ServiceStatus.SKIPPED]
            if skipped:
                self._line(f"up to date, skipped: {', '.join(skipped)}")
        if event is BatchEvent.DONE and outcome is not None:
            awaited = outcome.summary.awaiting_comment if outcome.summary is not None else []
            if awaited:
                self._line(
                    f"warning: {outcome.label}: no Director's comment for {len(awaited)} "
                    f"exception(s), shown as drafted or 'Comment awaited': {', '.join(awaited)}",
                    style="yellow",
                )
            if outcome.status is ServiceStatus.OK:
                self._line(f"{outcome.label}: done in {outcome.seconds:.1f} s")
            else:
                self._line(f"{outcome.label}: FAILED: {outcome.error}", style="bold red")

    def _line(self, text: str, style: str = "") -> None:
        self.console.print(text, style=style, markup=False, highlight=False)

    def summary(self, result: BatchResult) -> None:
        # The run's line on its own, not as the table's title: a narrow table would wrap it.
        self._line(run_title(result))
        table = Table()
        for column in ("Service", "Status", "Seconds", "Exceptions", "Warnings", "Detail"):
            table.add_column(column, overflow="fold")
        for o in result.outcomes:
            exceptions = o.exception_count
            ran = o.status in (ServiceStatus.OK, ServiceStatus.FAILED)
            table.add_row(
                o.service,
                f"[{STATUS_STYLE.get(o.status, '')}]{o.status.value}[/]",
                f"{o.seconds:.1f}" if ran else "–",
                "–" if exceptions is None else str(exceptions),
                str(len(o.warnings)),
                o.error or (f"{o.slug}/" if o.status.has_report else ""),
            )
        self.console.print(table)
        self.console.print(f"Overview: {result.root / 'index.html'}", markup=False)
        if result.pack:
            names = ", ".join(p.name for p in result.pack)
            self.console.print(f"Board pack: {names} in {result.root}", markup=False)

    def councils_summary(self, results: list[tuple[str, BatchResult]]) -> None:
        """A line per council: its services built, up to date and failed, and its folder."""
        seconds = max((r.seconds for _, r in results), default=0.0)
        total = sum(len(r.outcomes) for _, r in results)
        title = (
            f"{counted(len(results), 'council')}, {counted(total, 'service')} in {seconds:.1f} s"
        )
        table = Table(title=title, title_justify="left")
        for column in ("Council", "Built", "Up to date", "Failed", "Warnings", "Folder"):
            table.add_column(column, overflow="fold")
        for name, result in results:
            count = Counter(o.status for o in result.outcomes)
            failed = len(result.failed)
            table.add_row(
                name,
                str(count[ServiceStatus.OK]),
                str(count[ServiceStatus.SKIPPED]),
                f"[bold red]{failed}[/]" if failed else "0",
                str(sum(len(o.warnings) for o in result.outcomes)),
                str(result.root),
            )
        self.console.print(table)


#: How a run's summary names each status, in this order.
_DONE_WORDS = (
    (ServiceStatus.OK, "built"),
    (ServiceStatus.SKIPPED, "up to date"),
    (ServiceStatus.FAILED, "failed"),
    (ServiceStatus.NOT_RUN, "not run"),
)


def run_title(result: BatchResult) -> str:
    """The run's summary line: its services by what became of them, and the time the whole
    run took, with the board pack's part of it when the pack was made (``6 services: 6 up
    to date; 7.2 s, the board pack 7.1 s of it -> outputs/2024-25-q1``)."""
    count = Counter(o.status for o in result.outcomes)
    parts = [f"{count[status]} {words}" for status, words in _DONE_WORDS if count[status]]
    services = counted(len(result.outcomes), "service")
    done = f"{services}: {', '.join(parts)}" if parts else services
    pack = (
        f", the board pack {result.pack_seconds:.1f} s of it" if result.pack_seconds >= 0.05 else ""
    )
    return f"{done}; {result.seconds:.1f} s{pack} -> {result.root}"
