"""The RAG rules, direction of travel and the exception criteria.

Pure functions over DataFrames: rows in, a Series out, nothing read or written. Each rule is
vectorised so a council of thousands of measures is rated in milliseconds, and
:func:`rate_value` gives the same rule for one value, for notebooks and tests.

Conventions:
    * Tolerance is *relative* to the target (5% of 80 is 4), never percentage points.
    * Meeting a target or a service level exactly counts as meeting it; values within
      rounding (1e-9 relative) of a boundary are on it.
    * ``thresholds``: green when TSL is met, amber when only MSL is met, red below MSL;
      for smaller-is-better measures the comparisons flip.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpitools.core.model import RAG, Direction, ExceptionReason, Polarity, RagMethod, Status

EPSILON = 1e-9
ADVERSE_VARIANCE = 0.05  # "a variance of 5% or more" against target makes an exception
RUN_LENGTH = 3  # "three consecutive periods"

_STATUS_RAG = {
    Status.MITIGATED.value: RAG.BLUE.value,
    Status.NOT_AVAILABLE.value: RAG.RED.value,
    Status.PENDING.value: RAG.WHITE.value,
    Status.NOT_EXPECTED.value: RAG.GREY.value,
    Status.MISSING.value: RAG.WHITE.value,
}


def _at_least(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a >= b, counting values within rounding of b as equal."""
    slack = EPSILON * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
    return np.asarray(a >= b - slack, dtype=bool)


def _meets(value: np.ndarray, level: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Whether ``value`` meets ``level`` in the polarity's good direction."""
    return np.where(up, _at_least(value, level), _at_least(level, value))


def rate_rows(rows: pd.DataFrame) -> pd.Series:
    """RAG for each row.

    Args:
        rows: columns ``value``, ``status``, ``polarity``, ``rag_method``, ``target``,
            ``tolerance``, ``tsl``, ``msl``.

    Returns:
        The RAG word for each row, same index.
    """
    value = rows["value"].to_numpy(dtype=float)
    polarity = rows["polarity"].to_numpy(dtype=object)
    up = polarity == Polarity.UP.value
    thresholds = rows["rag_method"].to_numpy(dtype=object) == RagMethod.THRESHOLDS.value
    target = rows["target"].to_numpy(dtype=float)
    tolerance = rows["tolerance"].to_numpy(dtype=float)
    tsl = rows["tsl"].to_numpy(dtype=float)
    msl = rows["msl"].to_numpy(dtype=float)

    with np.errstate(invalid="ignore"):
        # Tolerance: amber down to target -/+ tolerance x |target|.
        band = tolerance * np.abs(target)
        amber_edge = np.where(up, target - band, target + band)
        tol_green = _meets(value, target, up)
        tol_amber = _meets(value, amber_edge, up)
        tol_rag = np.select(
            [tol_green, tol_amber], [RAG.GREEN.value, RAG.AMBER.value], RAG.RED.value
        )
        thr_rag = np.select(
            [_meets(value, tsl, up), _meets(value, msl, up)],
            [RAG.GREEN.value, RAG.AMBER.value],
            RAG.RED.value,
        )
    has_levels = np.where(thresholds, ~np.isnan(tsl) & ~np.isnan(msl), ~np.isnan(target))
    rated = np.where(thresholds, thr_rag, tol_rag)
    not_judged = (polarity == Polarity.NEUTRAL.value) | ~has_levels | np.isnan(value)
    rag = np.where(not_judged, RAG.GREY.value, rated)
    status = rows["status"].to_numpy(dtype=object)
    status_rag = pd.Series(status).map(_STATUS_RAG).to_numpy(dtype=object)
    rag = np.where(pd.isna(status_rag), rag, status_rag)
    return pd.Series(rag, index=rows.index, dtype=object, name="rag")


def reference_level(rows: pd.DataFrame) -> pd.Series:
    """What a value is compared with: the target, or the TSL for a thresholds measure."""
    thresholds = rows["rag_method"] == RagMethod.THRESHOLDS.value
    return rows["tsl"].where(thresholds, rows["target"]).astype(float)


def variance(rows: pd.DataFrame) -> pd.DataFrame:
    """Variance against target (or TSL): ``variance`` in the measure's unit, value minus
    target, and ``variance_pct``, that difference relative to the target's size
    (+0.10 = 10% above target; whether that is good depends on polarity)."""
    reference = reference_level(rows)
    difference = rows["value"].astype(float) - reference
    relative = difference / reference.abs().where(reference != 0)
    return pd.DataFrame({"variance": difference, "variance_pct": relative}, index=rows.index)


def adverse_variance(rows: pd.DataFrame) -> pd.Series:
    """Relative variance in the bad direction (positive = worse than target), else 0."""
    relative = variance(rows)["variance_pct"]
    sign = rows["polarity"].map({Polarity.UP.value: -1.0, Polarity.DOWN.value: 1.0})
    return (relative * sign).fillna(0.0).clip(lower=0.0)


def direction_of_travel(
    value: pd.Series, previous: pd.Series, polarity: pd.Series, stable_band: float = 0.0
) -> pd.Series:
    """Improving, worsening or stable against the previous value, taking polarity into
    account; a change within ``stable_band`` (relative to the previous value) is stable.

    ``no_earlier_figure`` without a previous value, ``not_comparable`` without a value of
    this period, and ``monitored`` for neutral measures that have both.
    """
    current = value.to_numpy(dtype=float)
    before = previous.to_numpy(dtype=float)
    pol = polarity.to_numpy(dtype=object)
    with np.errstate(invalid="ignore"):
        slack = np.maximum(
            EPSILON * np.maximum(1.0, np.maximum(np.abs(current), np.abs(before))),
            stable_band * np.abs(before),
        )
        rise = current > before + slack
        fall = current < before - slack
    good = np.where(pol == Polarity.UP.value, rise, fall)
    bad = np.where(pol == Polarity.UP.value, fall, rise)
    result = np.select(
        [good, bad], [Direction.IMPROVING.value, Direction.WORSENING.value], Direction.STABLE.value
    )
    result = np.where(pol == Polarity.NEUTRAL.value, Direction.MONITORED.value, result)
    result = np.where(np.isnan(before), Direction.NO_EARLIER_FIGURE.value, result)
    result = np.where(np.isnan(current), Direction.NOT_COMPARABLE.value, result)
    return pd.Series(result, index=value.index, dtype=object, name="direction")


def change(value: pd.Series, previous: pd.Series) -> pd.Series:
    """The change against the previous value, relative to its size (+0.25 = a quarter up)."""
    before = previous.astype(float)
    return ((value.astype(float) - before) / before.abs().where(before != 0)).rename("change_pct")


def _run_of(flags: np.ndarray, groups: np.ndarray, length: int) -> np.ndarray:
    """True where ``flags`` holds for this row and the ``length - 1`` rows before it in the
    same group (rows sorted by group then period, periods contiguous; ``groups`` as codes)."""
    run = flags.copy()
    for lag in range(1, length):
        before = np.zeros_like(flags)
        before[lag:] = flags[:-lag] & (groups[lag:] == groups[:-lag])
        run &= before
    return run


def _contains(codes: np.ndarray, texts: pd.Index | np.ndarray, word: str) -> np.ndarray:
    """Whether each row's text (a code of ``texts``) contains ``word``."""
    found = np.array([word in str(t) for t in list(texts)] + [False], dtype=bool)
    hits: np.ndarray = found[codes]
    return hits


def exception_reasons(series: pd.DataFrame) -> pd.Series:
    """Why each row is reported by exception ('' when it is not).

    Args:
        series: one row per measure per period, sorted by measure then period with no gaps,
            with columns ``measure_id``, ``rag``, ``status``, ``direction``, ``flags`` and
            those :func:`variance` needs.

    Returns:
        Space-separated :class:`~kpitools.core.model.ExceptionReason` codes per row.
    """
    groups, _ = pd.factorize(series["measure_id"].to_numpy(dtype=object))
    rag = series["rag"]
    # Variance only means something for a value reported in full and rated on it.
    rated = rag.isin([RAG.GREEN.value, RAG.AMBER.value, RAG.RED.value]) & (
        series["status"] == Status.REPORTED.value
    )
    not_available = series["status"] == Status.NOT_AVAILABLE.value
    # Flags are few distinct texts (most rows none): each is searched once.
    flag_codes, flag_texts = pd.factorize(series["flags"].fillna("").to_numpy(dtype=object))
    worsening = (series["direction"] == Direction.WORSENING.value).to_numpy(dtype=bool)
    criteria = {
        ExceptionReason.OFF_TARGET: (rag == RAG.RED.value) & ~not_available,
        ExceptionReason.DATA_NOT_AVAILABLE: not_available,
        ExceptionReason.ADVERSE_VARIANCE: rated
        & (adverse_variance(series) >= ADVERSE_VARIANCE - EPSILON),
        ExceptionReason.WORSENING_3: _run_of(worsening, groups, RUN_LENGTH),
        ExceptionReason.AMBER_3: _run_of(
            (rag == RAG.AMBER.value).to_numpy(dtype=bool), groups, RUN_LENGTH
        ),
        ExceptionReason.FLAG_BUDGET: _contains(flag_codes, flag_texts, "budget"),
        ExceptionReason.FLAG_CORPORATE_RISK: _contains(flag_codes, flag_texts, "corporate_risk"),
    }
    # A bit per reason; each distinct set of reasons is worded once.
    bits = np.zeros(len(series), dtype=np.int64)
    for i, hit in enumerate(criteria.values()):
        bits |= np.asarray(hit, dtype=bool).astype(np.int64) << i
    codes, sets = pd.factorize(bits)
    reasons = list(criteria)
    words = np.empty(len(sets), dtype=object)
    words[:] = [
        " ".join(r.value for i, r in enumerate(reasons) if int(found) >> i & 1)
        for found in sets.tolist()
    ]
    return pd.Series(np.take(words, codes), index=series.index, name="exception_reasons")


def rate_value(
    value: float,
    *,
    polarity: Polarity | str,
    target: float = float("nan"),
    tolerance: float = 0.05,
    tsl: float = float("nan"),
    msl: float = float("nan"),
    method: RagMethod | str | None = None,
    status: Status | str = Status.REPORTED,
) -> RAG:
    """Rate one value; the same rule as :func:`rate_rows`.

    Example:
        >>> rate_value(77, polarity="up", target=80).value  # 3.75% short: within 5%
        'amber'
        >>> rate_value(8.5, polarity="down", tsl=7, msl=10).value
        'amber'
    """
    if method is None:
        method = RagMethod.TOLERANCE if np.isnan(tsl) and np.isnan(msl) else RagMethod.THRESHOLDS
    row = pd.DataFrame(
        {
            "value": [value],
            "status": [Status(status).value],
            "polarity": [Polarity(polarity).value],
            "rag_method": [RagMethod(method).value],
            "target": [target],
            "tolerance": [tolerance],
            "tsl": [tsl],
            "msl": [msl],
        }
    )
    return RAG(rate_rows(row).iloc[0])
