"""The domain's vocabulary: polarity, RAG, statuses, and the loaded dataset.

Everything here is plain data. Enum values are the words of the data contract, lower case,
so they can be written to CSV, JSON and HTML classes as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

import pandas as pd

from kpitools.periods import FiscalCalendar


class Polarity(StrEnum):
    """Which way is good: ``up`` (bigger is better), ``down`` (smaller is better), ``neutral``."""

    UP = "up"
    DOWN = "down"
    NEUTRAL = "neutral"


class Unit(StrEnum):
    PERCENT = "percent"
    COUNT = "count"
    CURRENCY = "currency"
    DAYS = "days"
    RATIO = "ratio"
    SCORE = "score"
    NUMBER = "number"


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    TERMLY = "termly"
    ANNUAL = "annual"


class Aggregation(StrEnum):
    """How a quarter (or year) is summarised from a measure's months."""

    LAST = "last"
    SUM = "sum"
    MEAN = "mean"
    RATIO = "ratio"


class Category(StrEnum):
    PERFORMANCE = "performance"
    CUSTOMER = "customer"
    WORKFORCE = "workforce"
    FINANCE = "finance"
    OTHER = "other"


class RagMethod(StrEnum):
    """``tolerance`` around a target, or two service levels (``thresholds``: TSL and MSL)."""

    TOLERANCE = "tolerance"
    THRESHOLDS = "thresholds"


class Status(StrEnum):
    """Why a value is (or is not) there. ``reported`` is written as an empty cell."""

    REPORTED = "reported"
    MITIGATED = "mitigated"
    NOT_AVAILABLE = "not_available"
    PENDING = "pending"
    NOT_EXPECTED = "not_expected"
    #: Output only: no row for a period that has ended, for a measure reported every period.
    MISSING = "missing"


class RAG(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    BLUE = "blue"
    WHITE = "white"
    GREY = "grey"


class Direction(StrEnum):
    """Direction of travel against the previous period, taking polarity into account."""

    IMPROVING = "improving"
    WORSENING = "worsening"
    STABLE = "stable"
    NONE = "none"


class Flag(StrEnum):
    """An officer's flag on a measure for a period, making it an exception."""

    BUDGET = "budget"
    CORPORATE_RISK = "corporate_risk"


class ExceptionReason(StrEnum):
    """Why a measure is reported by exception; ``description`` is the sentence for people."""

    OFF_TARGET = "off_target"
    DATA_NOT_AVAILABLE = "data_not_available"
    ADVERSE_VARIANCE = "adverse_variance"
    WORSENING_3 = "worsening_3_periods"
    AMBER_3 = "amber_3_periods"
    FLAG_BUDGET = "flag_budget"
    FLAG_CORPORATE_RISK = "flag_corporate_risk"

    @property
    def description(self) -> str:
        return _REASON_TEXT[self]


_REASON_TEXT = {
    ExceptionReason.OFF_TARGET: "off target (red)",
    ExceptionReason.DATA_NOT_AVAILABLE: "data due but not available (red)",
    ExceptionReason.ADVERSE_VARIANCE: "5% or more worse than target",
    ExceptionReason.WORSENING_3: "worse for three consecutive periods",
    ExceptionReason.AMBER_3: "amber for three consecutive periods",
    ExceptionReason.FLAG_BUDGET: "flagged by an officer: affects the budget",
    ExceptionReason.FLAG_CORPORATE_RISK: "flagged by an officer: corporate risk",
}


class ActionStatus(StrEnum):
    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OVERDUE = "overdue"
    COMPLETE = "complete"


class Section(StrEnum):
    """Where a service-level comment goes in the CPR."""

    SUMMARY = "summary"
    WHATS_GOOD = "whats_good"
    APPROACH = "approach"
    EXCEPTION = "exception"


@dataclass(frozen=True, eq=False)
class Dataset:
    """A council's validated performance data, as the loader hands it on.

    Every frame holds clean, typed columns (enums as their words, periods as pandas
    ``Period``). Treat the frames as read-only: functions that change data return new frames.

    Attributes:
        measures: the data dictionary, indexed by ``measure_id``.
        values: one row per measure per period (``period`` is a month, quarter or year).
        targets: time-varying targets as month ranges (``start``/``end`` are monthly periods).
        comments: commentary per service, quarter and (optionally) measure.
        actions: improvement-plan actions.
        benchmarks: peer values per measure and period.
        calendar: the financial calendar the periods were read with.
        source: the data folder, where the data came from a folder.
        digest: a hash of the input files' bytes and the loading options ('' if unknown):
            equal digests mean equal data.
    """

    measures: pd.DataFrame
    values: pd.DataFrame
    targets: pd.DataFrame
    comments: pd.DataFrame
    actions: pd.DataFrame
    benchmarks: pd.DataFrame
    calendar: FiscalCalendar
    source: Path | None = None
    digest: str = ""

    def copy(self) -> Dataset:
        """A copy whose frames can be changed without touching this one."""
        return replace(
            self,
            **{
                name: getattr(self, name).copy()
                for name in ("measures", "values", "targets", "comments", "actions", "benchmarks")
            },
        )

    @property
    def services(self) -> list[str]:
        """Service names in the order they first appear in the data dictionary."""
        return list(dict.fromkeys(self.measures["service"]))

    @property
    def latest_month(self) -> pd.Period | None:
        """The last month the data reaches, or ``None`` for an empty dataset.

        Annual results are left out where monthly or quarterly data exists: a year's label
        runs to its last month, which may lie beyond the data that has come in.
        """
        if self.values.empty:
            return None
        finer = self.values.loc[self.values["granularity"] < 3, "period"]
        periods = finer if not finer.empty else self.values["period"]
        return max(self.calendar.last_month(p) for p in periods.unique())
