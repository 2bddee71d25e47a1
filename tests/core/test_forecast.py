"""Forecast worked cases: the trend line and its prediction interval by hand, the seasonal
naive forecast, back on target, and the example council's red measures."""

from __future__ import annotations

import math

import numpy as np
import pytest

import kpitools
from kpitools.core.forecast import back_on_target, forecast, meets


def test_a_trend_and_its_80_percent_prediction_interval_by_hand() -> None:
    # x = 0..5, y = 1 3 2 4 3 5: Sxx 17.5, Sxy 11, slope 0.6286, intercept 1.4286,
    # residual sum of squares 3.0857 (s = 0.8783 on 4 degrees of freedom), t(0.90, 4) = 1.5332.
    result = forecast([1, 3, 2, 4, 3, 5], 12)
    assert result is not None
    assert result.method == "linear trend of the last 6 months"
    point, lower, upper = result.steps[0]
    assert point == pytest.approx(5.2)
    half = 1.533206 * math.sqrt(3.085714 / 4) * math.sqrt(1 + 1 / 6 + 3.5**2 / 17.5)
    assert (lower, upper) == (
        pytest.approx(5.2 - half, abs=1e-4),
        pytest.approx(5.2 + half, abs=1e-4),
    )
    assert len(result.steps) == 12  # a year of months ahead
    # The interval widens the further ahead.
    widths = [u - lo for _, lo, u in result.steps]
    assert widths == sorted(widths)


def test_the_trend_uses_the_latest_points_of_the_frequency() -> None:
    old_then_flat = [100.0] * 20 + [10.0] * 12
    monthly = forecast(old_then_flat, 12)
    assert monthly is not None and monthly.points[0] == pytest.approx(10.0)
    quarterly = forecast([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4, noun="quarter")
    assert quarterly is not None
    assert quarterly.method == "linear trend of the last 8 quarters"
    assert len(quarterly.steps) == 4
    annual = forecast([1.0, 2, 3, 4, 5, 6], 1, noun="year")
    assert annual is not None and len(annual.steps) == 2  # two years ahead
    assert annual.points == pytest.approx((7.0, 8.0))


def test_too_few_points_give_no_forecast() -> None:
    assert forecast([1.0, 2.0, 3.0], 12) is None


def test_seasonal_naive_repeats_the_same_month_a_year_before() -> None:
    year = [10.0, 12, 15, 20, 25, 30, 30, 25, 20, 15, 12, 10]
    series = [*year, *(v + 1 for v in year)]  # every month 1 higher than a year before
    result = forecast(series, 12, seasonal=True)
    assert result is not None
    assert result.method == "seasonal naive: the same month a year before"
    assert result.points == pytest.approx(tuple(v + 1 for v in year))
    # Every month differed from a year before by exactly 1: the interval is +/- 1.2816.
    point, lower, upper = result.steps[0]
    assert upper - point == pytest.approx(1.281552, abs=1e-5) == point - lower
    # Less than two years of points: the trend instead.
    short = forecast(series[:20], 12, seasonal=True)
    assert short is not None and short.method.startswith("linear trend")


@pytest.mark.parametrize(
    ("values", "target", "polarity", "expected"),
    [
        ([20.0, 19, 18, 17, 16, 15.5], 15.0, "down", 1),  # 14.7 next month
        ([20.0, 19.5, 19, 18.5, 18, 17.5], 15.0, "down", 5),  # 15.0 in five months
        ([10.0, 11, 12, 13, 14, 15], 20.0, "up", 5),
        ([15.0, 14, 13, 12, 11, 10], 20.0, "up", None),  # moving away
        ([10.0, 11, 12, 13, 14, 15], 20.0, "neutral", None),
        ([10.0, 11, 12, 13, 14, 15], math.nan, "up", None),
    ],
)
def test_back_on_target(values, target, polarity, expected) -> None:
    result = forecast(values, 12)
    assert result is not None
    assert back_on_target(result, target, polarity) == expected


def test_meets() -> None:
    assert meets(15.0, 15.0, "down") and meets(15.0, 15.0, "up")
    assert not meets(15.1, 15.0, "down") and not meets(14.9, 15.0, "up")
    assert not meets(1.0, 1.0, "neutral")


def test_the_example_councils_red_measures(example) -> None:
    report = kpitools.build_cpr(example, "Children's Services", "2024/25 Q1")
    lines = {x.measure_id: x for x in report.all_lines}
    vacancies = lines["CHS_KPI_06"]
    assert vacancies.rag == "red"
    assert vacancies.back_on_track == "On current trend back on target by November 2024"
    assert vacancies.forecast[0][0] == "2024-07"
    assert vacancies.forecast_method == "linear trend of the last 12 months"
    # Slide 3's line and the chart's caption keep the month's capital.
    from kpitools.report.charts import xmr_chart
    from kpitools.report.deck import _why

    assert "Forecast: on current trend back on target by November 2024" in _why(vacancies)
    chart = xmr_chart(report, vacancies)
    assert chart is not None and chart.caption.endswith("back on target by November 2024.")
    assessments = lines["CHS_KPI_01"]
    assert assessments.back_on_track == (
        "Not back on target on current trend (forecast to June 2025)"
    )
    # Only a red measure says when it is back on target.
    assert all(not x.back_on_track for x in report.all_lines if x.rag != "red")
    assert all(x.forecast for x in report.all_lines if len(x.xmr) >= 4)


def test_the_quantiles_looked_up_are_scipys_to_the_bit() -> None:
    """The t and normal quantiles a forecast looks up are scipy.special's, for every fit
    (4 to 12 points: 2 to 10 degrees of freedom); another number of degrees asks scipy."""
    from scipy.special import ndtri, stdtrit

    from kpitools.core import forecast as module

    fits = range(module.MIN_POINTS, max(module.TREND_POINTS.values()) + 1)
    assert set(module.T_QUANTILES) == {n - 2 for n in fits}
    for dof, t in module.T_QUANTILES.items():
        assert t == float(stdtrit(dof, 0.5 + module.COVERAGE / 2))
    assert float(ndtri(0.5 + module.COVERAGE / 2)) == module.Z_QUANTILE
    assert module._t_quantile(30) == float(stdtrit(30, 0.9))


def test_the_line_is_numpys_polyfit_to_the_bit():
    """The straight line a trend forecast fits is numpy.polyfit's, slope and intercept to the
    bit, for every length and for values small, large, whole and negative; the system kept
    for a length is not changed by a fit."""
    from kpitools.core import forecast as module

    rng = np.random.default_rng(7)
    for n in range(module.MIN_POINTS, 40):
        for scale in (1e-6, 1.0, 1e6):
            for whole in (False, True):
                y = rng.normal(50, 30, n) * scale
                y = np.round(y) if whole else y
                expected = np.polyfit(np.arange(n, dtype=float), y, 1)
                assert tuple(module._line_fit(y)) == (expected[0], expected[1])
    lhs, scale, _ = module._line_system(12)
    assert not lhs.flags.writeable and not scale.flags.writeable
    assert module.forecast([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0], 12).steps[0][0] == float(
        np.polyval(np.polyfit(np.arange(8.0), [3.0, 1, 4, 1, 5, 9, 2, 6], 1), 8.0)
    )


def test_back_on_target_is_the_first_step_that_meets_the_target():
    """back_on_target gives the first step ahead whose point meets the target as meets()
    judges it (a fitted line's rounding included), for either direction; none for a
    neutral measure or no target."""
    from kpitools.core.forecast import Forecast

    rng = np.random.default_rng(3)
    for _ in range(500):
        points = rng.normal(50, 20, 12).round(rng.integers(0, 3))
        result = Forecast(method="", steps=tuple((p, p - 1, p + 1) for p in points.tolist()))
        target = float(rng.choice(points)) + float(rng.choice([0.0, 1e-10, -1e-10, 5.0]))
        for polarity in ("up", "down"):
            expected = next((i for i, p in enumerate(result.points, start=1)
                             if meets(p, target, polarity)), None)  # fmt: skip
            assert back_on_target(result, target, polarity) == expected
    assert back_on_target(result, target, "neutral") is None
    assert back_on_target(result, math.nan, "up") is None
