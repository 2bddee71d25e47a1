"""Statistical process control: XmR charts read the "Making Data Count" way.

An XmR (individuals and moving range) chart asks of a measure's series whether a movement is
a real change or noise. Its lines are the mean of the points and the process limits, the
mean +/- 2.66 x the mean moving range (about three sigma); the two-sigma lines sit at
+/- 2/3 of that. Four rules find special causes:

``beyond_limit``
    a point above the upper or below the lower process limit;
``shift``
    a run of ``run_length`` or more points on one side of the mean (a point on the mean
    ends the run);
``trend``
    a run of ``run_length`` or more points each higher (or each lower) than the one before
    (an equal point ends the run);
``two_of_three``
    two or three of three consecutive points beyond two sigma on the same side; a point
    beyond three sigma does not count for this rule (it is ``beyond_limit``).

Every point a rule covers is flagged. A point is then classed by the measure's polarity:
``improvement`` or ``concern`` (``neither`` for a neutral measure), improvement winning where
rules on both sides fire; ``common_cause`` where no rule fires. The latest point's class is the
measure's *variation*; where its target sits against the latest limits is its *assurance*.

As NHS England's Making Data Count Excel tool does it: the moving ranges are not screened
(a large one widens the limits), the limits of a series are worked out from its own points,
or, with a baseline, from its points up to the baseline and fixed after it; a recalculation
starts a new series of limits (its first moving range, across the change, is not used) and
the rules do not look across it. Limits need :data:`MIN_POINTS` points; below that a chart
has its mean and the shift and trend rules only.

This module works on plain numbers; :mod:`kpitools.core.variation` reads a dataset's series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from kpitools.core.model import Polarity

#: Process limits are the mean +/- this many mean moving ranges (3 / 1.128).
LIMIT_FACTOR = 2.66
#: The two-sigma lines: two thirds of the way to the limits.
TWO_SIGMA_FACTOR = LIMIT_FACTOR * 2 / 3
#: Fewest points the limits are worked out from.
MIN_POINTS = 13
#: Points in a shift or a trend, as Making Data Count's guidance counts them.
DEFAULT_RUN_LENGTH = 6
#: Two numbers this close (in units of the largest's precision, per point) are equal.
_CLOSE = 64 * float(np.finfo(float).eps)


class Variation(StrEnum):
    """What a point's variation says, polarity-aware."""

    IMPROVEMENT = "improvement"
    CONCERN = "concern"
    NEITHER = "neither"  # special cause on a measure whose direction is not judged
    COMMON_CAUSE = "common_cause"


class Assurance(StrEnum):
    """Whether the process, as its limits stand, can be relied on to meet the target."""

    MET = "consistently_met"  # the whole range between the limits meets the target
    MISSED = "consistently_missed"  # the whole range misses it
    HIT_AND_MISS = "hit_and_miss"  # the target lies between the limits


class Rule(StrEnum):
    BEYOND_LIMIT = "beyond_limit"
    SHIFT = "shift"
    TREND = "trend"
    TWO_OF_THREE = "two_of_three"


#: Words a reader sees for each class and rule.
VARIATION_WORDS = {
    Variation.IMPROVEMENT: "Special cause improvement",
    Variation.CONCERN: "Special cause concern",
    Variation.NEITHER: "Special cause variation, direction not judged",
    Variation.COMMON_CAUSE: "Common cause",
}
ASSURANCE_WORDS = {
    Assurance.MET: "Target consistently met",
    Assurance.MISSED: "Target consistently missed",
    Assurance.HIT_AND_MISS: "Target hit and miss",
}
#: Short words for a table cell or a slide.
VARIATION_SHORT = {
    Variation.IMPROVEMENT: "Improvement",
    Variation.CONCERN: "Concern",
    Variation.NEITHER: "Special cause",
    Variation.COMMON_CAUSE: "Common cause",
}
ASSURANCE_SHORT = {
    Assurance.MET: "Target met",
    Assurance.MISSED: "Target missed",
    Assurance.HIT_AND_MISS: "Hit and miss",
}
RULE_WORDS = {
    Rule.BEYOND_LIMIT: "a point beyond a process limit",
    Rule.SHIFT: "a run of points on one side of the mean",
    Rule.TREND: "a run of points each higher or lower than the one before",
    Rule.TWO_OF_THREE: "two of three points beyond two sigma",
}


@dataclass(frozen=True)
class Chart:
    """An XmR chart of one series, point by point (arrays of the series' length).

    ``lower``/``upper`` (the process limits) and the two-sigma lines are NaN where the points
    they would come from are too few. ``side`` is ``high``/``low`` for a special cause (which
    way the rules that class it point), ``""`` for common cause; ``rules`` names them.
    """

    values: np.ndarray
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    lower_2s: np.ndarray
    upper_2s: np.ndarray
    variation: tuple[Variation, ...]
    side: tuple[str, ...]
    rules: tuple[tuple[Rule, ...], ...]

    def __len__(self) -> int:
        return len(self.values)

    @property
    def latest(self) -> Variation | None:
        """The measure's variation: its latest point's class (None for an empty series)."""
        return self.variation[-1] if self.variation else None

    def assurance(self, target: float, polarity: Polarity | str) -> Assurance | None:
        """Where ``target`` sits against the latest limits (None without limits, a target
        or a direction)."""
        if not len(self):
            return None
        return assurance(target, float(self.lower[-1]), float(self.upper[-1]), polarity)


def assurance(
    target: float, lower: float, upper: float, polarity: Polarity | str
) -> Assurance | None:
    """Where ``target`` sits against process limits, for a measure of this polarity."""
    polarity = Polarity(polarity)
    if polarity is Polarity.NEUTRAL or any(np.isnan(x) for x in (target, lower, upper)):
        return None
    if target < lower:
        return Assurance.MET if polarity is Polarity.UP else Assurance.MISSED
    if target > upper:
        return Assurance.MISSED if polarity is Polarity.UP else Assurance.MET
    return Assurance.HIT_AND_MISS


#: The scorecard's word by code ('' for none), for picking many at once.
ASSURANCE_VALUES = np.array(
    [Assurance.MET.value, Assurance.MISSED.value, Assurance.HIT_AND_MISS.value, ""], dtype=object
)


def assurance_codes(
    targets: np.ndarray, lower: np.ndarray, upper: np.ndarray, polarity: Polarity | str
) -> np.ndarray:
    """:func:`assurance` of each point's target against that point's limits, as codes
    (int8): 0 met, 1 missed, 2 hit and miss, 3 none (an index of :data:`ASSURANCE_VALUES`)."""
    polarity = Polarity(polarity)
    none = np.full(np.shape(targets), 3, dtype=np.int8)
    if polarity is Polarity.NEUTRAL:
        return none
    met, missed = (0, 1) if polarity is Polarity.UP else (1, 0)
    found = np.where(targets < lower, met, np.where(targets > upper, missed, 2))
    unknown = np.isnan(targets) | np.isnan(lower) | np.isnan(upper)
    return np.where(unknown, none, found).astype(np.int8)


def xmr(
    values: Sequence[float] | np.ndarray,
    polarity: Polarity | str,
    *,
    run_length: int = DEFAULT_RUN_LENGTH,
    recalculate: Sequence[int] = (),
    baseline: int | None = None,
) -> Chart:
    """The XmR chart of a series of numbers (no gaps: leave missing periods out).

    Args:
        values: the points in time order.
        polarity: ``up``, ``down`` or ``neutral``: which way is improvement.
        run_length: points in a shift or a trend (6, or 7 as some councils count).
        recalculate: positions of points that start new limits (after a process change).
        baseline: position of the last point of a baseline: the limits of the stretch it is
            in are worked out from its points up to here and held for the points after.
    """
    y, polarity, stretches = _stretches(values, polarity, run_length, recalculate, baseline)
    n = len(y)
    lines = {k: np.full(n, np.nan) for k in ("mean", "lower", "upper", "lower_2s", "upper_2s")}
    high = np.zeros((n, len(_ORDER)), dtype=bool)
    low = np.zeros((n, len(_ORDER)), dtype=bool)
    for stretch in stretches:
        at = slice(stretch.start, stretch.stop)
        drawn = stretch.lines
        for name, line in lines.items():
            line[at] = drawn[name][-1]  # the lines as the stretch's last point has them
        high[at], low[at] = stretch.rules(run_length)
    classes = _classify(high, low, polarity, y >= lines["mean"])
    return Chart(
        values=y,
        mean=lines["mean"],
        lower=lines["lower"],
        upper=lines["upper"],
        lower_2s=lines["lower_2s"],
        upper_2s=lines["upper_2s"],
        variation=classes.variation(),
        side=classes.side(),
        rules=classes.rules(),
    )


def xmr_alike(
    values: np.ndarray, polarity: Polarity | str, *, run_length: int = DEFAULT_RUN_LENGTH
) -> list[Chart]:
    """:func:`xmr` of several series at once: a row each, all of one length and one polarity,
    none recalculated and none with a baseline (most of a report's measures). The same
    additions in the same order as one at a time: the same charts to the bit."""
    y = _rows(values, run_length)
    count, n = y.shape
    if not n:
        return [xmr([], polarity, run_length=run_length) for _ in range(count)]
    stretch = _Stretch(y, 0, n, None)
    drawn = stretch.lines
    # The lines as the last point has them, at every point.
    lines = {name: np.repeat(drawn[name][:, -1:], n, axis=1)
             for name in ("mean", "lower", "upper", "lower_2s", "upper_2s")}  # fmt: skip
    classes = _classify_rows(*stretch.rules(run_length), polarity, y >= lines["mean"])
    charts = []
    for i in range(count):
        part = classes.part(i * n, (i + 1) * n)
        charts.append(Chart(
            values=y[i], mean=lines["mean"][i], lower=lines["lower"][i],
            upper=lines["upper"][i], lower_2s=lines["lower_2s"][i],
            upper_2s=lines["upper_2s"][i], variation=part.variation(), side=part.side(),
            rules=part.rules(),
        ))  # fmt: skip
    return charts


@dataclass(frozen=True)
class Latest:
    """Each point as the chart stopped at it reads it: the chart of the first ``k + 1``
    points has, at its latest point, ``mean[k]``, ``lower[k]``, ``upper[k]``,
    ``variation[k]``, ``side[k]`` and ``rules[k]``. One pass for every period a scorecard
    reports, and the same numbers as :func:`xmr` of each prefix."""

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    classes: Classes

    @cached_property
    def variation(self) -> tuple[Variation, ...]:
        return self.classes.variation()

    @cached_property
    def side(self) -> tuple[str, ...]:
        return self.classes.side()

    @cached_property
    def rules(self) -> tuple[tuple[Rule, ...], ...]:
        return self.classes.rules()

    def assurance(self, k: int, target: float, polarity: Polarity | str) -> Assurance | None:
        """The assurance of the chart stopped at point ``k`` for this target."""
        return assurance(target, float(self.lower[k]), float(self.upper[k]), polarity)


def as_at_each(
    values: Sequence[float] | np.ndarray,
    polarity: Polarity | str,
    *,
    run_length: int = DEFAULT_RUN_LENGTH,
    recalculate: Sequence[int] = (),
    baseline: int | None = None,
) -> Latest:
    """What the chart of the points up to each point says of that point (arguments as for
    :func:`xmr`; a recalculation or the baseline counts once the chart reaches it)."""
    y, polarity, stretches = _stretches(values, polarity, run_length, recalculate, baseline)
    n = len(y)
    mean, lower, upper = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    high = np.zeros((n, len(_ORDER)), dtype=bool)
    low = np.zeros((n, len(_ORDER)), dtype=bool)
    for stretch in stretches:
        at = slice(stretch.start, stretch.stop)
        lines = stretch.lines
        mean[at], lower[at], upper[at] = lines["mean"], lines["lower"], lines["upper"]
        high[at], low[at] = stretch.latest_rules(run_length)
    classes = _classify(high, low, polarity, y >= mean)
    return Latest(mean=mean, lower=lower, upper=upper, classes=classes)


def as_at_each_alike(
    values: np.ndarray, polarity: Polarity | str, *, run_length: int = DEFAULT_RUN_LENGTH
) -> list[Latest]:
    """:func:`as_at_each` of several series at once: a row each, all of one length and one
    polarity, none recalculated and none with a baseline (most of a council's measures).
    The same additions in the same order as one at a time: the same numbers to the bit."""
    y = _rows(values, run_length)
    count, n = y.shape
    if not n:
        return [as_at_each([], polarity, run_length=run_length) for _ in range(count)]
    stretch = _Stretch(y, 0, n, None)
    lines = stretch.lines
    classes = _classify_rows(*stretch.latest_rules(run_length), polarity, y >= lines["mean"])
    mean, lower, upper = lines["mean"], lines["lower"], lines["upper"]
    for array in (mean, lower, upper):
        array.setflags(write=False)  # each series' rows are views of these: shared, not copied
    return [
        Latest(mean=mean[i], lower=lower[i], upper=upper[i],
               classes=classes.part(i * n, (i + 1) * n))
        for i in range(count)
    ]  # fmt: skip


def _rows(values: np.ndarray, run_length: int) -> np.ndarray:
    """Several series' points as floats, a row each, refused when they cannot make charts."""
    y = _checked(values, run_length)
    if y.ndim != 2:
        raise ValueError("a row per series, all of one length")
    return y


def _classify_rows(
    high: np.ndarray, low: np.ndarray, polarity: Polarity | str, at_or_above: np.ndarray
) -> Classes:
    """:func:`_classify` of several series' points (flags by series, point and rule), the
    series one after another."""
    width = len(_ORDER)
    return _classify(high.reshape(-1, width), low.reshape(-1, width), Polarity(polarity),
                     at_or_above.reshape(-1))  # fmt: skip


def _checked(values: Sequence[float] | np.ndarray, run_length: int) -> np.ndarray:
    """The points as floats, refused when they cannot make a chart."""
    if run_length < 2:
        raise ValueError("a shift or trend needs a run of at least 2 points")
    y = np.asarray(values, dtype=float)
    if not np.isfinite(y).all():
        raise ValueError("an XmR chart's points are numbers: leave missing periods out")
    return y


def _stretches(
    values: Sequence[float] | np.ndarray,
    polarity: Polarity | str,
    run_length: int,
    recalculate: Sequence[int],
    baseline: int | None,
) -> tuple[np.ndarray, Polarity, list[_Stretch]]:
    y = _checked(values, run_length)
    n = len(y)
    starts = sorted({0, *(i for i in recalculate if 0 < i < n)})
    stretches = [] if not n else [
        _Stretch(y, start, stop, baseline if baseline is not None and start <= baseline < stop
                 else None)
        for start, stop in zip(starts, [*starts[1:], n], strict=True)
    ]  # fmt: skip
    return y, Polarity(polarity), stretches


@dataclass(frozen=True)
class _Stretch:
    """Points ``start`` to ``stop`` of a series: one set of limits.

    Its sums are running sums, so the lines as at any of its points and as at its last come
    from the same additions: a chart stopped early and the whole chart agree to the bit.
    """

    y: np.ndarray
    start: int
    stop: int
    baseline: int | None

    @property
    def points(self) -> np.ndarray:
        return self.y[..., self.start : self.stop]

    @cached_property
    def lines(self) -> dict[str, np.ndarray]:
        """Each line as the chart stopped at each point of the stretch has it."""
        points = self.points  # one series, or several of the same length (a row each)
        m = points.shape[-1]
        counts = np.arange(1, m + 1, dtype=float)
        centre = np.cumsum(points, axis=-1) / counts
        spread = np.full(points.shape, np.nan)
        if m >= MIN_POINTS:
            moving = np.cumsum(np.abs(np.diff(points, axis=-1)), axis=-1)
            spread[..., MIN_POINTS - 1 :] = (
                moving[..., MIN_POINTS - 2 :] / counts[MIN_POINTS - 2 : m - 1]
            )
        if self.baseline is not None:  # held from the baseline's last point on
            held = self.baseline - self.start
            centre[..., held:] = centre[..., held : held + 1]
            spread[..., held:] = spread[..., held : held + 1]
        return {
            "mean": centre,
            "lower": centre - LIMIT_FACTOR * spread,
            "upper": centre + LIMIT_FACTOR * spread,
            "lower_2s": centre - TWO_SIGMA_FACTOR * spread,
            "upper_2s": centre + TWO_SIGMA_FACTOR * spread,
            # Rounding in the mean and the limits is no difference (a few ulps of the
            # largest number), whatever the numbers' size.
            "close": _CLOSE * counts * np.maximum.accumulate(np.abs(points), axis=-1),
        }

    def rules(self, run_length: int) -> tuple[np.ndarray, np.ndarray]:
        """Every rule at every point, on the stretch's final lines: (high, low) flags by
        point and rule (columns in :class:`Rule` order); for several series at once too
        (flags by series, point and rule)."""
        y = self.points
        last = {name: line[..., -1:] for name, line in self.lines.items()}
        scale = last["close"]
        steps = np.diff(y, axis=-1, prepend=y[..., :1])  # the first point has no step
        flags = []
        for side in (_HIGH, _LOW):
            flag = np.zeros((*y.shape, len(_ORDER)), dtype=bool)
            flag[..., _SHIFT] = _in_runs(side.past(y, last["mean"], scale), run_length)
            # A run of k steps covers k + 1 points: the one it starts from too.
            moving = side.past(steps, 0.0, scale)
            moving[..., 0] = False
            inside = _in_runs(moving, run_length - 1)
            flag[..., _TREND] = inside
            flag[..., :-1, _TREND] |= inside[..., 1:]
            if not np.isnan(last["upper"]).all():  # (a series without limits: none past)
                beyond = side.past(y, last[side.limit], scale)
                near = side.past(y, last[side.two_sigma], scale) & ~beyond
                flag[..., _BEYOND] = beyond
                flag[..., _TWO_OF_THREE] = near & _in_two_of_three(near)
            flags.append(flag)
        return flags[0], flags[1]

    def latest_rules(self, run_length: int) -> tuple[np.ndarray, np.ndarray]:
        """The rules that flag each point of the stretch on the chart stopped at it (for
        several series at once too: flags by series, point and rule)."""
        y = self.points
        m = y.shape[-1]
        lines = self.lines
        scale = lines["close"]
        steps = np.diff(y, axis=-1)
        flags = []
        for side in (_HIGH, _LOW):
            flag = np.zeros((*y.shape, len(_ORDER)), dtype=bool)
            # A shift or a trend ends at the chart's latest point: its last points (or
            # steps), against the lines as they stand then.
            if m >= run_length:
                ends = slice(run_length - 1, m)  # window w ends at point w + run_length - 1
                close = scale[..., ends, None]
                windows = sliding_window_view(y, run_length, axis=-1)
                mean = lines["mean"][..., ends, None]
                flag[..., ends, _SHIFT] = side.past(windows, mean, close).all(-1)
                rises = sliding_window_view(steps, run_length - 1, axis=-1)
                flag[..., ends, _TREND] = side.past(rises, 0.0, close).all(-1)
            flag[..., _BEYOND] = side.past(y, lines[side.limit], scale)  # NaN: no limits yet
            if m >= 3:
                ends = slice(2, m)
                close = scale[..., ends, None]
                windows = sliding_window_view(y, 3, axis=-1)
                beyond = side.past(windows, lines[side.limit][..., ends, None], close)
                two = lines[side.two_sigma][..., ends, None]
                near = side.past(windows, two, close) & ~beyond
                flag[..., ends, _TWO_OF_THREE] = near[..., -1] & (near.sum(axis=-1) >= 2)
            flags.append(flag)
        return flags[0], flags[1]


@dataclass(frozen=True)
class _Side:
    """One side of the mean: which lines bound it and what is past them."""

    limit: str
    two_sigma: str
    high: bool

    def past(self, y: np.ndarray, line: np.ndarray | float, close: np.ndarray) -> np.ndarray:
        """Points further out than ``line`` by more than ``close`` (NaN lines: none)."""
        if self.high:
            return np.asarray(y > line + close)
        return np.asarray(y < line - close)


_HIGH = _Side("upper", "upper_2s", high=True)
_LOW = _Side("lower", "lower_2s", high=False)


def _in_runs(flags: np.ndarray, length: int) -> np.ndarray:
    """Which flags are inside runs of at least ``length`` consecutive true flags (along the
    last axis: one series, or a row each)."""
    counted = np.cumsum(flags, axis=-1)
    # Each point's run so far: its count less the count at the last false flag before it.
    run = counted - np.maximum.accumulate(np.where(flags, 0, counted), axis=-1)
    long = run >= max(length, 1)  # at least ``length`` points of a run end here
    inside = long.copy()
    for back in range(1, min(length, flags.shape[-1])):  # ... and the points before them
        inside[..., :-back] |= long[..., back:]
    return inside


def _in_two_of_three(near: np.ndarray) -> np.ndarray:
    """Which points are in a window of three consecutive points with two or more near (along
    the last axis)."""
    m = near.shape[-1]
    covered = np.zeros(near.shape, dtype=bool)
    if m >= 3:
        counted = near[..., :-2].astype(np.int8) + near[..., 1:-1] + near[..., 2:] >= 2
        covered[..., : m - 2] |= counted
        covered[..., 1 : m - 1] |= counted
        covered[..., 2:] |= counted
    return covered


_ORDER = list(Rule)
_BEYOND, _SHIFT, _TREND, _TWO_OF_THREE = (_ORDER.index(r) for r in Rule)
#: The rules a set of flags (a bit per rule, in :class:`Rule` order) names.
_NAMED = [tuple(r for i, r in enumerate(_ORDER) if bits >> i & 1) for bits in range(16)]
_BITS = np.array([1 << i for i in range(len(_ORDER))])


#: Each class by its code in :class:`Classes`.
_CLASSES = (Variation.COMMON_CAUSE, Variation.IMPROVEMENT, Variation.NEITHER, Variation.CONCERN)
#: The scorecard's word (the class's value) by code, for picking many at once.
CLASS_VALUES = np.array([c.value for c in _CLASSES], dtype=object)


@dataclass(frozen=True)
class Classes:
    """Each point's class as codes (numpy arrays of one length): ``special`` 0 common cause,
    1 improvement, 2 neither, 3 concern (an index of :data:`CLASS_VALUES`); ``high`` the
    side a special cause is on; ``bits`` the rules that class it, a bit per rule."""

    special: np.ndarray
    high: np.ndarray
    bits: np.ndarray

    def part(self, start: int, stop: int) -> Classes:
        """The points from ``start`` up to ``stop`` (views, not copies)."""
        return Classes(self.special[start:stop], self.high[start:stop], self.bits[start:stop])

    def variation(self) -> tuple[Variation, ...]:
        return tuple(_CLASSES[c] for c in self.special.tolist())

    def side(self) -> tuple[str, ...]:
        return tuple(
            "" if c == 0 else ("high" if h else "low")
            for c, h in zip(self.special.tolist(), self.high.tolist(), strict=True)
        )

    def rules(self) -> tuple[tuple[Rule, ...], ...]:
        return tuple(
            _NAMED[code] if c else ()
            for c, code in zip(self.special.tolist(), self.bits.tolist(), strict=True)
        )


def _classify(
    high: np.ndarray, low: np.ndarray, polarity: Polarity, at_or_above: np.ndarray
) -> Classes:
    fired_high, fired_low = high.any(axis=1), low.any(axis=1)
    if polarity is Polarity.NEUTRAL:
        # Not judged: the side with the stronger evidence (a limit, then more rules),
        # else the side of the mean the point is on.
        evidence_high = high[:, _BEYOND].astype(int) * 8 + high.sum(axis=1)
        evidence_low = low[:, _BEYOND].astype(int) * 8 + low.sum(axis=1)
        chose_high = (evidence_high > evidence_low) | (
            (evidence_high == evidence_low) & at_or_above
        )
        special = np.where(fired_high | fired_low, 2, 0)
    else:
        # Improvement wins where rules on both sides fire.
        chose_high = fired_high if polarity is Polarity.UP else ~fired_low
        improving = chose_high if polarity is Polarity.UP else ~chose_high
        special = np.where(fired_high | fired_low, np.where(improving, 1, 3), 0)
    codes = np.where(chose_high, high @ _BITS, low @ _BITS)
    return Classes(special.astype(np.int8), chose_high, codes.astype(np.int8))
