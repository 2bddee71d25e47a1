"""The scorecard as a readable terminal table: RAG as a word and a colour."""

from __future__ import annotations

import os
import sys
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpitools.core.dataset import Dataset, rows_of
from kpitools.core.errors import KpiToolsError
from kpitools.core.model import RAG, ExceptionReason
from kpitools.report.words import (
    direction_label,
    figure_text,
    format_percent,
    format_value,
    period_words,
    rag_label,
)


class Output(Console):
    """A console for a command's output: a reader that stops reading (``kpitools scorecard
    ... | head``) has what it wanted, so the command stops quietly with status 0 (rich's
    console would leave with status 1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        # What is left to write goes nowhere (Python's last flush finds no closed pipe).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        raise SystemExit(0)


def output_console(width: int | None = None) -> Output:
    """The console a command prints its tables to: ``width`` columns, or the terminal's
    (160 when the output is not a terminal)."""
    return Output(width=width or (None if sys.stdout.isatty() else 160))


RAG_STYLES = {
    RAG.GREEN.value: "bold green",
    RAG.AMBER.value: "bold dark_orange",
    RAG.RED.value: "bold red",
    RAG.BLUE.value: "bold blue",
    RAG.WHITE.value: "bold",
    RAG.GREY.value: "dim",
}
_REASON_SHORT = {
    ExceptionReason.OFF_TARGET.value: "red",
    ExceptionReason.DATA_NOT_AVAILABLE.value: "no data",
    ExceptionReason.ADVERSE_VARIANCE.value: "≥5% off",
    ExceptionReason.WORSENING_3.value: "worse ×3",
    ExceptionReason.AMBER_3.value: "amber ×3",
    ExceptionReason.FLAG_BUDGET.value: "budget",
    ExceptionReason.FLAG_CORPORATE_RISK.value: "risk",
}


def print_scorecard(rows: pd.DataFrame, dataset: Dataset, console: Console | None = None) -> None:
    """Print one table per service, with its RAG counts in the title."""
    console = console or output_console()
    if rows.empty:
        console.print("No scorecard rows for that period.")
        return
    for service, group in rows.groupby("service", sort=False):
        console.print(_service_table(str(service), group, dataset))
    console.print(
        Text(
            "Exceptions: red = off target; no data = due but not available; ≥5% off = 5% or "
            "more worse than target; worse ×3 / amber ×3 = three consecutive periods; "
            "budget / risk = flagged by an officer. Period*: the latest result of a measure "
            "reported less often.",
            style="dim",
        )
    )


def _service_table(service: str, rows: pd.DataFrame, dataset: Dataset) -> Table:
    counts = rows["rag"].value_counts()
    summary = ", ".join(f"{counts[r]} {r}" for r in RAG_STYLES if r in counts)
    calendar = dataset.calendar
    periods = sorted(
        dict.fromkeys(rows["period"]),
        key=lambda label: (calendar.last_month(calendar.parse(label)), label),
    )
    first, last = period_words(periods[0]), period_words(periods[-1])
    when = first if len(periods) == 1 else f"{first} to {last}"
    table = Table(title=f"{service} - {when}: {summary}", title_justify="left", expand=False)
    table.add_column("Measure", no_wrap=True)
    table.add_column("Title", max_width=44)
    table.add_column("Period", no_wrap=True)
    table.add_column("Value", justify="right", no_wrap=True)
    table.add_column("Target", justify="right", no_wrap=True)
    table.add_column("Variance", justify="right", no_wrap=True)
    table.add_column("RAG", no_wrap=True)
    table.add_column("Direction", no_wrap=True)
    table.add_column("Exception", max_width=24)
    for row in rows_of(rows):
        if row.rag_method == "thresholds" and not pd.isna(row.tsl):
            target = (
                f"{format_value(row.tsl, row.unit, scale=row.scale)} / "
                f"{format_value(row.msl, row.unit, scale=row.scale)}"
            )
        else:
            target = format_value(row.target, row.unit, scale=row.scale)
        period = row.period if row.value_period == row.period else f"{row.value_period}*"
        table.add_row(
            row.measure_id,
            row.title,
            period,
            figure_text(row.value, row.unit, row.coverage, row.basis, row.scale),
            target,
            format_percent(row.variance_pct),
            Text(rag_label(row.rag), style=RAG_STYLES.get(row.rag, "")),
            direction_label(row.direction, row.change_pct),
            ", ".join(_REASON_SHORT.get(code, code) for code in row.exception_reasons.split()),
        )
    return table


def print_history(store: Any, measure_id: str) -> None:
    """A measure's values over time from the history store: each period's figure as first
    recorded and every restatement after it, then the publications of its service."""
    measures = store.versions_of("measures", measure_id)
    known = [versions for key, versions in measures if key == measure_id]
    if not known:
        raise KpiToolsError(f"measure '{measure_id}' is not in the history store")
    latest = known[0][-1].cells
    service = latest.get("service", "")
    console = Output(file=sys.stdout, width=120, soft_wrap=False)
    console.print(f"{measure_id}: {latest.get('title', '')} ({service})")
    table = Table(title="Values as recorded, oldest first", title_justify="left")
    for column in ("Period", "Value", "Status", "Recorded", "Ingest", "Change"):
        table.add_column(column, no_wrap=column != "Change")
    for key, versions in store.versions_of("values", f"{measure_id}\x1f"):
        period = key.split("\x1f", 1)[1]
        before = None
        for version in versions:
            cells = version.cells
            value = cells.get("value", "") or "–"
            status = cells.get("status", "") or "reported"
            if before is None:
                change = "first recorded"
            else:
                change = f"restated from {before}" + (
                    f": {version.reason}" if version.reason else ""
                )
            table.add_row(period, value, status, f"{version.recorded_at:%Y-%m-%d %H:%M} UTC",
                          str(version.ingest_id), change)  # fmt: skip
            before = f"{value} ({status})" if status != "reported" else value
    console.print(table)
    published = store.publications(service=service)
    if published:
        shown = Table(title=f"Publications of {service}", title_justify="left")
        for column in ("Period", "Published", "Data as of ingest", "As of"):
            shown.add_column(column, no_wrap=True)
        for item in published:
            shown.add_row(item.period, f"{item.recorded_at:%Y-%m-%d %H:%M} UTC",
                          str(item.ingest_id),
                          item.as_of.isoformat() if item.as_of else "latest")  # fmt: skip
        console.print(shown)
    else:
        console.print(f"No report of {service} has been published from the store yet.")


SPC_STYLES = {
    "improvement": "bold blue",
    "concern": "bold dark_orange",
    "neither": "bold magenta",
    "common_cause": "dim",
}


def print_spc(rows: pd.DataFrame, console: Console | None = None) -> None:
    """Print one table per measure: its points, lines and the words for each point."""
    from kpitools.core.spc import VARIATION_WORDS, Variation

    console = console or output_console()
    if rows.empty:
        console.print("No measure has a point to chart.")
        return
    for measure_id, group in rows.groupby("measure_id", sort=False):
        last = group.iloc[-1]
        assurance = str(last["assurance"]).replace("_", " ") or "no assurance"
        table = Table(
            title=f"{measure_id} {last['title']} ({last['polarity']}): "
            f"{VARIATION_WORDS[Variation(last['variation'])].lower()}, {assurance}",
            title_justify="left",
        )
        for name in ("Period", "Value", "Mean", "Lower", "Upper", "Variation", "Rule"):
            right = name in ("Value", "Mean", "Lower", "Upper")
            table.add_column(name, justify="right" if right else "left", no_wrap=True)
        for row in rows_of(group):
            table.add_row(
                row.period,
                _number(row.value),
                _number(row.mean),
                _number(row.lower_limit),
                _number(row.upper_limit),
                Text(row.variation.replace("_", " "), style=SPC_STYLES[row.variation]),
                row.rule.replace("_", " "),
            )
        console.print(table)


def _number(value: float) -> str:
    if value != value:  # NaN: no limits
        return ""
    return f"{value:,.2f}".rstrip("0").rstrip(".")
