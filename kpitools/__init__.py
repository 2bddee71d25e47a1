"""kpitools: a council's performance data in, its quarterly Corporate Performance Reports out.

The stable Python API::

    import kpitools
    dataset = kpitools.load("data/example")
    scorecard = kpitools.rate(dataset)                       # every measure, every quarter
    latest = kpitools.rate(dataset, period="latest")         # the latest quarter only
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kpitools.errors import KpiToolsError, Problem, RunError, ValidationError
from kpitools.loading import load_dataset
from kpitools.model import RAG, Dataset, Direction, ExceptionReason, Polarity, RagMethod, Status
from kpitools.periods import FiscalCalendar, Granularity
from kpitools.rating import rate_value
from kpitools.scorecard import SCORECARD_COLUMNS, build_scorecard

__version__ = "0.1.0"

__all__ = [
    "RAG",
    "SCORECARD_COLUMNS",
    "Dataset",
    "Direction",
    "ExceptionReason",
    "FiscalCalendar",
    "Granularity",
    "KpiToolsError",
    "Polarity",
    "Problem",
    "RagMethod",
    "RunError",
    "Status",
    "ValidationError",
    "__version__",
    "build_scorecard",
    "load",
    "load_dataset",
    "rate",
    "rate_value",
]


def load(path: str | Path, *, year_start_month: int = 4) -> Dataset:
    """Load and validate a council's data folder (see :func:`kpitools.loading.load_dataset`)."""
    return load_dataset(path, year_start_month=year_start_month)


def rate(dataset: Dataset, period: str | None = None, by: str | None = None) -> pd.DataFrame:
    """The scorecard: every measure rated for every period, or for one.

    Args:
        dataset: from :func:`load`.
        period: ``"2023/24 Q1"``, ``"2017-08"``, ``"2023/24"``, ``"latest"``, or None for all.
        by: period length when ``period`` is None or ``"latest"``: month, quarter, year.

    Returns:
        The scorecard rows (:data:`SCORECARD_COLUMNS`).
    """
    return build_scorecard(dataset, period=period, by=by)
