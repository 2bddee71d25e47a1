"""The scorecard as a readable terminal table: RAG as a word and a colour."""

from __future__ import annotations

import sys

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpitools.core.dataset import Dataset, rows_of
from kpitools.core.model import RAG, ExceptionReason
from kpitools.report.words import (
    direction_label,
    figure_text,
    format_percent,
    format_value,
    period_words,
    rag_label,
)

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
    console = console or Console(width=None if sys.stdout.isatty() else 160)
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
