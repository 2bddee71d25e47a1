"""kpitools: a council's performance data in, its quarterly Corporate Performance Reports out.

The Python API::

    import kpitools

    config = kpitools.load_config("params/council.yaml")     # or None for the defaults
    dataset = kpitools.load("data/example", config=config)
    scorecard = kpitools.rate(dataset)                        # every measure, every quarter
    latest = kpitools.rate(dataset, period="latest")          # the latest quarter only
    report = kpitools.build_cpr(dataset, "Finance", "2024/25 Q1")
    kpitools.write_deck(report, "finance.pptx")

The package is layered by stage (each imports only those before it):
:mod:`kpitools.core` (vocabulary, periods, rating, scorecard), :mod:`kpitools.contract`
(reading and checking input files), :mod:`kpitools.report` (the CPR's content, words,
charts, HTML, deck), :mod:`kpitools.batch` (the quarterly run) and :mod:`kpitools.cli`.
"""

import importlib
from typing import TYPE_CHECKING, Any

from kpitools._version import __version__
from kpitools.contract.config_file import load_config
from kpitools.contract.loading import load
from kpitools.core.config import CouncilConfig, ServiceConfig
from kpitools.core.dataset import Dataset
from kpitools.core.errors import KpiToolsError, Problem, RunError, ValidationError
from kpitools.core.model import RAG, Direction, ExceptionReason, Polarity, RagMethod, Status
from kpitools.core.periods import FiscalCalendar, Granularity
from kpitools.core.rating import rate_value
from kpitools.core.scorecard import SCORECARD_COLUMNS, rate
from kpitools.core.summaries import count_rag, count_service_levels

if TYPE_CHECKING:
    from kpitools.report.content import Cpr, build_cpr
    from kpitools.report.deck import build_deck, write_deck
    from kpitools.report.summary import ReportSummary, write_summary

#: The report's names, imported when first used: a command that builds no report (a
#: scorecard, a rerun with nothing to do) does not pay for python-pptx and plotly.
_REPORT = {
    "Cpr": "kpitools.report.content",
    "build_cpr": "kpitools.report.content",
    "build_deck": "kpitools.report.deck",
    "write_deck": "kpitools.report.deck",
    "ReportSummary": "kpitools.report.summary",
    "write_summary": "kpitools.report.summary",
}


def __getattr__(name: str) -> Any:
    module = _REPORT.get(name)
    if module is None:
        raise AttributeError(f"module 'kpitools' has no attribute {name!r}")
    found = getattr(importlib.import_module(module), name)
    globals()[name] = found
    return found


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
    "ReportSummary",
    "RunError",
    "ServiceConfig",
    "Status",
    "ValidationError",
    "__version__",
    "build_cpr",
    "build_deck",
    "count_rag",
    "count_service_levels",
    "load",
    "load_config",
    "rate",
    "rate_value",
    "write_deck",
    "write_summary",
]
