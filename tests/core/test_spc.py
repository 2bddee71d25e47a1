"""Worked cases for the XmR chart: limits, each special-cause rule built to fire and not to
fire, polarity, conflicts, recalculation, baselines and assurance."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from kpitools.core.spc import (
    Assurance,
    Rule,
    Variation,
    as_at_each,
    as_at_each_alike,
    assurance,
    xmr,
    xmr_alike,
)

IMP, C, N, CC = Variation.IMPROVEMENT, Variation.CONCERN, Variation.NEITHER, Variation.COMMON_CAUSE


def steady(n: int) -> list[float]:
    """10, 11, 10, 11, ...: no shift (it crosses the mean every point), no trend."""
    return [10.0 + (i % 2) for i in range(n)]


def wide(n: int) -> list[float]:
    """8, 14, 8, 14, ...: a wider steady process (mean 11, moving range 6)."""
    return [8.0 + 6 * (i % 2) for i in range(n)]


def test_limits_are_the_mean_plus_minus_2_66_mean_moving_ranges() -> None:
    values = [12.0, 15, 11, 14, 13, 10, 16, 12, 13, 14, 11, 15, 12]
    chart = xmr(values, "up")
    mean = sum(values) / 13  # 12.923...
    mr = sum(abs(b - a) for a, b in itertools.pairwise(values)) / 12  # 3.0
    assert chart.mean[0] == pytest.approx(mean)
    assert chart.lower[-1] == pytest.approx(mean - 2.66 * mr)
    assert chart.upper[-1] == pytest.approx(mean + 2.66 * mr)
    assert chart.upper_2s[0] == pytest.approx(mean + 2.66 * mr * 2 / 3)
    # By hand: the points add up to 168 (mean 12.923), the moving ranges to 36 (mean 3).
    assert chart.lower[0] == pytest.approx(12.923 - 7.98, abs=0.001)
    assert chart.upper[0] == pytest.approx(12.923 + 7.98, abs=0.001)
    assert set(chart.variation) == {CC}


def test_no_limits_below_13_points_but_shift_and_trend_still_read() -> None:
    chart = xmr(steady(12), "up")
    assert np.isnan(chart.lower).all() and np.isnan(chart.upper).all()
    assert chart.mean[0] == pytest.approx(10.5)
    assert chart.assurance(5.0, "up") is None
    # A far point is not "beyond a limit" without limits ...
    far = xmr([*steady(11), 40.0], "up")
    assert far.variation[-1] is CC
    # ... but a run of six above the mean is a shift.
    run = xmr([1.0, 2, 1, 2, 1, 2, 9, 9, 9, 9, 9, 9], "up")
    assert run.variation[-6:] == (IMP,) * 6
    assert run.rules[-1] == (Rule.SHIFT,)


@pytest.mark.parametrize(
    ("polarity", "expected"),
    [("up", IMP), ("down", C), ("neutral", N)],
)
def test_a_point_beyond_the_upper_limit_by_polarity(polarity: str, expected: Variation) -> None:
    # 8/14 alternating, then 40: mean 12.93, mean moving range 7.43, upper limit 32.7.
    chart = xmr([*wide(14), 40.0], polarity)
    assert chart.variation[-1] is expected
    assert chart.side[-1] == "high"
    assert chart.rules[-1] == (Rule.BEYOND_LIMIT,)
    assert chart.variation[:-1] == (CC,) * 14  # the outlier widens the limits: no screening


def test_a_point_below_the_lower_limit_is_concern_where_up_is_good() -> None:
    chart = xmr([*wide(14), -18.0], "up")  # lower limit -10.7
    assert chart.variation[-1] is C and chart.side[-1] == "low"
    assert xmr([*wide(14), -18.0], "down").variation[-1] is IMP


def test_a_point_exactly_on_a_limit_is_not_beyond_it() -> None:
    fixed = xmr(steady(14), "up").upper[0]  # 13.16, held by the baseline
    chart = xmr([*steady(14), fixed], "up", baseline=13)
    assert Rule.BEYOND_LIMIT not in chart.rules[-1]
    chart = xmr([*steady(14), fixed + 0.01], "up", baseline=13)
    assert Rule.BEYOND_LIMIT in chart.rules[-1]


@pytest.mark.parametrize(
    ("run", "run_length", "fires"),
    [(6, 6, True), (5, 6, False), (7, 7, True), (6, 7, False), (9, 6, True)],
)
def test_shift_of_points_on_one_side_of_the_mean(run: int, run_length: int, fires: bool) -> None:
    # Alternating points ending below the mean, then `run` points just above it.
    values = [*steady(15), *[11.0] * run]
    chart = xmr(values, "up", run_length=run_length)
    flagged = [Rule.SHIFT in r for r in chart.rules]
    assert flagged[-run:] == [fires] * run
    # Points 11 of the alternating stretch are above the mean only one at a time.
    assert not any(flagged[:15])


def test_a_point_on_the_mean_ends_a_shift() -> None:
    # The mean of this series is 231 / 21 = 11: the 11 splits ten points above it in two.
    values = [*[12.0] * 5, 11.0, *[12.0] * 5, *[10.0] * 10]
    chart = xmr(values, "up")
    assert chart.mean[0] == pytest.approx(11.0)
    assert [Rule.SHIFT in r for r in chart.rules[:11]] == [False] * 11
    assert all(Rule.SHIFT in r for r in chart.rules[11:])


@pytest.mark.parametrize(
    ("rising", "run_length", "fires"),
    [(6, 6, True), (5, 6, False), (7, 7, True), (6, 7, False)],
)
def test_trend_of_points_each_higher_than_the_one_before(
    rising: int, run_length: int, fires: bool
) -> None:
    # The rising points stay within the limits and do not sit on one side long enough
    # for a shift of the same length: they start below the mean and end above it.
    base = steady(16)
    climb = [9.6 + 0.3 * k for k in range(rising)]
    chart = xmr([*base, *climb, 10.0, 11.0], "up", run_length=run_length)
    start = len(base)
    flagged = [Rule.TREND in r for r in chart.rules]
    assert flagged[start : start + rising] == [fires] * rising
    assert not any(flagged[:start])
    if fires:
        assert chart.variation[start] is IMP and chart.side[start] == "high"


def test_a_falling_trend_is_concern_where_up_is_good_and_an_equal_point_ends_it() -> None:
    fall = [11.4, 11.1, 10.8, 10.5, 10.2, 9.9]
    chart = xmr([*steady(16), *fall, 10.0, 11.0], "up")
    assert [Rule.TREND in r for r in chart.rules[16:22]] == [True] * 6
    assert chart.variation[16] is C and chart.side[16] == "low"
    flat = [11.4, 11.1, 10.8, 10.8, 10.5, 10.2, 9.9]
    chart = xmr([*steady(16), *flat, 10.0, 11.0], "up")
    assert not any(Rule.TREND in r for r in chart.rules)


def test_two_of_three_beyond_two_sigma_on_the_same_side() -> None:
    base = steady(20)  # the baseline: mean 10.5, two sigma at 12.27, upper limit at 13.16
    chart = xmr([*base, 12.7, 10.4, 12.8, 10.0, 11.0], "up", baseline=19)
    upper_2s, upper = chart.upper_2s[0], chart.upper[0]
    assert upper_2s < 12.7 < upper and upper_2s < 12.8 < upper
    rules = chart.rules[20:23]
    assert rules == ((Rule.TWO_OF_THREE,), (), (Rule.TWO_OF_THREE,))
    assert chart.variation[20:23] == (IMP, CC, IMP)


def test_two_of_three_needs_two_points_near_the_same_limit() -> None:
    base = steady(20)
    # One point near the upper limit, one near the lower: not the rule.
    chart = xmr([*base, 12.7, 10.4, 8.3, 10.0, 11.0], "up", baseline=19)
    assert not any(Rule.TWO_OF_THREE in r for r in chart.rules)
    # Two near the limit but four points apart: not the rule either.
    chart = xmr([*base, 12.7, 10.4, 10.6, 12.7, 10.0, 11.0], "up", baseline=19)
    assert not any(Rule.TWO_OF_THREE in r for r in chart.rules)


def test_a_point_beyond_three_sigma_does_not_count_for_two_of_three() -> None:
    base = steady(24)
    chart = xmr([*base, 12.7, 16.0, 10.0, 11.0], "up", baseline=23)
    assert chart.upper[0] < 16.0
    assert chart.rules[24] == ()  # 12.7 has only itself near the limit
    assert chart.rules[25] == (Rule.BEYOND_LIMIT,)


def test_improvement_wins_where_rules_on_both_sides_fire() -> None:
    # Six points below the mean (a shift down: concern where up is good) that also rise
    # each time (a trend up: improvement).
    values = [*[12.0, 13.0] * 8, 8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 13.0, 12.0]
    chart = xmr(values, "up")
    run = slice(16, 22)
    assert all(Rule.TREND in r for r in chart.rules[run])
    assert chart.variation[run] == (IMP,) * 6
    assert chart.side[16] == "high"
    # Where down is good the same points are improvement by the shift.
    down = xmr(values, "down")
    assert down.variation[run] == (IMP,) * 6
    assert Rule.SHIFT in down.rules[16] and Rule.TREND not in down.rules[16]


def test_recalculated_limits_start_afresh_and_the_rules_do_not_look_across() -> None:
    before = steady(14)  # 10/11
    after = [20.0 + 2 * (i % 2) for i in range(14)]  # 20/22
    chart = xmr([*before, *after], "up", recalculate=[14])
    assert chart.mean[0] == pytest.approx(10.5)
    assert chart.mean[-1] == pytest.approx(21.0)
    # The moving range across the change (11 -> 20) is not used: the new spread is 2.
    assert chart.upper[-1] == pytest.approx(21.0 + 2.66 * 2)
    assert set(chart.variation) == {CC}
    # Without the recalculation the step is a shift up and points beyond the limits.
    whole = xmr([*before, *after], "up")
    assert whole.variation[-1] is IMP
    assert Rule.SHIFT in whole.rules[-1]


def test_a_recalculated_stretch_with_fewer_than_13_points_has_no_limits() -> None:
    chart = xmr([*steady(14), *steady(6)], "up", recalculate=[14])
    assert not math.isnan(chart.upper[0])
    assert math.isnan(chart.upper[-1])
    assert chart.mean[-1] == pytest.approx(10.5)


def test_a_baseline_fixes_the_limits_from_its_points() -> None:
    values = [*steady(14), *[13.0, 14.0] * 5]
    chart = xmr(values, "up", baseline=13)
    assert chart.mean[-1] == pytest.approx(10.5)
    assert chart.upper[-1] == pytest.approx(10.5 + 2.66)
    assert chart.variation[-1] is IMP
    assert Rule.BEYOND_LIMIT in chart.rules[-1] and Rule.SHIFT in chart.rules[-1]
    # Without the baseline the later points move the mean and the limits with them.
    free = xmr(values, "up")
    assert free.mean[-1] > 11
    # A baseline of fewer than 13 points gives no limits.
    assert math.isnan(xmr(values, "up", baseline=11).upper[-1])


@pytest.mark.parametrize(
    ("target", "polarity", "expected"),
    [
        (5.0, "up", Assurance.MET),
        (20.0, "up", Assurance.MISSED),
        (11.0, "up", Assurance.HIT_AND_MISS),
        (5.0, "down", Assurance.MISSED),
        (20.0, "down", Assurance.MET),
        (11.0, "down", Assurance.HIT_AND_MISS),
        (11.0, "neutral", None),
        (math.nan, "up", None),
    ],
)
def test_assurance_from_where_the_target_sits(
    target: float, polarity: str, expected: Assurance | None
) -> None:
    assert assurance(target, 8.0, 13.0, polarity) is expected


def test_assurance_uses_the_latest_limits() -> None:
    before = steady(14)
    after = [20.0 + 2 * (i % 2) for i in range(14)]
    chart = xmr([*before, *after], "up", recalculate=[14])
    assert chart.assurance(15.0, "up") is Assurance.MET  # below 21 - 5.32
    assert xmr(before, "up").assurance(15.0, "up") is Assurance.MISSED


def test_large_and_small_numbers_keep_their_signals() -> None:
    big = xmr([1e12 + 100 * k for k in range(8)], "up")
    assert big.rules[-1] == (Rule.TREND,)  # eight rising points, each 100 apart
    small = xmr([1e-10 * k for k in range(8)], "up")
    assert Rule.TREND in small.rules[-1]


def test_a_neutral_point_with_signals_on_both_sides_takes_its_side_of_the_mean() -> None:
    # A rising trend below the mean (high) and a shift below it (low): neither beyond a
    # limit, one rule each; the points lie below the mean.
    values = [*[12.0, 13.0] * 8, 8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 13.0, 12.0]
    chart = xmr(values, "neutral")
    assert chart.variation[17] is N
    assert chart.side[17] == "low"


def test_bad_series_are_refused() -> None:
    with pytest.raises(ValueError, match="missing periods"):
        xmr([1.0, math.nan, 2.0], "up")
    with pytest.raises(ValueError, match="missing periods"):
        xmr([1.0, math.inf, 2.0], "up")
    with pytest.raises(ValueError, match="at least 2"):
        xmr([1.0, 2.0], "up", run_length=1)
    assert xmr([], "up").latest is None


def _series(seed: int) -> tuple[np.ndarray, str, int, list[int], int | None]:
    """A varied series: noise, small counts full of ties, drift, a constant, a step."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 45))
    shapes = [
        rng.normal(50, 5, n).round(1),
        rng.integers(0, 4, n).astype(float),
        np.cumsum(rng.normal(0.5, 1, n)).round(2),
        np.full(n, 7.3),
        np.concatenate([rng.normal(0, 1, n // 2), rng.normal(4, 1, n - n // 2)]).round(1) * 1e6,
    ]
    values = shapes[seed % len(shapes)]
    polarity = ("up", "down", "neutral")[seed % 3]
    run_length = (6, 7, 2, 3)[seed % 4]
    recalculate = sorted({int(i) for i in rng.integers(1, max(n, 2), seed % 3)})
    baseline = int(rng.integers(0, n)) if n and seed % 4 == 1 else None
    return values, polarity, run_length, recalculate, baseline


@pytest.mark.parametrize("seed", range(0, 300, 3))
def test_each_points_reading_is_the_chart_stopped_there(seed: int) -> None:
    values, polarity, run_length, recalculate, baseline = _series(seed)
    latest = as_at_each(values, polarity, run_length=run_length, recalculate=recalculate,
                        baseline=baseline)  # fmt: skip
    for k in range(1, len(values) + 1):
        chart = xmr(
            values[:k],
            polarity,
            run_length=run_length,
            recalculate=[i for i in recalculate if i < k],
            baseline=baseline if baseline is not None and baseline < k else None,
        )
        at = k - 1
        assert (latest.variation[at], latest.side[at], latest.rules[at]) == (
            chart.variation[-1], chart.side[-1], chart.rules[-1]
        ), k  # fmt: skip
        # The same additions: equal to the bit, not merely close.
        for mine, drawn in ((latest.mean, chart.mean), (latest.lower, chart.lower),
                            (latest.upper, chart.upper)):  # fmt: skip
            assert np.array_equal(mine[at : at + 1], drawn[-1:], equal_nan=True), k
        assert latest.assurance(at, 50.0, polarity) == chart.assurance(50.0, polarity)


def test_every_rule_is_read_as_at_each_point() -> None:
    # Limits held from a steady baseline (mean 10.5, two sigma 12.27, limit 13.16): two of
    # three near the upper limit, one beyond it, a shift below the mean, a rising trend.
    values = [*steady(14), 12.9, 10.6, 12.9, 30.0, *[10.2] * 6, 10.3, 10.4, 10.5, 10.6, 10.7]
    latest = as_at_each(values, "down", baseline=13)
    readings = [(v, side, rules) for v, side, rules in
                zip(latest.variation, latest.side, latest.rules, strict=True)][14:]  # fmt: skip
    assert readings == [
        (CC, "", ()),  # as at the first point near the limit: one of three, not yet
        (CC, "", ()),
        (C, "high", (Rule.TWO_OF_THREE,)),
        (C, "high", (Rule.BEYOND_LIMIT,)),
        *[(CC, "", ())] * 5,
        (IMP, "low", (Rule.SHIFT,)), (IMP, "low", (Rule.SHIFT,)), (IMP, "low", (Rule.SHIFT,)),
        (CC, "", ()),  # on the mean: the run is over
        (CC, "", ()),
        (C, "high", (Rule.TREND,)),  # six points, each higher than the one before
    ]  # fmt: skip
    assert xmr(values, "down", baseline=13).rules[14] == (Rule.TWO_OF_THREE,)  # seen later


def _alike(seed: int, shortest: int) -> tuple[np.ndarray, str, int]:
    """40 series of one random length (at least ``shortest``), with a polarity and a run
    length picked by the seed."""
    n = int(np.random.default_rng(seed).integers(shortest, 40))
    rows = [_series(seed * 50 + k)[0] for k in range(40)]
    rows = [np.resize(r, n) if len(r) else np.zeros(n) for r in rows]
    return np.array(rows).reshape(40, n), ("up", "down", "neutral")[seed % 3], (6, 7, 2)[seed % 3]


@pytest.mark.parametrize("seed", range(12))
def test_series_read_together_read_as_each_alone(seed: int) -> None:
    rows, polarity, run_length = _alike(seed, shortest=1)
    together = as_at_each_alike(rows, polarity, run_length=run_length)
    for row, read in zip(rows, together, strict=True):
        alone = as_at_each(row, polarity, run_length=run_length)
        assert (read.variation, read.side, read.rules) == (
            alone.variation, alone.side, alone.rules
        )  # fmt: skip
        for mine, theirs in ((read.mean, alone.mean), (read.lower, alone.lower),
                             (read.upper, alone.upper)):  # fmt: skip
            assert np.array_equal(mine, theirs, equal_nan=True)
    assert any(v is not CC for read in together for v in read.variation)


@pytest.mark.parametrize("seed", range(12))
def test_charts_drawn_together_are_the_charts_drawn_alone(seed: int) -> None:
    """xmr_alike draws a report's charts of one length and polarity at once: each is the
    chart xmr draws of its series alone, to the bit."""
    rows, polarity, run_length = _alike(seed, shortest=0)
    n = rows.shape[1]
    together = xmr_alike(rows, polarity, run_length=run_length)
    for row, drawn in zip(rows, together, strict=True):
        alone = xmr(row, polarity, run_length=run_length)
        assert (drawn.variation, drawn.side, drawn.rules) == (
            alone.variation, alone.side, alone.rules
        )  # fmt: skip
        for name in ("values", "mean", "lower", "upper", "lower_2s", "upper_2s"):
            assert np.array_equal(getattr(drawn, name), getattr(alone, name), equal_nan=True)
    if n > 12:
        assert any(v is not CC for drawn in together for v in drawn.variation)


def test_runs_are_found_as_counted_point_by_point() -> None:
    """The points inside runs of at least k true flags, for one series and for rows."""
    from kpitools.core.spc import _in_runs

    def counted(flags: list[bool], k: int) -> list[bool]:
        inside = [False] * len(flags)
        i = 0
        while i < len(flags):
            j = i
            while j < len(flags) and flags[j]:
                j += 1
            if j - i >= max(k, 1):
                inside[i:j] = [True] * (j - i)
            i = max(j, i + 1)
        return inside

    rng = np.random.default_rng(7)
    for _ in range(300):
        rows = rng.random((3, int(rng.integers(0, 30)))) < rng.uniform(0.2, 0.9)
        for k in (0, 1, 2, 5, 6, 7):
            together = _in_runs(rows, k)
            for row, found in zip(rows, together, strict=True):
                assert found.tolist() == counted(row.tolist(), k) == _in_runs(row, k).tolist()


def test_assurance_codes_are_assurance_point_by_point():
    """The codes a scorecard picks its words by say what :func:`assurance` says of each
    point, for each polarity, with missing limits and targets among them."""
    from kpitools.core.spc import ASSURANCE_VALUES, assurance, assurance_codes

    rng = np.random.default_rng(3)
    targets, lower, upper = (rng.uniform(0, 10, 400) for _ in range(3))
    lower, upper = np.minimum(lower, upper), np.maximum(lower, upper)
    for array in (targets, lower, upper):
        array[rng.integers(0, 400, 30)] = np.nan
    for polarity in ("up", "down", "neutral"):
        words = ASSURANCE_VALUES[assurance_codes(targets, lower, upper, polarity)]
        expected = [assurance(t, lo, hi, polarity) for t, lo, hi in zip(targets, lower, upper,
                                                                         strict=True)]  # fmt: skip
        assert words.tolist() == [a.value if a else "" for a in expected]
    assert {"consistently_met", "consistently_missed", "hit_and_miss", ""} <= set(
        ASSURANCE_VALUES[assurance_codes(targets, lower, upper, "up")].tolist()
    )
