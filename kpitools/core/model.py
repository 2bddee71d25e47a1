"""The domain's vocabulary: polarity, RAG, statuses, exception reasons.

Enum values are the words of the data contract, lower case, so they can be written to CSV,
JSON and HTML classes as they are.
"""

from __future__ import annotations

from enum import StrEnum


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


class Scale(StrEnum):
    """What one unit of a currency or count value stands for: a budget kept in £000s has
    ``thousands`` (110 is £110,000)."""

    UNITS = "units"
    THOUSANDS = "thousands"
    MILLIONS = "millions"

    @property
    def factor(self) -> float:
        return {"units": 1.0, "thousands": 1e3, "millions": 1e6}[self.value]


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


class Basis(StrEnum):
    """What a measure's value covers: its own period (calls this quarter), the year to date
    (sickness days lost per FTE, YTD), a snapshot at the period's end (headcount), or the 12
    months to the period's end."""

    PERIOD = "period"
    YTD = "ytd"
    SNAPSHOT = "snapshot"
    ROLLING_12 = "rolling_12"


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
    """Direction of travel against the previous period, taking polarity into account: the
    verdict on a measure without a target. Neutral measures are ``monitored`` (their change is
    shown, not judged)."""

    IMPROVING = "improving"
    WORSENING = "worsening"
    STABLE = "stable"
    NOT_COMPARABLE = "not_comparable"  # no like-for-like figure (none this period)
    NO_EARLIER_FIGURE = "no_earlier_figure"  # nothing earlier to compare with
    MONITORED = "monitored"  # neutral polarity: the change is shown, not judged


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
    ExceptionReason.ADVERSE_VARIANCE: "worse than target by 5% of the target or more",
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
    """Where a comment goes in the CPR: a service-level text, or (with a measure) the
    Director's comment on an exception, free or as the answer to one of the committees'
    prompts (:data:`kpitools.core.workflow.PROMPTS`)."""

    SUMMARY = "summary"
    WHATS_GOOD = "whats_good"
    APPROACH = "approach"
    EXCEPTION = "exception"
    WHY = "why"
    IMPACT = "impact"
    FORECAST = "forecast"
    IMPROVE = "improve"
    BACK_ON_TRACK = "back_on_track"
    LEARNING = "learning"
