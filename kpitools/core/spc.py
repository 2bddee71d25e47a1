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

import numpy as np

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
    if run_length < 2:
        raise ValueError("a shift or trend needs a run of at least 2 points")
    y = np.asarray(values, dtype=float)
    if not np.isfinite(y).all():
        raise ValueError("an XmR chart's points are numbers: leave missing periods out")
    n = len(y)
    polarity = Polarity(polarity)
    starts = sorted({0, *(i for i in recalculate if 0 < i < n)})
    bounds = list(zip(starts, [*starts[1:], n], strict=True)) if n else []
    lines = {k: np.full(n, np.nan) for k in ("mean", "lower", "upper", "lower_2s", "upper_2s")}
    high: list[set[Rule]] = [set() for _ in range(n)]
    low: list[set[Rule]] = [set() for _ in range(n)]
    for start, stop in bounds:
        last = stop - 1 if baseline is None or not start <= baseline < stop else baseline
        basis = y[start : last + 1]
        centre = float(basis.mean())
        lines["mean"][start:stop] = centre
        if len(basis) >= MIN_POINTS:
            spread = float(np.abs(np.diff(basis)).mean())
            lines["lower"][start:stop] = centre - LIMIT_FACTOR * spread
            lines["upper"][start:stop] = centre + LIMIT_FACTOR * spread
            lines["lower_2s"][start:stop] = centre - TWO_SIGMA_FACTOR * spread
            lines["upper_2s"][start:stop] = centre + TWO_SIGMA_FACTOR * spread
        segment = slice(start, stop)
        _rules(
            y[segment],
            {k: v[segment] for k, v in lines.items()},
            run_length,
            high[segment],
            low[segment],
        )
    where = ["high" if v >= m else "low" for v, m in zip(y, lines["mean"], strict=True)]
    variation, side, rules = _classify(high, low, polarity, where)
    return Chart(
        values=y,
        mean=lines["mean"],
        lower=lines["lower"],
        upper=lines["upper"],
        lower_2s=lines["lower_2s"],
        upper_2s=lines["upper_2s"],
        variation=variation,
        side=side,
        rules=rules,
    )


def _rules(
    y: np.ndarray,
    lines: dict[str, np.ndarray],
    run_length: int,
    high: list[set[Rule]],
    low: list[set[Rule]],
) -> None:
    """Flag, on one stretch of constant lines, every point each rule covers."""
    n = len(y)
    if not n:
        return
    # Rounding in the mean and the limits is no difference (a few ulps of the largest
    # number), whatever the numbers' size.
    scale = _CLOSE * n * float(np.abs(y).max())
    mean = lines["mean"]
    above = y > mean + scale
    below = y < mean - scale
    for flags, side in ((high, above), (low, below)):
        for i in _in_runs(side, run_length):
            flags[i].add(Rule.SHIFT)
    steps = np.diff(y)
    rising = np.concatenate([[False], steps > scale])
    falling = np.concatenate([[False], steps < -scale])
    for flags, step in ((high, rising), (low, falling)):
        # A run of k steps covers k + 1 points: the one it starts from too.
        for i in _in_runs(step, run_length - 1):
            flags[i].add(Rule.TREND)
            flags[i - 1].add(Rule.TREND)
    if np.isnan(lines["upper"]).all():
        return
    beyond_high = y > lines["upper"] + scale
    beyond_low = y < lines["lower"] - scale
    near_high = (y > lines["upper_2s"] + scale) & ~beyond_high
    near_low = (y < lines["lower_2s"] - scale) & ~beyond_low
    for flags, beyond, near in ((high, beyond_high, near_high), (low, beyond_low, near_low)):
        for point in np.flatnonzero(beyond).tolist():
            flags[point].add(Rule.BEYOND_LIMIT)
        for first in range(max(n - 2, 0)):
            window = range(first, first + 3)
            if sum(bool(near[i]) for i in window) >= 2:
                for i in window:
                    if near[i]:
                        flags[i].add(Rule.TWO_OF_THREE)


def _in_runs(flags: np.ndarray, length: int) -> list[int]:
    """Positions inside runs of at least ``length`` consecutive true flags."""
    inside: list[int] = []
    run_start = None
    for i, flag in enumerate([*flags.tolist(), False]):
        if flag and run_start is None:
            run_start = i
        elif not flag and run_start is not None:
            if i - run_start >= length:
                inside.extend(range(run_start, i))
            run_start = None
    return inside


_ORDER = list(Rule)


def _strength(rules: set[Rule]) -> tuple[bool, int]:
    return Rule.BEYOND_LIMIT in rules, len(rules)


def _classify(
    high: list[set[Rule]], low: list[set[Rule]], polarity: Polarity, above: list[str]
) -> tuple[tuple[Variation, ...], tuple[str, ...], tuple[tuple[Rule, ...], ...]]:
    variation: list[Variation] = []
    side: list[str] = []
    rules: list[tuple[Rule, ...]] = []
    good = {Polarity.UP: "high", Polarity.DOWN: "low"}.get(polarity)
    for up, down, where in zip(high, low, above, strict=True):
        fired = {"high": up, "low": down}
        if not up and not down:
            variation.append(Variation.COMMON_CAUSE)
            side.append("")
            rules.append(())
            continue
        if good is None:
            # Not judged: the side with the stronger evidence (a limit, then more rules),
            # else the side of the mean the point is on.
            chosen = max(("high", "low"), key=lambda s: (*_strength(fired[s]), s == where))
            variation.append(Variation.NEITHER)
        else:
            # Improvement wins where rules on both sides fire.
            chosen = good if fired[good] else ("low" if good == "high" else "high")
            variation.append(Variation.IMPROVEMENT if chosen == good else Variation.CONCERN)
        side.append(chosen)
        rules.append(tuple(r for r in _ORDER if r in fired[chosen]))
    return tuple(variation), tuple(side), tuple(rules)
