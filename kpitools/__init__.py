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

from kpitools.config import CouncilConfig, default_config, load_config, load_config_or_default
from kpitools.cpr import Cpr, build_cpr
from kpitools.deck import build_deck, write_deck
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
    "CouncilConfig",
    "Cpr",
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
    "build_cpr",
    "build_deck",
    "build_scorecard",
    "default_config",
    "load",
    "load_config",
    "load_config_or_default",
    "load_dataset",
    "rate",
    "rate_value",
    "write_deck",
]


def load(
    path: str | Path, *, year_start_month: int = 4, default_tolerance: float = 0.05
) -> Dataset:
    """Load and validate a council's data folder (see :func:`kpitools.loading.load_dataset`)."""
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
        The scorecard rows (:data:`SCORECARD_COLUMNS`).
    """
    return build_scorecard(dataset, period=period, by=by)
