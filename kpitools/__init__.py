"""kpitools: a council's performance data in, its quarterly Corporate Performance Reports out.

The stable Python API::

    import kpitools
    dataset = kpitools.load("data/example")
    scorecard = kpitools.rate(dataset)                       # every measure, every quarter
    latest = kpitools.rate(dataset, period="latest")         # the latest quarter only

Names are imported on first use, so ``import kpitools`` (and the command line, and batch
workers) stay quick and load only what they need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it
_EXPORTS = {
    "RAG": "kpitools.model",
    "Dataset": "kpitools.model",
    "Direction": "kpitools.model",
    "ExceptionReason": "kpitools.model",
    "Polarity": "kpitools.model",
    "RagMethod": "kpitools.model",
    "Status": "kpitools.model",
    "FiscalCalendar": "kpitools.periods",
    "Granularity": "kpitools.periods",
    "KpiToolsError": "kpitools.errors",
    "Problem": "kpitools.errors",
    "RunError": "kpitools.errors",
    "ValidationError": "kpitools.errors",
    "load_dataset": "kpitools.loading",
    "rate_value": "kpitools.rating",
    "SCORECARD_COLUMNS": "kpitools.scorecard",
    "build_scorecard": "kpitools.scorecard",
    "CouncilConfig": "kpitools.config",
    "default_config": "kpitools.config",
    "load_config": "kpitools.config",
    "load_config_or_default": "kpitools.config",
    "Cpr": "kpitools.cpr",
    "build_cpr": "kpitools.cpr",
    "build_deck": "kpitools.deck",
    "write_deck": "kpitools.deck",
}

__all__ = [*sorted(_EXPORTS), "__version__", "load", "rate"]

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from kpitools.model import Dataset


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kpitools' has no attribute '{name}'")


def load(
    path: str | Path, *, year_start_month: int = 4, default_tolerance: float = 0.05
) -> Dataset:
    """Load and validate a council's data folder (see :func:`kpitools.loading.load_dataset`)."""
    from kpitools.loading import load_dataset

    return load_dataset(
        path, year_start_month=year_start_month, default_tolerance=default_tolerance
    )


def rate(dataset: Dataset, period: str | None = None, by: str | None = None) -> pd.DataFrame:
    """The scorecard: every measure rated for every period, or for one.

    Args:
        dataset: from :func:`load`.
        period: ``"2023/24 Q1"``, ``"2017-08"``, ``"2023/24"``, ``"latest"``, or None for all.
        by: period length when ``period`` is None or ``"latest"``: month, quarter, year.

    Returns:
        The scorecard rows (:data:`kpitools.scorecard.SCORECARD_COLUMNS`).
    """
    from kpitools.scorecard import build_scorecard

    return build_scorecard(dataset, period=period, by=by)
