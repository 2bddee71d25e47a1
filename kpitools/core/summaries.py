"""Counts and summaries over a scorecard, as councils publish them."""

from __future__ import annotations

import pandas as pd

from kpitools.core.model import RAG

RAG_ORDER = [r.value for r in RAG]

# Contract reports name the colours by service level.
SERVICE_LEVEL_COLUMNS = {
    RAG.GREEN.value: "at_tsl",
    RAG.AMBER.value: "at_msl",
    RAG.RED.value: "below_msl",
    RAG.BLUE.value: "mitigated",
}


def count_rag(scorecard: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """How many measures are green, amber, red, blue, white and grey.

    Args:
        scorecard: rows from :func:`kpitools.rate`.
        by: columns to group by (default: service and period), in first-seen order.

    Returns:
        One row per group, a column per RAG word, and ``total``.
    """
    by = by or ["service", "period"]
    counts = (
        scorecard.groupby([*by, "rag"], sort=False)
        .size()
        .unstack("rag", fill_value=0)
        .reindex(columns=RAG_ORDER, fill_value=0)
    )
    counts.columns.name = None
    counts["total"] = counts.sum(axis=1)
    return counts.reset_index()


def count_service_levels(scorecard: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Contract summary: KPIs at TSL, at MSL only, below MSL and mitigated, per group.

    Only measures rated on thresholds count; a missing return counts below MSL, as in
    contract reporting ("data not available" is a failure).
    """
    rows = scorecard[scorecard["rag_method"] == "thresholds"]
    counts = count_rag(rows, by)
    keep = [*(by or ["service", "period"]), *SERVICE_LEVEL_COLUMNS]
    return counts[keep].rename(columns=SERVICE_LEVEL_COLUMNS)
