"""Forecasts: where a measure is heading on its current trend, said plainly as a forecast.

Two transparent methods, on a measure's own points (its months, quarters or years):

``trend``
    a straight line fitted (least squares) to the latest :data:`TREND_POINTS` points of the
    measure's frequency (12 months, 8 quarters, 5 years; at least :data:`MIN_POINTS`),
    carried forward; the interval is the line's 80% prediction interval (Student's t).
``seasonal naive``
    for a ``seasonal`` measure: each future period is the same period a year before (the
    same month last year); the interval comes from how much each period differed from the
    same period a year before (80%, widening by whole years ahead). It needs two years of
    points; with less, the trend is used.

For a measure that misses its target, :func:`back_on_target` says when the forecast first
meets the target in force now: "on current trend back on target by November 2024", or "not
back on target on current trend" within the horizon (a year ahead).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from kpitools.core.model import Polarity

#: Points the trend is fitted to, by how many points make a year.
TREND_POINTS = {12: 12, 4: 8, 1: 5}
#: Fewest points a forecast is made from.
MIN_POINTS = 4
#: How far ahead: a year.
HORIZON_YEARS = 1
#: The interval's coverage.
COVERAGE = 0.80
#: Student's t quantile for the interval (``scipy.special.stdtrit(dof, 0.5 + COVERAGE / 2)``,
#: what scipy.stats' t calls) by degrees of freedom, for every fit a forecast makes (4 to
#: 12 points): a test holds each to scipy's to the bit. Looking them up spares loading
#: scipy.special (a tenth of a second, and its memory) in every process that forecasts.
T_QUANTILES = {
    2: 1.8856180831641272, 3: 1.637744353696209, 4: 1.533206274058944,
    5: 1.4758840488244815, 6: 1.4397557472651483, 7: 1.4149239276505086,
    8: 1.3968153097438654, 9: 1.3830287383966329, 10: 1.372183641110336,
}  # fmt: skip
#: The normal quantile for the interval (``scipy.special.ndtri(0.5 + COVERAGE / 2)``).
Z_QUANTILE = 1.2815515655446004


@dataclass(frozen=True)
class Forecast:
    """A measure's forecast: the method in words, and each future step's point and interval."""

    method: str  # "linear trend of the last 12 months"
    steps: tuple[tuple[float, float, float], ...]  # (forecast, lower, upper) per period ahead

    @property
    def points(self) -> tuple[float, ...]:
        return tuple(step[0] for step in self.steps)


def forecast(
    values: Sequence[float] | np.ndarray,
    per_year: int,
    *,
    seasonal: bool = False,
    noun: str = "month",
) -> Forecast | None:
    """The forecast of a series with ``per_year`` points a year (12, 4 or 1), a year ahead
    (two periods for an annual measure); None with fewer than :data:`MIN_POINTS` points."""
    y = np.asarray(values, dtype=float)
    horizon = max(per_year * HORIZON_YEARS, 2)
    if seasonal and per_year > 1 and len(y) >= 2 * per_year:
        return _seasonal_naive(y, per_year, horizon, noun)
    keep = TREND_POINTS.get(per_year, 12)
    recent = y[-keep:]
    if len(recent) < MIN_POINTS:
        return None
    n = len(recent)
    x, centre, spread = _line_x(n)
    slope, intercept = _line_fit(recent)
    fitted = intercept + slope * x
    dof = n - 2
    residual = float(np.sqrt(((recent - fitted) ** 2).sum() / dof))
    t = T_QUANTILES.get(dof) or _t_quantile(dof)
    steps = []
    for h in range(1, horizon + 1):
        x0 = n - 1 + h
        point = float(intercept + slope * x0)
        half = t * residual * math.sqrt(1 + 1 / n + (x0 - centre) ** 2 / spread)
        steps.append((point, point - half, point + half))
    plural = "s" if n != 1 else ""
    return Forecast(method=f"linear trend of the last {n} {noun}{plural}", steps=tuple(steps))


@cache
def _line_x(n: int) -> tuple[np.ndarray, np.floating[Any], float]:
    """The points' places 0..n-1, their mean and their spread about it (read-only)."""
    x = np.arange(n, dtype=float)
    x.flags.writeable = False
    centre = x.mean()
    return x, centre, float(((x - centre) ** 2).sum())


@cache
def _line_system(n: int) -> tuple[np.ndarray, np.ndarray, float]:
    """``numpy.polyfit``'s scaled system for a straight line through points 0..n-1: its
    matrix, the columns' scale and the cut-off for small singular values (read-only)."""
    lhs = np.vander(_line_x(n)[0] + 0.0, 2)
    scale = np.sqrt((lhs * lhs).sum(axis=0))
    lhs /= scale
    lhs.flags.writeable = False
    scale.flags.writeable = False
    return lhs, scale, n * float(np.finfo(float).eps)


def _line_fit(y: np.ndarray) -> tuple[float, float]:
    """``numpy.polyfit(np.arange(len(y)), y, 1)`` (slope, intercept), to the bit (tested):
    the same least squares on the same scaled system, which depends on the length alone and
    is made once for each."""
    lhs, scale, rcond = _line_system(len(y))
    solved = np.linalg.lstsq(lhs, y + 0.0, rcond)[0]
    slope, intercept = (solved.T / scale).T
    return slope, intercept


def _t_quantile(dof: int) -> float:
    """scipy.special's quantile function: what scipy.stats' t calls, to the bit, without
    loading scipy.stats (about 50 MB); here: importing kpitools must not pay for it."""
    from scipy.special import stdtrit

    return float(stdtrit(dof, 0.5 + COVERAGE / 2))


def _seasonal_naive(y: np.ndarray, m: int, horizon: int, noun: str) -> Forecast:
    differences = y[m:] - y[:-m]
    sigma = float(np.sqrt((differences**2).mean()))
    z = Z_QUANTILE
    steps = []
    for h in range(1, horizon + 1):
        years_back = (h - 1) // m + 1  # the same period in the last year observed
        point = float(y[len(y) - 1 + h - m * years_back])
        half = z * sigma * math.sqrt(years_back)
        steps.append((point, point - half, point + half))
    return Forecast(method=f"seasonal naive: the same {noun} a year before", steps=tuple(steps))


def meets(value: float, target: float, polarity: Polarity | str) -> bool:
    """Whether a value meets a target, for a measure of this polarity."""
    polarity = Polarity(polarity)
    return polarity is not Polarity.NEUTRAL and _meets(value, target, polarity is Polarity.UP)


def _meets(value: float, target: float, up: bool) -> bool:
    """:func:`meets` for a measure whose polarity is up (``up``) or down."""
    close = 1e-9 * max(abs(target), 1.0)  # a fitted line's rounding is no miss
    return value >= target - close if up else value <= target + close


def back_on_target(result: Forecast, target: float, polarity: Polarity | str) -> int | None:
    """How many periods ahead the forecast first meets the target (None: not within the
    horizon, or no target or direction)."""
    polarity = Polarity(polarity)
    if math.isnan(target) or polarity is Polarity.NEUTRAL:
        return None
    up = polarity is Polarity.UP
    for ahead, (point, _, _) in enumerate(result.steps, start=1):
        if _meets(point, target, up):
            return ahead
    return None
