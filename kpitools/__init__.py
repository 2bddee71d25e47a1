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

if TYPE_CHECKING:
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
    from kpitools.report.content import Cpr, build_cpr
    from kpitools.report.deck import build_deck, write_deck
    from kpitools.report.summary import ReportSummary, write_summary

#: Where each public name lives. Each is imported when first used, so that importing a part
#: of kpitools loads only what that part needs: a batch worker process (which runs notebooks
#: and exports their pages) loads neither pandas nor python-pptx nor plotly, and a command
#: that builds no report does not load python-pptx and plotly.
_NAMES = {
    **dict.fromkeys(["load_config"], "kpitools.contract.config_file"),
    **dict.fromkeys(["load"], "kpitools.contract.loading"),
    **dict.fromkeys(["CouncilConfig", "ServiceConfig"], "kpitools.core.config"),
    **dict.fromkeys(["Dataset"], "kpitools.core.dataset"),
    **dict.fromkeys(["KpiToolsError", "Problem", "RunError", "ValidationError"],
                    "kpitools.core.errors"),
    **dict.fromkeys(["RAG", "Direction", "ExceptionReason", "Polarity", "RagMethod", "Status"],
                    "kpitools.core.model"),
    **dict.fromkeys(["FiscalCalendar", "Granularity"], "kpitools.core.periods"),
    **dict.fromkeys(["rate_value"], "kpitools.core.rating"),
    **dict.fromkeys(["SCORECARD_COLUMNS", "rate"], "kpitools.core.scorecard"),
    **dict.fromkeys(["count_rag", "count_service_levels"], "kpitools.core.summaries"),
    **dict.fromkeys(["Cpr", "build_cpr"], "kpitools.report.content"),
    **dict.fromkeys(["build_deck", "write_deck"], "kpitools.report.deck"),
    **dict.fromkeys(["ReportSummary", "write_summary"], "kpitools.report.summary"),
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'kpitools' has no attribute {name!r}")
    found = getattr(importlib.import_module(module), name)
    globals()[name] = found
    return found


def __dir__() -> list[str]:
    return sorted({*globals(), *_NAMES})


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
