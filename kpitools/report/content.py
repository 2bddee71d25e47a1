"""The content of a Corporate Performance Report for one service and quarter.

Pure: a dataset (which carries the council configuration it was loaded with) in, a frozen
:class:`Cpr` out. The deck, the HTML report, the notebook and the run's summary all present
this one object, built once, so they always agree with each other and with the scorecard.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from kpitools.core.benchmarks import Position, positions
from kpitools.core.config import OTHER_CATEGORY, CouncilConfig
from kpitools.core.contracts import LEVELS as CONTRACT_LEVELS
from kpitools.core.contracts import abatements, contract_measures, contract_summary
from kpitools.core.dataset import RATED_FROM, Dataset, groups_of, records_of, rows_of, values_of
from kpitools.core.errors import KpiToolsError
from kpitools.core.forecast import back_on_target, forecast
from kpitools.core.model import RAG, ActionStatus, Direction, ExceptionReason, Section, Status
from kpitools.core.naming import slugify
from kpitools.core.periods import Granularity, calendar_for
from kpitools.core.scorecard import rate
from kpitools.core.spc import (
    ASSURANCE_WORDS,
    RULE_WORDS,
    VARIATION_WORDS,
    Assurance,
    Rule,
    Variation,
)
from kpitools.core.target_review import TargetReview, target_reviews
from kpitools.core.variation import Series, draw_alike, measure_points, with_labels
from kpitools.core.workflow import (
    PROMPTS,
    Decision,
    SignOff,
    SignOffState,
    open_decisions,
    sign_off,
)
from kpitools.report.matrix import MatrixRow
from kpitools.report.words import (
    BASIS_WORDS,
    STATUS_WORDS,
    change_words,
    direction_label,
    format_value,
    period_words,
)

RAG_ORDER = tuple(r.value for r in RAG)
TREND_PERIODS = 6
HEADLINE_TILES = 6
WHATS_GOOD_ROWS = 8
SUCCESS_LINES = 4
CONTEXT_ROWS = 6


@dataclass(frozen=True)
class MeasureLine:
    """One measure as the CPR shows it."""

    measure_id: str
    title: str
    polarity: str
    unit: str
    rag_method: str
    value: float
    target: float
    tsl: float
    msl: float
    rag: str
    direction: str
    variance: float
    variance_pct: float
    period: str
    value_period: str
    reasons: tuple[str, ...]
    data_quality: str
    note: str
    previous_value: float
    change_pct: float
    basis: str
    coverage: str  # "to Q3" for a part-year figure, else ""
    trend: tuple[tuple[str, float], ...]  # (period, value) oldest first; NaN where none
    category: str = ""  # the council's category ('' for other measures)
    include: bool = True  # False: monitored only, not counted in the RAG summary
    short_title: str = ""  # for a headline tile, where the title is too long
    scale: str = ""  # thousands or millions for a currency or count kept so (£000s)
    status: str = "reported"
    #: What changed since the report was last published, e.g. "restated from 6 (red) to 1
    #: (green) on 3 October 2024: disputed score re-checked"; '' if nothing did.
    restatement: str = ""
    comment: str = ""  # everything the Director wrote on it, the answers labelled
    comment_author: str = ""
    #: The Director's words as (label, text): the committees' prompts answered, in their
    #: order ("Why", "Impact", ...), then a free comment ("Comment", or "" when it is alone).
    commentary: tuple[tuple[str, str], ...] = ()
    #: Committee decisions on the measure made on earlier reports, not yet closed.
    decisions: tuple[Decision, ...] = ()
    #: For an exception: the factual sentence kpitools drafts from the figures, shown
    #: (marked as drafted) only while nobody has written a comment.
    draft: str = ""
    #: (month, RAG) for each month of the quarter of a measure reported monthly, oldest first:
    #: a failed month is never hidden inside its quarter.
    months: tuple[tuple[str, str], ...] = ()
    #: SPC as the scorecard has it for the period: the latest point's variation
    #: (improvement, concern, neither, common_cause; '' without a point in the period) and
    #: the assurance against the target ('' without limits, a target or a direction).
    variation: str = ""
    assurance: str = ""
    spc_side: str = ""  # high / low for a special cause
    spc_rules: tuple[str, ...] = ()  # the rules that class the latest point
    #: The XmR chart to the period's end: (period, value, mean, lower, upper, variation,
    #: side), side high/low for a special cause.
    xmr: tuple[tuple[str, float, float, float, float, str, str], ...] = ()
    #: Where the council stands among its peers: the latest benchmark period ending by the
    #: report's period, one position per peer group (in the file's order).
    benchmarks: tuple[Position, ...] = ()
    #: The forecast a year ahead from the period's end: (period, forecast, lower, upper),
    #: and its method in words ('' without one: too few points).
    forecast: tuple[tuple[str, float, float, float], ...] = ()
    forecast_method: str = ""
    #: For a red measure: "On current trend back on target by November 2024", or "Not back
    #: on target on current trend (forecast to March 2025)"; '' otherwise.
    back_on_track: str = ""
    #: "Consider a more ambitious target: ..." or "Review the target, the measure or the
    #: resources: ..." for a target beaten by a wide margin (or missed) quarter after quarter.
    target_review: str = ""
    target_review_kind: str = ""  # ambitious or review

    @property
    def headline_benchmark(self) -> Position | None:
        """The position a headline tile marks: the first peer group with a quartile."""
        return next((p for p in self.benchmarks if p.quartile is not None), None)

    def show(self, value: float) -> str:
        """A value of this measure in its unit and scale (``£110k``); '' if absent."""
        return format_value(value, self.unit, scale=self.scale)

    @property
    def available(self) -> bool:
        """Whether the period has a figure to show: not when it is not available or
        pending (a quarter with a month not available shows "n/a", whatever the others)."""
        return self.status not in (Status.NOT_AVAILABLE.value, Status.PENDING.value,
                                   Status.MISSING.value) and not math.isnan(self.value)  # fmt: skip

    @property
    def target_text(self) -> str:
        """``Target 85%``, ``TSL 95% / MSL 90%`` or ``No target``."""
        if self.rag_method == "thresholds" and not math.isnan(self.tsl):
            return f"TSL {self.show(self.tsl)} / MSL {self.show(self.msl)}"
        if not math.isnan(self.target):
            return f"Target {self.show(self.target)}"
        return "No target"

    @property
    def reference(self) -> str:
        """What the measure is rated against: ``target`` or ``TSL``; '' for neither."""
        if self.rag_method == "thresholds" and not math.isnan(self.tsl):
            return "TSL"
        return "target" if not math.isnan(self.target) else ""

    @property
    def variance_text(self) -> str:
        """The variance told by polarity: ``9.6 points worse than target`` for a
        percentage, ``21.7% better than target`` for other units, ``on target``; ``–``
        where there is no target or no figure."""
        if not self.available or not self.reference or math.isnan(self.variance):
            return "–"
        if self.variance == 0:
            return f"on {self.reference}"
        if self.unit == "percent":
            points = _trimmed(abs(self.variance))
            amount = f"{points} point{'' if points == '1' else 's'}"
        elif not math.isnan(self.variance_pct):
            amount = f"{_trimmed(abs(self.variance_pct) * 100)}%"
        else:
            amount = self.show(abs(self.variance))
        if self.polarity not in ("up", "down"):
            side = "above" if self.variance > 0 else "below"
            return f"{amount} {side} {self.reference}"
        better = (self.variance > 0) == (self.polarity == "up")
        return f"{amount} {'better' if better else 'worse'} than {self.reference}"

    @property
    def on_target(self) -> bool:
        """Green: the measure met its target (or TSL) this period."""
        return self.rag == RAG.GREEN.value

    @property
    def improving_off_target(self) -> bool:
        """Improving but not (yet) on target, and not an exception: amber improving, or a
        measure without a target that is improving."""
        return (
            not self.reasons
            and self.direction == Direction.IMPROVING.value
            and (
                self.rag == RAG.AMBER.value or (self.rag == RAG.GREY.value and not self.has_target)
            )
        )

    @property
    def reason_text(self) -> str:
        """The exception reasons as a sentence fragment."""
        return "; ".join(ExceptionReason(r).description for r in self.reasons)

    @property
    def earlier(self) -> str:
        """For a value from an earlier period than the report's own (an annual measure's
        latest result), that period: ``2023/24, latest available``; else ''."""
        return f"{self.value_period}, latest available" if self.value_period != self.period else ""

    @property
    def qualifiers(self) -> str:
        """What the figure covers when it is not simply its period: ``to Q3``, ``YTD``,
        ``snapshot``, ``rolling 12 months``, an earlier period; '' otherwise."""
        parts = [self.coverage] if self.coverage else []
        parts += [BASIS_WORDS[self.basis]] if self.basis in BASIS_WORDS else []
        parts += [self.earlier] if self.earlier else []
        return ", ".join(parts)

    @property
    def tile_value(self) -> str:
        """The bare figure for a tile: the value, or ``n/a`` where the period has none."""
        return self.show(self.value) if self.available else "n/a"

    @property
    def value_text(self) -> str:
        """The value in its unit, with what it covers when that is not simply its period;
        ``n/a (not available)`` where the period has no figure to show."""
        if not self.available:
            return f"n/a ({STATUS_WORDS.get(self.status, self.status)})"
        text = self.show(self.value)
        return f"{text} ({self.qualifiers})" if self.qualifiers else text

    @property
    def has_target(self) -> bool:
        """Whether the measure had a target (or service levels) to be rated against."""
        level = self.tsl if self.rag_method == "thresholds" else self.target
        return not math.isnan(level)

    @property
    def direction_text(self) -> str:
        """Direction of travel in words (a monitored measure's change included)."""
        return direction_label(self.direction, self.change_pct)

    @property
    def variation_text(self) -> str:
        """The variation in words (``Special cause concern``), '' without one."""
        return VARIATION_WORDS[Variation(self.variation)] if self.variation else ""

    @property
    def assurance_text(self) -> str:
        """The assurance in words (``Target hit and miss``), '' without one."""
        return ASSURANCE_WORDS[Assurance(self.assurance)] if self.assurance else ""

    @property
    def spc_text(self) -> str:
        """Variation, the rules behind it and assurance in one sentence, '' without SPC."""
        if not self.variation:
            return ""
        rules = " and ".join(RULE_WORDS[Rule(r)] for r in self.spc_rules)
        parts = [self.variation_text + (f" ({rules})" if rules else "")]
        if self.assurance:
            parts.append(self.assurance_text.lower())
        return "; ".join(parts)

    @property
    def data_text(self) -> str:
        """What a reader should know about the figures: a restatement since the last report,
        data quality and notes, or ''."""
        parts = [f"† {self.restatement}"] if self.restatement else []
        parts += [self.data_quality] if self.data_quality else []
        if self.note:
            parts.append(f"note: {self.note}")
        return "; ".join(parts)


@dataclass(frozen=True)
class ActionLine:
    """One improvement-plan action."""

    action_id: str
    action: str
    owner: str
    due: dt.date | None
    status: str
    overdue: bool
    measures: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class ContractMonth:
    """One month of a service's contract: how many KPIs stood at each level, the points and
    the service credit."""

    month: str
    at_tsl: int
    at_msl: int
    below_msl: int
    not_available: int
    mitigated: int
    pending: int
    abatement: float
    credit: float


@dataclass(frozen=True)
class ContractKpi:
    """One contract KPI over the report's months: (month, level, multiplier, points)."""

    measure_id: str
    title: str
    points: float  # its abatement points from the data dictionary
    months: tuple[tuple[str, str, float, float], ...]

    @property
    def abatement(self) -> float:
        return sum(m[3] for m in self.months)


@dataclass(frozen=True)
class Contract:
    """A service's contract performance: the year of months to the report's period end,
    and each KPI over the period's own months."""

    months: tuple[ContractMonth, ...]
    kpis: tuple[ContractKpi, ...]
    period_months: tuple[str, ...]
    credit_per_point: float

    @property
    def abatement(self) -> float:
        """Points in the report's period."""
        return sum(m.abatement for m in self.months if m.month in self.period_months)

    @property
    def credit(self) -> float:
        """Service credit in the report's period."""
        return sum(m.credit for m in self.months if m.month in self.period_months)


CONTRACT_MONTHS = 12


_VARIATION_RANK = {"concern": 0, "neither": 1, "common_cause": 2, "": 2, "improvement": 3}
_ASSURANCE_RANK = {"consistently_missed": 0, "hit_and_miss": 1, "": 2, "consistently_met": 3}
_RAG_RANK = {"red": 0, "amber": 1, "white": 2, "grey": 3, "blue": 4, "green": 5}


def attention_key(row: MatrixRow) -> tuple[int, int, int]:
    """What needs attention first: special cause concern, then a target the process
    consistently misses, then by RAG (red first); improvement and assurance last."""
    return (
        _VARIATION_RANK.get(row.variation, 2),
        _ASSURANCE_RANK.get(row.assurance, 2),
        _RAG_RANK.get(row.rag, 3),
    )


@dataclass(frozen=True)
class Cpr:
    """Everything the four slides and the HTML report show."""

    council: str
    service: str
    quarter: str
    report_date: dt.date
    run_id: str
    director: str
    cabinet_member: str
    counts: dict[str, int]
    headlines: tuple[MeasureLine, ...]
    successes: tuple[str, ...]
    areas_for_development: tuple[str, ...]
    summary_comment: str
    whats_good: tuple[MeasureLine, ...]  # on target, then improving: the slide-2 rows
    whats_good_more: int
    whats_good_comment: str
    exceptions: tuple[MeasureLine, ...]
    actions: tuple[ActionLine, ...]
    approach_comment: str
    scorecard: pd.DataFrame = field(repr=False, compare=False)
    config: CouncilConfig = field(repr=False, compare=False)
    data_notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: "" for a finished quarter; else what it holds, e.g. "Provisional: 2 of 3 months, to
    #: August 2024" - said on every slide and in the HTML report.
    provisional: str = ""
    on_target: tuple[MeasureLine, ...] = ()  # green, best first
    improving: tuple[MeasureLine, ...] = ()  # improving but not yet on target, no exception
    improving_exceptions: int = 0  # exceptions that are improving (shown on slide 3)
    #: Every measure of the service for the period, monitored-only ones included, in the
    #: data dictionary's order: the full scorecard.
    all_lines: tuple[MeasureLine, ...] = ()
    #: Where the report stands in sign-off (draft until the Director approves it as it is).
    signoff: SignOff = field(default_factory=SignOff)
    #: Open committee decisions on the service's measures (also on each line).
    decisions: tuple[Decision, ...] = ()
    #: Drafted words for the Director's summary (what needs attention) and what's good,
    #: shown marked as drafted only where nobody has written the text.
    summary_draft: str = ""
    whats_good_draft: str = ""
    #: Contract performance, for a service with contract KPIs (abatement points); else None.
    contract: Contract | None = None

    @property
    def target_reviews(self) -> tuple[MeasureLine, ...]:
        """Measures whose target should be looked at again: more ambitious first."""
        flagged = [x for x in self.all_lines if x.target_review]
        return tuple(sorted(flagged, key=lambda x: x.target_review_kind != "ambitious"))

    @property
    def matrix(self) -> tuple[MatrixRow, ...]:
        """Every measure of the service as one row of the SPC summary matrix, what needs
        attention first (data-dictionary order among equals)."""
        rows = (MatrixRow.of(line, self.service) for line in self.all_lines)
        return tuple(sorted(rows, key=attention_key))

    # -- words every output shares -------------------------------------------------------
    @property
    def in_period(self) -> str:
        """The report's period in a sentence: ``this quarter``, ``this month``, ``in
        2015/16``, ``in June to August 2017``."""
        if self.period_noun in ("quarter", "month"):
            return f"this {self.period_noun}"
        return f"in {self.period_words}"

    @property
    def successes_empty(self) -> str:
        """What the deck's successes say when no measure is on target."""
        return self.successes_none("slide 2")

    def successes_none(self, where: str) -> str:
        """What the successes say when no measure is on target; ``where`` points to the
        measures improving (``slide 2`` in the deck, ``see What's good`` on a page)."""
        text = f"No measure is on target {self.in_period}."
        if self.improving:
            n = len(self.improving)
            text += (
                f" {_count(n)} {'is' if n == 1 else 'are'} improving but not yet on target "
                f"({where})."
            )
        return text

    @property
    def whats_good_empty(self) -> str:
        """What the deck's "what's good" says when it has nothing to list."""
        return self.whats_good_none("slide 3")

    def whats_good_none(self, where: str) -> str:
        """What "what's good" says with nothing to list; ``where`` points to the exceptions
        that are improving (``slide 3`` in the deck, ``see Measures needing attention`` on a
        page)."""
        text = f"No measure is on target or improving {self.in_period}"
        if self.improving_exceptions:
            n = self.improving_exceptions
            text += (
                f", apart from {n} exception{'s' if n > 1 else ''} that "
                f"{'are' if n > 1 else 'is'} improving ({where})"
            )
        return text + "."

    @property
    def exceptions_empty(self) -> str:
        return f"No measure meets the exception criteria {self.in_period}."

    @property
    def whats_good_caption(self) -> str:
        return (
            f"What's good, {self.period_words}: {_count(len(self.on_target))} on target, "
            f"{_count(len(self.improving))} improving but not yet on target"
        )

    @property
    def whats_good_more_text(self) -> str:
        return self.whats_good_more_than(self.whats_good_more)

    @staticmethod
    def whats_good_more_than(n: int) -> str:
        """The note for ``n`` measures on target or improving that a table does not show."""
        return (
            f"And {n} more measure{'s' if n > 1 else ''} on target or improving: see the full "
            "scorecard (appendix)."
        )

    @property
    def changes(self) -> tuple[MeasureLine, ...]:
        """The measures whose figures were restated since this report was last published."""
        return tuple(line for line in self.all_lines if line.restatement)

    @property
    def closest_to_target(self) -> tuple[MeasureLine, ...]:
        """Measures off target, the nearest to it first: what an empty "what's good" shows."""
        off = [x for x in self.all_lines
               if x.include and x.available and x.has_target and not x.on_target]  # fmt: skip
        return tuple(sorted(off, key=lambda x: -_favourable(x))[:CONTEXT_ROWS])

    @property
    def nearest_margin(self) -> tuple[MeasureLine, ...]:
        """Measures on target by the smallest margin first: the next to watch when there
        are no exceptions."""
        return tuple(sorted(self.on_target, key=_favourable)[:CONTEXT_ROWS])

    @property
    def without_action(self) -> tuple[MeasureLine, ...]:
        """The exceptions no improvement action names."""
        named = {m for action in self.actions for m in action.measures}
        return tuple(x for x in self.exceptions if x.measure_id not in named)

    @property
    def categories(self) -> tuple[str, ...]:
        """The council's categories in order, then other measures if any has none."""
        names = self.config.category_names
        extra = any(line.category not in names for line in self.all_lines)
        return names + ((OTHER_CATEGORY,) if extra else ())

    @property
    def category_counts(self) -> tuple[tuple[str, dict[str, int]], ...]:
        """Each category's counted measures by RAG rating, in the council's order."""
        return tuple(
            (
                category,
                {
                    rag: sum(x.rag == rag for x in self.in_category(category) if x.include)
                    for rag in RAG_ORDER
                },
            )
            for category in self.categories
        )

    def in_category(self, category: str) -> tuple[MeasureLine, ...]:
        """The full scorecard's measures of one category (other measures: the rest)."""
        names = self.config.category_names
        if category == OTHER_CATEGORY:
            return tuple(x for x in self.all_lines if x.category not in names)
        return tuple(x for x in self.all_lines if x.category == category)

    @property
    def slug(self) -> str:
        return slugify(self.service)

    @property
    def period_noun(self) -> str:
        """``quarter``, ``month``, ``year`` or (for a run of months) ``period``: what the
        report covers."""
        calendar = calendar_for(self.config.year_start_month)
        granularity = calendar.granularity(calendar.parse(self.quarter))
        return "period" if granularity is Granularity.RANGE else granularity.word

    @property
    def period_words(self) -> str:
        """The period as a committee writes it: ``June 2024``, ``June to August 2024``,
        ``2024/25 Q1``, ``2023/24``."""
        return period_words(self.quarter)

    @property
    def title(self) -> str:
        return f"{self.service}: Corporate Performance Report, {self.period_words}"

    @property
    def palette(self) -> dict[str, str]:
        """RAG word -> colour, from the council configuration."""
        return self.config.palette

    @property
    def page_title(self) -> str:
        """The HTML report's ``<title>``."""
        return f"{self.title} - {self.council}"

    @property
    def footer(self) -> str:
        """The footer line of the HTML report."""
        return (
            f"{self.council} · {self.service} · Corporate Performance Report "
            f"{self.period_words} · "
            f"Report date {self.report_date:%d %B %Y} · Run {self.run_id}"
            + (f" · {self.provisional}" if self.provisional else "")
            + f" · {self.signoff_text}"
        )

    @property
    def signoff_text(self) -> str:
        """``DRAFT: not yet approved by the Director`` or who approved it and when."""
        if self.signoff.approved:
            return self.signoff.text
        why = f": {self.signoff.lapsed}" if self.signoff.lapsed else ""
        return f"DRAFT{why or ': not yet approved by the Director'}"


def build_cpr(
    dataset: Dataset,
    service: str,
    quarter: str,
    *,
    report_date: str | dt.date | None = None,
    run_id: str = "",
) -> Cpr:
    """Assemble one service's CPR for one quarter.

    The data is rated as it is now (an edited dataset is rated as edited), with the council
    configuration the dataset was loaded with (``kpitools.load(path, config=config)``).

    Args:
        dataset: the council's data.
        service: a service named in the data dictionary.
        quarter: the period: a financial quarter (``"2024/25 Q1"``), a month (``"2024-06"``),
            a financial year (``"2023/24"``) or a run of months (``"2024-06..2024-08"``,
            compared with the run of as many months before it).
        report_date: the date printed on the report (ISO text or a date); defaults to the
            quarter's last day, so output never depends on the clock.
        run_id: an identifier printed in the report's footer.

    Raises:
        KpiToolsError: unknown service, or text that is not a period.
    """
    if service not in dataset.services:
        raise KpiToolsError(
            f"service '{service}' is not in the data: {', '.join(dataset.services)}"
        )
    calendar = dataset.calendar
    try:
        period = calendar.parse(quarter)
    except ValueError as err:
        raise KpiToolsError(f"period {err}") from None
    granularity = calendar.granularity(period)
    label = calendar.label(period)
    if not dataset.covers(period):
        raise KpiToolsError(f"{label} is outside the data: no figures cover any of its months")
    provisional, reached_end = _provisional(dataset, period)
    date = parse_report_date(report_date) if report_date else reached_end

    config = dataset.config
    by = period if granularity is Granularity.RANGE else granularity
    # Variation is read for the report's own period only (below): the earlier periods give
    # the trends.
    history = rate(dataset, by=by, services=[service], carry_forward=True, spc=False)
    if granularity in (Granularity.MONTH, Granularity.RANGE):
        # A measure's frequency decides which reports it is in: a month's (or a run of
        # months') report holds the measures with figures of their own for months, not
        # results carried from longer periods.
        history = history[history["value_period"] == history["period"]]
    # Each measure's points, read once: the labels, the XmR charts and the forecasts.
    series = measure_points(dataset, list(history["measure_id"].unique()))
    current = with_labels(
        dataset, history[history["period"] == label].reset_index(drop=True), series
    )
    reported = current[current["include"]]
    every_row = records_of(current)  # (the reported rows' records are among them)
    trends = _trends(history, label)
    # Comments are kept by quarter: a month's or a year's report takes its last quarter's.
    comments = recorded_comments(
        dataset, service, calendar.label(calendar.containing(calendar.last_month(period),
                                                              Granularity.QUARTER))
    )  # fmt: skip
    months = (
        _month_ratings(dataset, period, _exception_ids(reported))
        if granularity in (Granularity.QUARTER, Granularity.RANGE)
        else {}
    )
    restated = _restatements(dataset, service, label)
    decisions = open_decisions(
        dataset.decisions, service, calendar.first_month(period), date, calendar.label
    )
    insight = _Insight(
        charts=_xmr_charts(dataset, series, period),
        peers=_latest_positions(dataset, list(current["measure_id"]), period),
        outlooks=_outlooks(dataset, series, period),
        reviews=target_reviews(
            dataset,
            period,
            services=[service],
            quarterly=history if granularity is Granularity.QUARTER else None,
        ),
    )
    lines = {
        row["measure_id"]: _with_restatement(
            _measure_line(
                row,
                trends.get(row["measure_id"], ()),
                comments,
                months.get(row["measure_id"], ()),
                decisions,
                insight.of(row),
            ),
            restated,
        )
        for row in every_row
        if row["include"]
    }

    # Reds first, then the furthest from target.
    exceptions = tuple(
        sorted(
            (line for line in lines.values() if line.reasons),
            key=lambda line: (line.rag != RAG.RED, _favourable(line)),
        )
    )
    # One definition each, used by every slide and the HTML report: on target (green);
    # improving but not yet on target (amber improving, or improving without a target),
    # never an exception; "what's good" is both, on target first.
    on_target = sorted((x for x in lines.values() if x.on_target), key=lambda x: -_favourable(x))
    improving = sorted(
        (x for x in lines.values() if x.improving_off_target), key=lambda x: -_favourable(x)
    )
    good = on_target + improving
    watch = [
        line
        for line in lines.values()
        if not line.reasons
        and not line.has_target
        and (
            line.direction == Direction.WORSENING
            or (
                line.direction == Direction.MONITORED
                and (
                    abs(line.change_pct) >= config.notable_change
                    or (line.previous_value == 0 and line.value != 0)
                )
            )
        )
    ]
    every = tuple(
        _with_restatement(
            _measure_line(
                row, trends.get(row["measure_id"], ()), comments, (), decisions, insight.of(row)
            ),
            restated,
        )
        if row["measure_id"] not in lines
        else lines[row["measure_id"]]
        for row in every_row
    )
    service_config = config.service(service)
    warnings = tuple(
        f"{service} {label}: no Director's comment for exception {line.measure_id} "
        f"({line.title}); the deck shows "
        + ("kpitools' drafted words, marked as drafted" if line.available else "'Comment awaited'")
        for line in exceptions
        if not line.comment
    ) + _comment_warnings(service, label, comments, every)
    report = Cpr(
        council=config.council,
        service=service,
        quarter=label,
        report_date=date,
        run_id=run_id,
        director=service_config.director,
        cabinet_member=service_config.cabinet_member,
        counts={rag: sum(line.rag == rag for line in lines.values()) for rag in RAG_ORDER},
        headlines=_headlines(lines, service_config.headline),
        successes=tuple(
            f"{line.title}: {_short_value(line)}" for line in on_target[:SUCCESS_LINES]
        ),
        areas_for_development=tuple(
            [f"{line.title}: {line.reason_text}" for line in exceptions]
            + [f"{line.title}: {_change_text(line)}" for line in watch]
        )[:SUCCESS_LINES],
        summary_comment=comments.get(("", Section.SUMMARY.value), ("", ""))[0],
        on_target=tuple(on_target),
        improving=tuple(improving),
        improving_exceptions=sum(x.direction == Direction.IMPROVING for x in exceptions),
        all_lines=every,
        whats_good=tuple(good[:WHATS_GOOD_ROWS]),
        whats_good_more=max(0, len(good) - WHATS_GOOD_ROWS),
        whats_good_comment=comments.get(("", Section.WHATS_GOOD.value), ("", ""))[0],
        exceptions=exceptions,
        actions=_actions(dataset, service, date),
        approach_comment=comments.get(("", Section.APPROACH.value), ("", ""))[0],
        scorecard=current,
        config=config,
        data_notes=_data_notes(current),
        provisional=provisional,
        warnings=warnings,
        decisions=decisions,
        contract=_contract(dataset, service, period),
    )
    report = _with_drafts(report)
    steps = approval_steps(dataset.signoff)
    # The digest is worked out now only where an approval is to be checked against it (else
    # when asked: the summary records it).
    digest = content_digest(report) if _approval_recorded(steps, service, label) else ""
    report = replace(report, signoff=sign_off(steps, service, label, digest))
    if digest:
        # The sign-off is no part of the digest: the report as built keeps it, so the summary
        # and the pack do not work it out again (a copy made with ``replace`` works it out
        # afresh).
        object.__setattr__(report, _DIGEST, digest)
    return report


def _approval_recorded(steps: pd.DataFrame, service: str, label: str) -> bool:
    """Whether the service's report for the period was ever approved (its digest then
    decides whether the approval still holds)."""
    if steps.empty:
        return False
    return bool(((steps["service"] == service) & (steps["period"] == label)
                 & (steps["state"] == SignOffState.APPROVED.value)).any())  # fmt: skip


def _contract(dataset: Dataset, service: str, period: pd.Period) -> Contract | None:
    """The service's contract performance to the period's end (None without contract KPIs)."""
    if not contract_measures(dataset, [service]):
        return None
    months = abatements(dataset, [service], upto=period)
    if months.empty:
        return None
    calendar = dataset.calendar
    first, last = calendar.first_month(period), calendar.last_month(period)
    own = [calendar.label(m) for m in pd.period_range(first, last, freq="M")]
    summary = contract_summary(months).tail(CONTRACT_MONTHS)
    in_period = months[months["month"].isin(own)]
    kpis = tuple(
        ContractKpi(
            measure_id=str(measure_id),
            title=str(group["title"].iloc[0]),
            points=float(group["points"].iloc[0]),
            months=tuple(
                (str(m), str(level), float(factor), float(points))
                for m, level, factor, points in zip(
                    group["month"], group["level"], group["multiplier"], group["abatement"],
                    strict=True,
                )
            ),
        )
        for measure_id, group in in_period.groupby("measure_id", sort=False)
    )  # fmt: skip
    return Contract(
        months=tuple(
            ContractMonth(
                month=str(r["month"]),
                **{level: int(r[level]) for level in CONTRACT_LEVELS},
                abatement=float(r["abatement"]),
                credit=float(r["credit"]),
            )
            for r in summary.to_dict("records")
        ),
        kpis=kpis,
        period_months=tuple(m for m in own if m in set(months["month"])),
        credit_per_point=dataset.config.service(service).service_credit_per_point,
    )


def _with_drafts(report: Cpr) -> Cpr:
    """The report with kpitools' drafted words: for each exception, and for the service."""
    from kpitools.report import drafts

    noun = report.period_noun
    drafted = {x.measure_id: replace(x, draft=drafts.exception_draft(x, noun))
               for x in report.exceptions}  # fmt: skip
    return replace(
        report,
        exceptions=tuple(drafted[x.measure_id] for x in report.exceptions),
        all_lines=tuple(drafted.get(x.measure_id, x) for x in report.all_lines),
        summary_draft=drafts.attention_draft(report),
        whats_good_draft=drafts.whats_good_draft(report),
    )


def approval_steps(frame: pd.DataFrame) -> pd.DataFrame:
    """The sign-off steps a report shows (draft, comments received, approved): noting and
    publishing do not change a report, so a published deck is the approved one, byte for
    byte."""
    if frame.empty:
        return frame
    shown = {SignOffState.DRAFT.value, SignOffState.COMMENTS_RECEIVED.value,
             SignOffState.APPROVED.value}  # fmt: skip
    return frame[frame["state"].isin(shown)]


_DIGEST = "_content_digest"


def content_digest(report: Cpr) -> str:
    """A digest of what the report says - figures, ratings, comments, actions, decisions -
    leaving out its run id, warnings and sign-off: what a Director's approval is of. Worked
    out once and kept with the (frozen) report; a copy made with ``replace`` works it out
    afresh."""
    kept = report.__dict__.get(_DIGEST)
    if isinstance(kept, str):
        return kept
    parts = (
        report.council, report.service, report.quarter, report.counts, report.all_lines,
        report.summary_comment, report.whats_good_comment, report.approach_comment,
        report.actions, report.decisions, report.provisional, report.contract,
    )  # fmt: skip
    digest = hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:16]
    object.__setattr__(report, _DIGEST, digest)  # a frozen report: the same digest each time
    return digest


def figures_digest(report: Cpr) -> str:
    """A digest of the report's figures and ratings alone, without anyone's words: what a
    commentary workbook was written for."""
    lines = tuple(
        replace(x, comment="", comment_author="", commentary=(), decisions=())
        for x in report.all_lines
    )
    parts = (report.council, report.service, report.quarter, report.counts, lines)
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:16]


def _restatements(dataset: Dataset, service: str, label: str) -> dict[str, dict[str, Any]]:
    """The figures of this report restated since it was last published, by measure."""
    frame = dataset.restatements
    if frame.empty or "report_period" not in frame:
        return {}
    calendar = dataset.calendar
    mine = frame[
        (frame["service"] == service)
        & pd.Series([calendar.label(p) == label for p in frame["report_period"]],
                    index=frame.index, dtype=bool)
    ]  # fmt: skip
    return {str(row["measure_id"]): row for row in records_of(mine)}


def _with_restatement(line: MeasureLine, restated: dict[str, dict[str, Any]]) -> MeasureLine:
    row = restated.get(line.measure_id)
    if row is None:
        return line

    def figure(value: float, status: str, rag: str) -> str:
        shown = line.show(value) if status in ("reported", "mitigated") else ""
        if not shown:
            shown = f"n/a ({STATUS_WORDS.get(status, status)})" if status else "no value"
        return f"{shown} ({rag})" if rag else shown

    text = (
        f"restated from {figure(row['value_before'], row['status_before'], row['rag_before'])}"
        f" to {figure(row['value_after'], row['status_after'], row['rag_after'])}"
    )
    if isinstance(row.get("restated_on"), dt.date):
        on = row["restated_on"]
        text += f" on {on.day} {on:%B %Y}"
    if row.get("reason"):
        text += f": {row['reason']}"
    return replace(line, restatement=text)


def _comment_warnings(
    service: str, label: str, comments: _Comments, lines: tuple[MeasureLine, ...]
) -> tuple[str, ...]:
    """A missing Director's summary, and comments on measures this report does not show."""
    found = []
    if not comments.get(("", Section.SUMMARY.value), ("", ""))[0]:
        found.append(f"{service} {label}: no Director's summary; the deck shows 'Summary awaited'")
    shown = {line.measure_id for line in lines}
    for measure_id in dict.fromkeys(m for m, _ in comments if m):
        if measure_id not in shown:
            found.append(
                f"{service} {label}: the comment on {measure_id} is not shown: the measure is "
                f"not in this report (not {service}'s, or not reported for {label})"
            )
    return tuple(found)


def _provisional(dataset: Dataset, period: pd.Period) -> tuple[str, dt.date]:
    """Whether a quarter is unfinished (the data does not reach its last month), said in
    words, and the last day the data reaches within it (the default report date)."""
    calendar = dataset.calendar
    months = (calendar.last_month(period) - calendar.first_month(period)).n + 1
    reached = dataset.months_reached(period)
    if reached >= months:
        return "", period.end_time.date()
    last = calendar.first_month(period) + max(reached, 1) - 1
    to = f", to {last.strftime('%B %Y')}" if reached else ""
    return f"Provisional: {reached} of {months} months{to}", last.end_time.date()


def parse_report_date(value: str | dt.date) -> dt.date:
    """A report date given as ISO text (or already a date).

    Raises:
        KpiToolsError: the text is not a date.
    """
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise KpiToolsError(f"report date '{value}' is not a date (write 2024-07-19)") from None


def _trends(history: pd.DataFrame, label: str) -> dict[str, tuple[tuple[str, float], ...]]:
    """Each measure's last few periods up to ``label``."""
    periods = list(dict.fromkeys(values_of(history["period"])))
    if label not in periods:
        return {}
    window = set(
        periods[max(0, periods.index(label) - TREND_PERIODS + 1) : periods.index(label) + 1]
    )
    recent = history["period"].isin(window).to_numpy()  # (three columns taken, not all)
    return _by_measure(history["measure_id"][recent], history["period"][recent],
                       history["value"][recent].astype(float))  # fmt: skip


#: Comments by (measure id or '', section): (text, author).
_Comments = dict[tuple[str, str], tuple[str, str]]


def recorded_comments(dataset: Dataset, service: str, label: str) -> _Comments:
    """Comments for the service and quarter, by (measure id, section); several rows for one
    are joined, in the file's order."""
    if dataset.comments.empty:
        return {}
    every = dataset.remembered(("comments by service and quarter", dataset.calendar),
                               lambda: _comments_by_report(dataset), ("comments",))  # fmt: skip
    return dict(every.get((service, label), {}))


def _comments_by_report(dataset: Dataset) -> dict[tuple[str, str], _Comments]:
    """Every service's comments for every quarter (see :func:`recorded_comments`), read in
    one pass of the file."""
    comments = dataset.comments
    labels = [dataset.calendar.label(q) if q is not None else "" for q in comments["quarter"]]
    out: dict[tuple[str, str], _Comments] = {}
    for row, label in zip(rows_of(comments), labels, strict=True):
        found = out.setdefault((row.service, label), {})
        key = (row.measure_id, row.section)
        text, author = found.get(key, ("", ""))
        text = f"{text}\n\n{row.comment}" if text else row.comment
        found[key] = (text, author or row.author)
    return out


# Scorecard columns a MeasureLine takes over as they are.
_LINE_FIELDS = ("measure_id", "title", "polarity", "unit", "rag_method", "value", "target", "tsl",
                "msl", "rag", "direction", "variance", "variance_pct", "period", "value_period",
                "data_quality", "note", "previous_value", "change_pct", "basis",
                "coverage", "short_title", "scale", "status", "category",
                "include", "variation", "assurance")  # fmt: skip


def _measure_line(
    row: dict[str, Any],
    trend: tuple[tuple[str, float], ...],
    comments: _Comments,
    months: tuple[tuple[str, str], ...],
    decisions: tuple[Decision, ...] = (),
    insight: dict[str, Any] | None = None,
) -> MeasureLine:
    """A scorecard row's line: its trend, comments, months and decisions, and what the
    report's insight adds (:meth:`_Insight.of`)."""
    measure_id = row["measure_id"]
    parts = [
        (prompt.label, comments[(measure_id, prompt.section.value)])
        for prompt in PROMPTS
        if (measure_id, prompt.section.value) in comments
    ]
    free = comments.get((measure_id, Section.EXCEPTION.value))
    if free:
        parts.append(("Comment" if parts else "", free))
    commentary = tuple((label, text) for label, (text, _) in parts)
    return MeasureLine(
        **{name: row[name] for name in _LINE_FIELDS},
        reasons=tuple(str(row["exception_reasons"]).split()),
        trend=trend,
        comment="\n\n".join(f"{label}: {text}" if label else text for label, text in commentary),
        comment_author=next((author for _, (_, author) in parts if author), ""),
        commentary=commentary,
        decisions=tuple(d for d in decisions if d.measure_id == measure_id),
        months=months,
        **(insight or {}),
    )


_Xmr = tuple[tuple[str, float, float, float, float, str, str], ...]


_PER_YEAR = {Granularity.MONTH: (12, "month"), Granularity.QUARTER: (4, "quarter"),
             Granularity.YEAR: (1, "year")}  # fmt: skip


@dataclass(frozen=True)
class _Outlook:
    """What the report's period end says of a measure's future: its forecast, and when a
    measure off target is back on it."""

    steps: tuple[tuple[str, float, float, float], ...]
    method: str
    back: str  # the sentence for a measure off target


def _outlooks(
    dataset: Dataset, series_of: dict[str, Series], period: pd.Period
) -> dict[str, _Outlook]:
    """Each measure's forecast from its points to the period's end."""
    calendar = dataset.calendar
    end = calendar.last_month(period).ordinal
    ahead_of: dict[tuple[pd.Period, int], list[str]] = {}  # the periods ahead of a last one
    seasonal = dataset.remembered(
        "seasonal measures",
        lambda: set(dataset.measures.index[dataset.measures["seasonal"].astype(bool)]),
        ("measures",),
    )
    out = {}
    for measure_id, series in series_of.items():
        upto = int((series.ends <= end).sum())
        if not upto:
            continue
        last = series.periods[upto - 1]
        per_year, noun = _PER_YEAR.get(calendar.granularity(last), (12, "month"))
        result = forecast(
            series.values[:upto], per_year, seasonal=measure_id in seasonal, noun=noun
        )
        if result is None:
            continue
        labels = ahead_of.get((last, len(result.steps)))
        if labels is None:  # most measures end in the same period: labelled once
            labels = ahead_of[(last, len(result.steps))] = [
                calendar.label(last + ahead) for ahead in range(1, len(result.steps) + 1)
            ]
        steps = tuple((label, *step) for label, step in zip(labels, result.steps, strict=True))
        target = float(series.targets[upto - 1])
        ahead = back_on_target(result, target, series.polarity)
        if ahead is not None:
            back = f"On current trend back on target by {period_words(steps[ahead - 1][0])}"
        else:
            back = f"Not back on target on current trend (forecast to {period_words(steps[-1][0])})"
        out[measure_id] = _Outlook(steps=steps, method=result.method, back=back)
    return out


def _xmr_charts(
    dataset: Dataset, series_of: dict[str, Series], period: pd.Period
) -> dict[str, tuple[_Xmr, str, tuple[str, ...]]]:
    """Each measure's XmR chart to the period's end (as the scorecard's labels read it),
    with the latest point's side and rules."""
    calendar = dataset.calendar
    end = calendar.last_month(period).ordinal
    run_length = dataset.config.spc_run_length
    stops = {m: int((s.ends <= end).sum()) for m, s in series_of.items()}
    draw_alike(((series_of[m], stop) for m, stop in stops.items()), run_length)
    out = {}
    # The measures' points share one object per distinct period: each labelled once.
    labels: dict[int, str] = {}

    def label(period: pd.Period) -> str:
        found = labels.get(id(period))
        if found is None:
            found = labels[id(period)] = calendar.label(period)
        return found

    for measure_id, series in series_of.items():
        upto = stops[measure_id]
        if not upto:
            continue
        chart = series.chart(run_length, upto)
        # Column by column (numpy's floats as Python's), then point by point.
        points = tuple(
            zip(
                [label(p) for p in series.periods[:upto]],
                chart.values[:upto].tolist(),
                chart.mean[:upto].tolist(),
                chart.lower[:upto].tolist(),
                chart.upper[:upto].tolist(),
                [v.value for v in chart.variation[:upto]],
                chart.side[:upto],
                strict=True,
            )
        )
        out[measure_id] = (points, chart.side[-1], tuple(r.value for r in chart.rules[-1]))
    return out


def _latest_positions(
    dataset: Dataset, measure_ids: list[str], period: pd.Period
) -> dict[str, tuple[Position, ...]]:
    """Each measure's positions in its latest benchmark period ending by the report's."""
    found: dict[str, dict[str, Position]] = {}
    for position in positions(dataset, measure_ids, upto=period):
        # Positions come in period order: a later period replaces an earlier one.
        found.setdefault(position.measure_id, {})[position.peer_group] = position
    out = {}
    for measure_id, groups in found.items():
        latest = max(dataset.calendar.last_month(dataset.calendar.parse(p.period))
                     for p in groups.values())  # fmt: skip
        out[measure_id] = tuple(
            p for p in groups.values()
            if dataset.calendar.last_month(dataset.calendar.parse(p.period)) == latest
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class _Insight:
    """What a report adds to its measures beyond the rating, worked out once per report."""

    charts: dict[str, tuple[_Xmr, str, tuple[str, ...]]]
    peers: dict[str, tuple[Position, ...]]
    outlooks: dict[str, _Outlook]
    reviews: dict[str, TargetReview]

    def of(self, row: dict[str, Any]) -> dict[str, Any]:
        """A scorecard row's chart, benchmarks, forecast and target review (fields of its
        line); the side and rules only where the scorecard gives the period a variation (its
        latest point lies in the period); when it is back on target only for a red measure."""
        measure_id = row["measure_id"]
        changes: dict[str, Any] = {"benchmarks": self.peers.get(measure_id, ())}
        outlook = self.outlooks.get(measure_id)
        if outlook is not None:
            changes.update(
                forecast=outlook.steps,
                forecast_method=outlook.method,
                back_on_track=outlook.back if row["rag"] == RAG.RED else "",
            )
        found = self.charts.get(measure_id)
        if found is not None:
            points, side, rules = found
            changes["xmr"] = points
            if row["variation"]:
                changes.update(spc_side=side, spc_rules=rules)
        review = self.reviews.get(measure_id)
        if review is not None:
            changes.update(target_review=review.text, target_review_kind=review.kind)
        return changes


def _exception_ids(rows: pd.DataFrame) -> list[str]:
    return [str(m) for m in rows.loc[rows["exception"], "measure_id"]]


def _month_ratings(
    dataset: Dataset, quarter: pd.Period, measure_ids: list[str]
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each monthly measure's RAG for every month of the quarter (missing months included),
    for the measures whose rows show them (the exceptions)."""
    if not measure_ids:
        return {}
    calendar = dataset.calendar
    first, last = calendar.first_month(quarter), calendar.last_month(quarter)
    labels = [calendar.label(m) for m in pd.period_range(first, last, freq="M")]
    if dataset.asked_before(_MONTH_RATINGS, RATED_FROM):
        # A second report: every measure's monthly ratings, grouped once for them all.
        every = dataset.remembered(
            _MONTH_RATINGS, lambda: _own_months(dataset, list(dataset.measures.index)), RATED_FROM
        )
    else:
        every = _own_months(dataset, measure_ids)
    wanted, chosen = set(labels), set(measure_ids)
    picked = {m: tuple(r for r in every[m] if r[0] in wanted) for m in every if m in chosen}
    return {m: rows for m, rows in picked.items() if rows}


_MONTH_RATINGS = ("month ratings",)


def _own_months(dataset: Dataset, measure_ids: list[str]) -> dict[str, tuple[tuple[str, str], ...]]:
    """These measures' RAG for each month they have a figure of their own for."""
    monthly = rate(dataset, by=Granularity.MONTH, measures=measure_ids, spc=False)
    own = monthly[monthly["value_period"] == monthly["period"]]
    return _by_measure(own["measure_id"], own["period"], own["rag"])


def _by_measure(ids: pd.Series, *columns: pd.Series) -> dict[str, tuple[tuple[Any, ...], ...]]:
    """Rows' values as tuples, grouped by measure in order of first appearance."""
    codes, uniques, order, bounds = groups_of(ids)
    rows = list(zip(*map(values_of, columns), strict=True))
    if len(codes) and codes.min() < 0:  # a missing id: row by row
        out: dict[str, list[tuple[Any, ...]]] = {}
        for measure_id, row in zip(values_of(ids), rows, strict=True):
            out.setdefault(str(measure_id), []).append(row)
        return {key: tuple(grouped) for key, grouped in out.items()}
    if not (order[1:] > order[:-1]).all():  # each measure's rows together, in their order
        rows = [rows[i] for i in order.tolist()]
    return {str(key): tuple(rows[bounds[k] : bounds[k + 1]]) for k, key in enumerate(uniques)}


def _count(n: int) -> str:
    return f"{n} measure{'s' if n != 1 else ''}" if n else "none"


def _trimmed(number: float) -> str:
    """One decimal place, without a trailing ``.0``: ``9.6``, ``2``."""
    text = f"{number:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def _favourable(line: MeasureLine) -> float:
    """How far a measure is better than its target (relative), for ordering."""
    if math.isnan(line.variance_pct):
        return 0.0
    return line.variance_pct if line.polarity == "up" else -line.variance_pct


def _headlines(lines: dict[str, MeasureLine], chosen: tuple[str, ...]) -> tuple[MeasureLine, ...]:
    """The slide-1 tiles: the configured measures, else exceptions first then the best greens."""
    picked = [lines[m] for m in chosen if m in lines]
    if not picked:
        rated = [line for line in lines.values() if line.rag in (RAG.GREEN, RAG.AMBER, RAG.RED)]
        exceptions = sorted((x for x in rated if x.reasons), key=_favourable)
        others = sorted((x for x in rated if not x.reasons), key=_favourable, reverse=True)
        picked = exceptions[: HEADLINE_TILES // 2] + others
        picked = picked[:HEADLINE_TILES]
        if len(picked) < HEADLINE_TILES:
            picked += [x for x in exceptions if x not in picked][: HEADLINE_TILES - len(picked)]
    return tuple(picked[:HEADLINE_TILES])


def _short_value(line: MeasureLine) -> str:
    target = line.tsl if line.rag_method == "thresholds" else line.target
    text = line.value_text
    if not math.isnan(target):
        text += f" against a target of {line.show(target)}"
    elif not math.isnan(line.previous_value):
        text += f", {line.direction} from {line.show(line.previous_value)}"
    return text


def _change_text(line: MeasureLine) -> str:
    """A measure without a target that is worsening, or monitored and changing a lot."""
    was = line.show(line.previous_value)
    now = line.value_text
    if line.direction == Direction.MONITORED:
        return f"monitored, {change_words(line.change_pct)} from {was} to {now}"
    return f"worsening, from {was} to {now}; no target"


def _actions(dataset: Dataset, service: str, report_date: dt.date) -> tuple[ActionLine, ...]:
    if dataset.actions.empty:
        return ()
    every = dataset.remembered("actions by service", lambda: _actions_by_service(dataset),
                               ("actions",))  # fmt: skip
    lines = []
    for row in every.get(service, ()):
        due = row.due if isinstance(row.due, dt.date) else None
        overdue = row.status == ActionStatus.OVERDUE or (
            due is not None and due < report_date and row.status != ActionStatus.COMPLETE
        )
        lines.append(
            ActionLine(
                action_id=row.action_id,
                action=row.action,
                owner=row.owner,
                due=due,
                status=ActionStatus.OVERDUE.value if overdue else row.status,
                overdue=overdue,
                measures=tuple(row.measures.split()),
                note=row.note,
            )
        )
    # Overdue first, then by due date: what the committee should look at first.
    return tuple(sorted(lines, key=lambda a: (not a.overdue, a.due or dt.date.max, a.action_id)))


def _actions_by_service(dataset: Dataset) -> dict[str, list[Any]]:
    """Every service's rows of the improvement plan, in the file's order (one pass)."""
    out: dict[str, list[Any]] = {}
    for row in rows_of(dataset.actions):
        out.setdefault(row.service, []).append(row)
    return out


def _data_notes(current: pd.DataFrame) -> tuple[str, ...]:
    """Where the quarter's data is late, missing, provisional or restated, with the notes
    that came with the figures."""
    notes = []
    for row in rows_of(current):
        parts = [row.data_quality] if row.data_quality else []
        if row.note:
            parts.append(f"note: {row.note}")
        if parts:
            notes.append(f"{row.measure_id} {row.title}: {'; '.join(parts)}")
    return tuple(notes)
