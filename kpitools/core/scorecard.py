"""The scorecard: every measure rated for every period, with direction and exceptions.

This assembles the rules of :mod:`kpitools.core.rating` over a dataset:

1. each measure's values are summarised to the scorecard's period length (a quarter by
   default) by the measure's aggregation; a measure reported less often (annual) keeps its
   own periods and shows its latest result in each later period;
2. targets in force are looked up (a quarter is judged against the target in force at its
   end; a summed quarter against the sum of its months' targets);
3. ratings, direction of travel and exceptions are worked out on each measure's own series,
   where a monthly or quarterly measure with no value for a period that has ended is
   ``white`` ("no value supplied").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
import pandas as pd

from kpitools.core import rating
from kpitools.core.dataset import RATED_FROM, Dataset, values_of
from kpitools.core.levels import LEVELS as _LEVELS
from kpitools.core.levels import levels_at, measure_positions
from kpitools.core.model import Aggregation, Basis, Direction, Frequency, Status, Unit
from kpitools.core.periods import FiscalCalendar, Granularity, distinct_periods
from kpitools.core.variation import label_columns

SCORECARD_COLUMNS = [
    "measure_id", "service", "title", "short_title", "category", "polarity", "unit", "scale",
    "frequency", "include",
    "rag_method", "period", "value_period", "value", "numerator", "denominator", "target",
    "tolerance", "tsl", "msl", "variance", "variance_pct", "rag", "rag_calculated",
    "direction", "previous_value", "change_pct", "exception", "exception_reasons", "status",
    "flags", "data_quality", "note", "basis", "coverage", "variation", "assurance",
]  # fmt: skip

_MONTHS_IN = {Granularity.MONTH: 1, Granularity.QUARTER: 3, Granularity.YEAR: 12}
_GAP_FILLED = {Frequency.MONTHLY.value, Frequency.QUARTERLY.value}


@dataclass(frozen=True)
class _Tiling:
    """How a scorecard groups months into its periods: the calendar's months, quarters and
    years, or, for a run of months (June to August), runs of that length aligned to it (the
    one before June to August is March to May)."""

    calendar: FiscalCalendar
    run: pd.Period | None = None

    def months(self, eff: int) -> int:
        """How many months a period of this (effective) granularity spans."""
        if eff == Granularity.RANGE:
            return self.calendar.months(self._run)
        return _MONTHS_IN[Granularity(eff)]

    def bucket(self, period: pd.Period, eff: int) -> pd.Period:
        """The scorecard period that holds a value's period."""
        if eff == Granularity.RANGE:
            offset = (self.calendar.first_month(period) - self.calendar.first_month(self._run)).n
            return self._run + offset // self.months(eff)
        return self.calendar.containing(period, Granularity(eff))

    def freq(self, eff: int) -> str:
        if eff == Granularity.RANGE:
            return str(self._run.freqstr)
        return self.calendar.freq(Granularity(eff))

    def ended(self, latest: pd.Period, eff: int) -> pd.Period:
        """The last period of this granularity that ``latest`` (a month) has finished."""
        bucket = self.bucket(latest, eff)
        return bucket - 1 if self.calendar.last_month(bucket) > latest else bucket

    @property
    def _run(self) -> pd.Period:
        if self.run is None:
            raise ValueError("a scorecard by runs of months needs the run its periods align to")
        return self.run


def resolve_period(
    dataset: Dataset,
    period: str | pd.Period | None,
    by: Granularity | str | pd.Period | None = None,
) -> tuple[pd.Period | None, Granularity]:
    """Turn ``--period``/``--by`` into a period (or None for all) and a period length.

    ``period`` may be ``"latest"``: the latest finished period of that length (the data
    reaches its last month; see :meth:`Dataset.latest_period`). ``by`` may be a run of
    months (a ``Period`` such as ``2017-06..2017-08``): periods of its length, aligned to it.
    """
    calendar = dataset.calendar
    if isinstance(by, pd.Period):
        if calendar.granularity(by) is not Granularity.RANGE:
            raise ValueError(f"{calendar.label(by)} is not a run of months")
        if period is not None:
            raise ValueError("give a run of months as the period or as 'by', not both")
        return None, Granularity.RANGE
    granularity = _granularity(by) if by is not None else None
    if granularity is Granularity.RANGE:
        raise ValueError("a scorecard by runs of months needs the run: give it as the period")
    if period is None:
        return None, granularity or Granularity.QUARTER
    if isinstance(period, str) and period.strip().lower() == "latest":
        granularity = granularity or Granularity.QUARTER
        return dataset.latest_period(granularity), granularity
    parsed = calendar.parse(period) if isinstance(period, str) else period
    own = calendar.granularity(parsed)
    if granularity is not None and granularity is not own:
        raise ValueError(
            f"period {calendar.label(parsed)} is a {own.word}, not a {granularity.word}"
        )
    return parsed, own


def _granularity(by: Granularity | str) -> Granularity:
    if isinstance(by, Granularity):
        return by
    name = by.strip().upper()
    if name not in ("MONTH", "QUARTER", "YEAR"):
        raise ValueError(f"'{by}' is not one of month, quarter, year")
    return Granularity[name]


def rate(
    dataset: Dataset,
    period: str | pd.Period | None = None,
    by: Granularity | str | pd.Period | None = None,
    services: Iterable[str] | None = None,
    measures: Iterable[str] | None = None,
    carry_forward: bool = False,
    spc: bool = True,
) -> pd.DataFrame:
    """The scorecard: every measure rated for every period (or one period).

    Rated from the dataset's frames as they are now, with the council configuration it
    was loaded with. Without ``spc``, a scorecard of some services or measures is taken from
    the whole council's, worked out once while the frames are unchanged.

    Args:
        dataset: a loaded dataset.
        period: one period (``"2023/24 Q1"``, ``"2017-08"``, ``"2023/24"``, a run of months
            ``"2017-06..2017-08"`` or ``"latest"``); all periods when None.
        by: period length when ``period`` is None or ``"latest"``: ``month``, ``quarter``
            (default) or ``year``; or a run of months (a ``Period``): runs of its length
            aligned to it, each the one before it in time.
        services: only these services' measures (rated exactly as in the whole council's
            scorecard: how far the data reaches is still the whole council's).
        measures: only these measures (by id), likewise.
        carry_forward: with ``period`` None, show a measure reported less often (an annual
            one in a quarterly scorecard) in every period with its latest result, as a
            one-period scorecard does; by default each measure has one row per period of its
            own frequency.
        spc: with False, leave ``variation`` and ``assurance`` empty (a caller that needs
            only the ratings is spared reading every measure's XmR chart).

    Returns:
        One row per measure per period, columns :data:`SCORECARD_COLUMNS`, in data-dictionary
        order then period order. In a scorecard by runs of months, monthly measures are
        summarised to each run; a measure reported less often shows its latest result at the
        run's end (with ``carry_forward`` or for one run).
    """
    key = ("rate", by, carry_forward)
    if (
        period is None
        and not spc
        and (services is not None or measures is not None)
        and dataset.asked_before(key, RATED_FROM)
    ):
        # Every service's report starts from the same ratings: the whole council's are
        # worked out once (while the data is unchanged) and each report takes its rows. The
        # first ask rates only its own measures (below): a run of one service on a large
        # council is not made to rate all of it.
        council, rows_of = dataset.remembered(
            key,
            lambda: _with_positions(rate(dataset, by=by, carry_forward=carry_forward, spc=False)),
            RATED_FROM,
        )
        # The ids asked for (rows_of has the data dictionary's): the fewest looked at.
        table = dataset.measures
        ids: set[Any] = set(rows_of)
        if services is not None:
            ids = set(values_of(table.index[table["service"].isin(set(services))]))
        if measures is not None:
            ids &= set(measures)
        kept = [rows_of[m] for m in ids if m in rows_of]
        if not kept:
            return council.iloc[:0].reset_index(drop=True)
        return council.take(np.sort(np.concatenate(kept))).reset_index(drop=True)
    target_period, granularity = resolve_period(dataset, period, by)
    run = by if isinstance(by, pd.Period) else target_period
    tiling = _Tiling(dataset.calendar, run if granularity is Granularity.RANGE else None)
    latest = dataset.latest_month
    if services is not None or measures is not None:
        dataset = _restricted(
            dataset,
            set(services) if services is not None else None,
            set(measures) if measures is not None else None,
        )
    if dataset.values.empty or latest is None or (period is not None and target_period is None):
        return pd.DataFrame(columns=SCORECARD_COLUMNS)
    carry = carry_forward or period is not None
    if granularity is Granularity.RANGE:
        rows = _in_runs(dataset, tiling, latest, carry)
    else:
        series = measure_series(dataset, granularity, latest, tiling)
        rows = _in_reporting_periods(series, dataset, granularity, latest, carry=carry)
    if target_period is not None:
        rows = rows[rows["_period"] == target_period]
    return _present(rows, dataset, spc)


def _with_positions(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """A scorecard and the positions of each measure's rows in it."""
    groups = frame.groupby("measure_id", sort=False).indices
    return frame, {str(k): np.asarray(v) for k, v in groups.items()}


def _restricted(dataset: Dataset, services: set[str] | None, ids: set[str] | None) -> Dataset:
    """The dataset with only these services' (and these ids') measures, values and targets."""
    measures = dataset.measures
    if services is not None:
        measures = measures[measures["service"].isin(services)]
    if ids is not None:
        measures = measures[measures.index.isin(ids)]
    return replace(
        dataset,
        measures=measures,
        values=dataset.values[dataset.values["measure_id"].isin(measures.index)],
        targets=dataset.targets[dataset.targets["measure_id"].isin(measures.index)],
    )


def _in_runs(dataset: Dataset, tiling: _Tiling, latest: pd.Period, carry: bool) -> pd.DataFrame:
    """Rows per run of months: monthly measures summarised to each run; with ``carry``, a
    measure reported less often with its latest result at each run's end."""
    calendar = dataset.calendar
    native = dataset.values.groupby("measure_id")["granularity"].max()
    monthly = set(native.index[native == int(Granularity.MONTH)])
    own = pd.DataFrame()
    if monthly:
        series = measure_series(
            _restricted(dataset, None, monthly), Granularity.RANGE, latest, tiling
        )
        own = series.assign(_period=series["_bucket"])
    coarser = set(native.index) - monthly
    if not carry or not coarser:
        return own
    by_month = measure_series(_restricted(dataset, None, coarser), Granularity.MONTH, latest)
    carried = _in_reporting_periods(by_month, dataset, Granularity.MONTH, latest, carry=True)
    runs = {
        calendar.last_month(run): run
        for run in pd.period_range(
            tiling.bucket(dataset.first_month or latest, int(Granularity.RANGE)),
            tiling.bucket(latest, int(Granularity.RANGE)),
            freq=tiling.freq(int(Granularity.RANGE)),
        )
    }
    carried = carried[carried["_period"].isin(list(runs))]
    carried = carried.assign(_period=carried["_period"].map(runs))
    combined = pd.concat([frame for frame in (own, carried) if not frame.empty],
                         ignore_index=True)  # fmt: skip
    order = combined["measure_id"].map(dataset.measures["row"])
    ends = calendar.last_ordinals(combined["_period"])
    combined = combined.assign(_order=order, _end_key=ends)
    return combined.sort_values(["_order", "_end_key"], kind="stable").reset_index(drop=True)


def measure_series(
    dataset: Dataset,
    granularity: Granularity,
    latest: pd.Period,
    tiling: _Tiling | None = None,
) -> pd.DataFrame:
    """Each measure's own series at ``granularity`` or coarser, rated, with direction of
    travel and exception reasons (internal columns start with ``_``). ``latest`` is the last
    month the council's data reaches: periods after it have not ended. By runs of months
    (``tiling`` gives the run), only monthly measures can be summarised."""
    calendar = dataset.calendar
    tiling = tiling or _Tiling(calendar)
    measures = dataset.measures
    values = dataset.values.copy()
    values["_end"] = calendar.last_ordinals(values["period"])
    # Each row's measure as its position in the data dictionary: grouped, sorted and looked
    # up by number rather than by its id's text.
    values["_m"] = measure_positions(measures, values["measure_id"])
    native = _native(values, len(measures))
    values["_eff"] = np.maximum(np.take(native, values["_m"].to_numpy()), int(granularity))
    # Each distinct (period, length of period reported) once: a bucket and its last month.
    codes, distinct = distinct_periods(values["period"])
    effective = values["_eff"].to_numpy(dtype=np.int64)
    pairs, keys = pd.factorize(codes * 64 + effective)
    buckets = [tiling.bucket(distinct[int(k) // 64], int(k) % 64) for k in keys.tolist()]
    bucket_objects = np.empty(len(buckets), dtype=object)
    bucket_objects[:] = buckets
    values["_bucket"] = pd.Series(np.take(bucket_objects, pairs), index=values.index, dtype=object)
    bucket_ends = np.array([calendar.last_month(b).ordinal for b in buckets], dtype=np.int64)
    values["_bucket_end"] = np.take(bucket_ends, pairs)
    levels = levels_at(
        measures, dataset.targets, values["measure_id"], values["_end"], values["_m"].to_numpy()
    )
    for column in _LEVELS:
        # Summed quarters are judged against the sum of the targets of the months supplied.
        values[f"_row_{column}"] = levels[column].where(values["value"].notna())

    summary = _summarise(values, measures, native)
    grid = _fill_gaps(summary, measures, latest, tiling)
    return _rate_series(grid, dataset, tiling)


def _native(values: pd.DataFrame, count: int) -> np.ndarray:
    """Each measure's own length of period (the longest it has figures for), by position."""
    native = np.zeros(count, dtype=np.int64)
    np.maximum.at(native, values["_m"].to_numpy(), values["granularity"].to_numpy(np.int64))
    return native


def _of(measures: pd.DataFrame, column: str, frame: pd.DataFrame) -> pd.Series:
    """A data-dictionary column for each row of ``frame`` (by its ``_m``)."""
    taken = np.take(measures[column].to_numpy(dtype=object), frame["_m"].to_numpy())
    return pd.Series(taken, index=frame.index, dtype=object)


def _summarise(values: pd.DataFrame, measures: pd.DataFrame, native: np.ndarray) -> pd.DataFrame:
    """One row per measure per bucket, by the measure's aggregation."""
    is_status = _matcher(values["status"])
    values["_reportable"] = ~is_status(Status.NOT_EXPECTED.value)
    keys = ["_m", "_bucket_end"]
    # A mitigated month excuses that month only: its figure and target are left out of its
    # period unless every month with data expected is mitigated.
    mitigated = pd.Series(is_status(Status.MITIGATED.value), index=values.index)
    unexcused = (
        (values["_reportable"] & ~mitigated)
        .groupby([values[k] for k in keys], sort=False)
        .transform("any")
    )
    excused = mitigated & unexcused
    values["_preferred"] = values["_reportable"] & ~excused
    values["_excused_value"] = values["value"].where(excused)
    for column in ("value", "numerator", "denominator", *(f"_row_{c}" for c in _LEVELS)):
        values[column] = values[column].where(~excused)
    # The row a 'last' summary takes: the latest with data expected and not excused.
    values = values.sort_values(["_m", "_bucket_end", "_preferred", "_end"])
    # Sorted, each bucket's rows are together: its last row ends the stretch.
    m, end = values["_m"].to_numpy(), values["_bucket_end"].to_numpy()
    ends = np.flatnonzero(np.r_[(m[1:] != m[:-1]) | (end[1:] != end[:-1]), True])
    last = values.iloc[ends].set_index(keys)
    for status in (Status.NOT_AVAILABLE, Status.PENDING, Status.MITIGATED, Status.NOT_EXPECTED):
        values[f"_is_{status.value}"] = is_status(status.value)
    values["_restated"] = values["restated_from"].notna()
    # A ratio is recomputed from the months that give both its parts.
    both = values["numerator"].notna() & values["denominator"].notna()
    values["_num_both"] = values["numerator"].where(both)
    values["_den_both"] = values["denominator"].where(both)
    values["_both"] = both
    values["_no_parts"] = values["value"].notna() & ~both
    grouped = values.groupby(keys, sort=False)
    totals = grouped.agg(
        _rows=("value", "size"),
        _count=("value", "count"),
        _sum=("value", "sum"),
        _mean=("value", "mean"),
        _num=("numerator", "sum"),
        _den=("denominator", "sum"),
        _num_count=("numerator", "count"),
        _den_count=("denominator", "count"),
        _num_b=("_num_both", "sum"),
        _den_b=("_den_both", "sum"),
        _n_both=("_both", "sum"),
        _n_no_parts=("_no_parts", "sum"),
        _any_not_available=("_is_not_available", "any"),
        _any_pending=("_is_pending", "any"),
        _any_mitigated=("_is_mitigated", "any"),
        _n_not_available=("_is_not_available", "sum"),
        _n_pending=("_is_pending", "sum"),
        _n_mitigated=("_is_mitigated", "sum"),
        _n_reportable=("_reportable", "sum"),
        _all_not_expected=("_is_not_expected", "all"),
        _restated=("_restated", "any"),
        **{f"_sum_{c}": (f"_row_{c}", "sum") for c in _LEVELS},
        **{f"_n_{c}": (f"_row_{c}", "count") for c in _LEVELS},
    )
    out = last[["measure_id", "_bucket", "_eff", "value", "numerator", "denominator", "status",
                "rag_override", "coverage"]]  # fmt: skip
    out = out.join(totals)
    out["flags"] = _joined_text(values, keys, "flags", " ", out.index)
    out["note"] = _joined_text(values, keys, "note", "; ", out.index)
    out = out.reset_index()

    own = np.take(native, out["_m"].to_numpy())
    aggregation = _of(measures, "aggregation", out)
    passthrough = own == out["_eff"].to_numpy()
    use_last = passthrough | (aggregation == Aggregation.LAST.value).to_numpy()
    summed = ~use_last & (aggregation == Aggregation.SUM.value).to_numpy()
    has_ratio = (out["_den_b"] != 0) & (out["_n_both"] > 0)
    scale = np.where(_of(measures, "unit", out) == Unit.PERCENT.value, 100.0, 1.0)
    # Without any month's numerator and denominator, a ratio quarter is the months' mean
    # (data quality says so).
    ratio_value = np.where(has_ratio, scale * out["_num_b"] / out["_den_b"].where(has_ratio),
                           out["_mean"])  # fmt: skip
    aggregated = np.select(
        [aggregation == Aggregation.SUM.value, aggregation == Aggregation.MEAN.value],
        [out["_sum"], out["_mean"]],
        ratio_value,
    )
    aggregated = np.where(out["_count"] > 0, aggregated, np.nan)
    out["value"] = np.where(use_last, out["value"], aggregated)
    is_ratio = (aggregation == Aggregation.RATIO.value).to_numpy()
    for column in ("numerator", "denominator"):
        short = column[:3]
        summed_parts = out[f"_{short}"].where(out[f"_{short}_count"] > 0)
        ratio_parts = out[f"_{short}_b"].where(out["_n_both"] > 0)
        out[column] = np.where(use_last, out[column], np.where(is_ratio, ratio_parts, summed_parts))
    out["_ratio"] = ~use_last & is_ratio
    # A part-year figure is one row's; a summarised period says how many months it has.
    out["coverage"] = np.where(passthrough, out["coverage"].astype(float), np.nan)
    # A mitigated month excuses that month only: the period is blue when every month with
    # data expected is mitigated, and otherwise rated on its figures.
    all_mitigated = out["_n_mitigated"] >= out["_n_reportable"]
    combined_status = np.select(
        [
            out["_any_not_available"],
            out["_any_pending"],
            out["_any_mitigated"] & all_mitigated,
            out["_all_not_expected"],
        ],
        [
            Status.NOT_AVAILABLE.value,
            Status.PENDING.value,
            Status.MITIGATED.value,
            Status.NOT_EXPECTED.value,
        ],
        Status.REPORTED.value,
    )
    # Every month counts, whatever the aggregation: a month not available (or pending, or
    # mitigated) inside a quarter is not hidden by a good last month.
    last_status = out["status"].to_numpy(dtype=object)
    out["status"] = np.where(passthrough, last_status, combined_status)
    # An override rates the row it was given for: a quarter keeps it only when the quarter is
    # that row's value and status.
    keeps_override = passthrough | (use_last & (combined_status == last_status))
    out["rag_override"] = np.where(keeps_override, out["rag_override"], "")
    for column in _LEVELS:
        out[f"_summed_{column}"] = out[f"_sum_{column}"].where(out[f"_n_{column}"] > 0)
    out["_summed"] = summed
    out["_passthrough"] = passthrough
    out["_native"] = own
    return out


def _matcher(column: pd.Series) -> Callable[[str], np.ndarray]:
    """``column == text`` for any text, as a numpy mask: a column of few distinct texts
    (a status, mostly empty notes) compared once per distinct text, not once per row."""
    codes, distinct = pd.factorize(column.to_numpy(dtype=object))
    kinds = distinct.tolist()

    def equals(text: str) -> np.ndarray:
        return np.array([k == text for k in kinds] + [False], dtype=bool)[codes]

    return equals


def _joined_text(
    values: pd.DataFrame, keys: list[str], column: str, sep: str, index: pd.Index
) -> np.ndarray:
    """Distinct non-empty texts of each bucket's rows, joined, for each bucket of ``index``
    ('' for none: few rows carry any)."""
    with_text = values.loc[~_matcher(values[column])(""), [*keys, column]]
    if with_text.empty:
        return np.full(len(index), "", dtype=object)
    joined = with_text.groupby(keys, sort=False)[column].agg(
        lambda texts: sep.join(dict.fromkeys(t for text in texts for t in text.split(sep)))
    )
    return joined.rename(column).reindex(index, fill_value="").to_numpy(dtype=object)


def _with_gaps(
    summary: pd.DataFrame, measures: pd.DataFrame, latest: pd.Period, tiling: _Tiling
) -> pd.DataFrame:
    """The rows of the series (measure and length of period) :func:`_fill_gaps` has periods
    to add to: fewer periods than there are from its first to the last ended (most series
    have none missing, and are not gone through one by one)."""
    if summary.empty:
        return summary
    grouped = summary.groupby(["_m", "_eff"], sort=False)["_bucket_end"]
    size, first, last = (
        grouped.transform("size"),
        grouped.transform("min"),
        grouped.transform("max"),
    )
    effective = summary["_eff"].astype(int)
    months = _months_of(effective, tiling)
    ended = effective.map(
        {
            e: tiling.calendar.last_month(tiling.ended(latest, e)).ordinal
            for e in pd.unique(effective).tolist()
        }
    )
    expected = (np.maximum(last, ended) - first) // months + 1
    filled = _of(measures, "frequency", summary).isin(_GAP_FILLED)
    chosen: pd.DataFrame = summary[filled & (size < expected)]
    return chosen


def _fill_gaps(
    summary: pd.DataFrame, measures: pd.DataFrame, latest: pd.Period, tiling: _Tiling
) -> pd.DataFrame:
    """Add a 'missing' row for each period that has ended with no value, for measures reported
    every month or quarter; others (termly, annual) keep the periods they have."""
    additions = []
    for key, group in _with_gaps(summary, measures, latest, tiling).groupby(
        ["_m", "_eff"], sort=False
    ):
        position, eff = cast(tuple[int, int], key)
        measure_id = str(measures.index[position])
        first = group["_bucket"].iloc[0]
        last = group["_bucket"].iloc[-1]
        stop = max(last, tiling.ended(latest, eff))
        have = set(group["_bucket"])
        for bucket in pd.period_range(first, stop, freq=tiling.freq(eff)):
            if bucket not in have:
                additions.append(
                    {
                        "measure_id": measure_id,
                        "_m": position,
                        "_bucket": bucket,
                        "_bucket_end": tiling.calendar.last_month(bucket).ordinal,
                        "_eff": eff,
                        "status": Status.MISSING.value,
                        "rag_override": "",
                        "coverage": np.nan,
                        "_rows": 0,
                        "_summed": bool(group["_summed"].iloc[0]),
                        "_passthrough": bool(group["_passthrough"].iloc[0]),
                        "_ratio": bool(group["_ratio"].iloc[0]),
                        "_native": int(group["_native"].iloc[0]),
                        "_restated": False,
                    }
                )
    if additions:
        summary = pd.concat([summary, pd.DataFrame(additions)], ignore_index=True)
    order = np.take(measures["row"].to_numpy(), summary["_m"].to_numpy())
    summary = summary.assign(_order=order).sort_values(["_order", "_bucket_end"], kind="stable")
    return summary.drop(columns="_order").reset_index(drop=True)


def _rate_series(grid: pd.DataFrame, dataset: Dataset, tiling: _Tiling) -> pd.DataFrame:
    """Levels, RAG, variance, direction of travel and exceptions on each measure's series."""
    measures = dataset.measures
    ids = grid["measure_id"]
    for column in ("polarity", "rag_method", "tolerance", "frequency", "seasonal", "basis"):
        grid[column] = _of(measures, column, grid).to_numpy()
    # A measure without a tolerance of its own takes the council's default.
    grid["tolerance"] = grid["tolerance"].astype(float).fillna(dataset.config.default_tolerance)
    at_end = levels_at(measures, dataset.targets, ids, grid["_bucket_end"], grid["_m"].to_numpy())
    summed = grid["_summed"].astype(bool)
    for column in _LEVELS:
        grid[column] = at_end[column].where(~summed, grid[f"_summed_{column}"])

    grid["rag_calculated"] = rating.rate_rows(grid)
    override = grid["rag_override"].fillna("")
    grid["rag"] = grid["rag_calculated"].where(override == "", override)
    grid = grid.join(rating.variance(grid))

    comparable = grid["value"].where(
        grid["status"].isin([Status.REPORTED.value, Status.MITIGATED.value])
    )
    # Seasonal and year-to-date figures compare with the same point of the year before (a
    # run of months that does not divide the year has no such point among its runs).
    same_point = grid["seasonal"].astype(bool) | (grid["basis"] == Basis.YTD.value)
    per_year = 12 / _months_of(grid["_eff"], tiling)
    yearly = same_point & grid["frequency"].isin(_GAP_FILLED)
    no_same_point = yearly & (per_year % 1 != 0)
    lags = np.where(yearly & ~no_same_point, per_year, 1).astype(int)
    previous = pd.Series(np.nan, index=grid.index)
    previous_coverage = pd.Series(np.nan, index=grid.index)
    by_measure = comparable.groupby(grid["_m"].to_numpy(), sort=False)
    coverage = (
        grid["coverage"]
        .astype(float)
        .where(grid["coverage"].notna(), _months_supplied(grid, tiling))
    )
    by_coverage = coverage.groupby(grid["_m"].to_numpy(), sort=False)
    for lag in np.unique(lags):
        previous = previous.where(lags != lag, by_measure.shift(int(lag)))
        previous_coverage = previous_coverage.where(lags != lag, by_coverage.shift(int(lag)))
    # A part-year figure is compared only with the same part of the year before.
    unlike = previous.notna() & ~(
        (coverage == previous_coverage) | (coverage.isna() & previous_coverage.isna())
    )
    unlike = unlike | (no_same_point & comparable.notna())
    previous = previous.where(~unlike)
    grid["previous_value"] = previous
    direction = rating.direction_of_travel(
        comparable, previous, grid["polarity"], dataset.config.stable_band
    )
    grid["direction"] = direction.where(~unlike, Direction.NOT_COMPARABLE.value)
    grid["change_pct"] = rating.change(comparable, previous)
    grid["exception_reasons"] = rating.exception_reasons(grid)
    grid["data_quality"] = _data_quality(grid, tiling)
    return grid


def _months_supplied(grid: pd.DataFrame, tiling: _Tiling) -> pd.Series:
    """For a summarised period with fewer rows than months (a month missing, a quarter not
    yet over), how many it has; NaN for a whole period. A part is never compared with a
    whole."""
    expected = _months_of(grid["_eff"], tiling) / _months_of(grid["_native"], tiling)
    summarised = ~grid["_passthrough"].astype(bool) & grid["frequency"].isin(_GAP_FILLED)
    rows = grid["_rows"].astype(float)
    part = summarised & (rows < expected) & (rows > 0)
    return rows.where(part)


def _months_of(granularity: pd.Series, tiling: _Tiling) -> pd.Series:
    """How many months each period of these (effective) granularities spans."""
    kinds = {int(g) for g in pd.unique(granularity.dropna())}
    return granularity.map({g: tiling.months(g) for g in kinds}).astype(float)


def coverage_text(months: Any, period: pd.Period) -> str:
    """``to Q3`` for 9 months of a year, ``2 of 3 months`` otherwise; '' for a whole period."""
    if months is None or math.isnan(float(months)):
        return ""
    total = (period.asfreq("M", how="end") - period.asfreq("M", how="start")).n + 1
    count = int(months)
    if total == 12 and count % 3 == 0:
        return f"to Q{count // 3}"
    return f"{count} of {total} months"


def _flag(value: Any) -> bool:
    """A yes/no cell of the grid (rows added for missing periods may hold NaN)."""
    return bool(value) if not pd.isna(value) else False


_QUALITY_COLUMNS = ["status", "_rows", "_passthrough", "frequency", "_native", "_eff",
                    "_n_not_available", "_n_pending", "_n_mitigated", "_n_no_parts", "_ratio",
                    "_n_both", "value", "coverage", "_bucket", "_restated", "rag",
                    "rag_calculated"]  # fmt: skip


def _data_quality(grid: pd.DataFrame, tiling: _Tiling) -> list[str]:
    """What a reader should know about the data behind each row: months not supplied, not
    available, pending or mitigated inside a longer period, provisional and restated figures,
    changed ratings."""
    notes = np.full(len(grid), "", dtype=object)
    needed = [c for c in _QUALITY_COLUMNS if c in grid.columns]
    chosen = np.flatnonzero(_may_have_notes(grid, tiling))
    if not len(chosen):
        return notes.tolist()
    # A note depends only on these cells (of the figure, only whether there is one; of the
    # period, only where it is part of a year): each distinct set of them is worded once.
    frame = grid[needed].iloc[chosen]
    frame = frame.assign(value=frame["value"].isna().to_numpy())
    if "coverage" in frame.columns:
        part = frame["coverage"].notna().to_numpy()
        frame = frame.assign(_bucket=frame["_bucket"].where(part, None))
    same = frame.groupby(needed, sort=False, dropna=False).ngroup().to_numpy()
    first = np.empty(same.max() + 1, dtype=np.int64)
    first[same] = np.arange(len(same))  # a row of each set (any: they are alike)
    words = np.empty(len(first), dtype=object)
    words[:] = [_quality_note(row, tiling) for row in frame.iloc[first].to_dict("records")]
    notes[chosen] = np.take(words, same)
    return notes.tolist()


def _quality_note(row: dict[Hashable, Any], tiling: _Tiling) -> str:
    """:func:`_data_quality` of one row (``value``: whether the row has no figure)."""
    status, rows = row["status"], row["_rows"]
    parts = []
    if status == Status.MISSING.value:
        parts.append("no value supplied")
    elif not row["_passthrough"] and row["frequency"] in _GAP_FILLED:
        native = Granularity(row["_native"])
        expected = tiling.months(row["_eff"]) // tiling.months(int(native))
        word = native.word
        if rows < expected:
            parts.append(f"{rows} of {expected} {word}s supplied")
        for key, what in (
            ("_n_not_available", "not available"),
            ("_n_pending", "pending"),
            ("_n_mitigated", "mitigated"),
        ):
            count = row.get(key, 0)
            if count and not pd.isna(count):
                parts.append(f"{int(count)} of {expected} {word}s {what}")
        lacking = row.get("_n_no_parts", 0)
        if _flag(row.get("_ratio")) and lacking and not pd.isna(lacking):
            parts.append(
                f"{int(lacking)} of {expected} {word}s without numerator and denominator"
                + (": the mean of the months" if not row.get("_n_both") else "")
            )
    elif status == Status.NOT_AVAILABLE.value:
        parts.append("data due but not available")
    elif status == Status.PENDING.value and row["value"]:
        parts.append("figure expected later")
    if not pd.isna(row.get("coverage", np.nan)):
        parts.append(f"part-year ({coverage_text(row['coverage'], row['_bucket'])})")
    if status == Status.PENDING.value and not row["value"]:
        parts.append("provisional")
    if _flag(row["_restated"]):
        parts.append("restated")
    if row["rag"] != row["rag_calculated"]:
        parts.append(f"rating changed from {row['rag_calculated']} to {row['rag']}")
    return "; ".join(parts)


def _may_have_notes(grid: pd.DataFrame, tiling: _Tiling) -> np.ndarray:
    """Rows :func:`_data_quality` may have something to say of: every row it has a note for
    and a few more (a whole period of plain figures, the most of a scorecard, has none)."""

    def column(name: str) -> pd.Series:
        return grid[name] if name in grid.columns else pd.Series(np.nan, index=grid.index)

    status = column("status")
    maybe = status.isin([Status.MISSING.value, Status.NOT_AVAILABLE.value,
                         Status.PENDING.value])  # fmt: skip
    maybe |= column("coverage").notna()
    maybe |= column("_restated").fillna(True).astype(bool)
    maybe |= column("rag") != column("rag_calculated")  # True where either is missing
    summarised = ~column("_passthrough").fillna(False).astype(bool) & column("frequency").isin(
        _GAP_FILLED
    )
    expected = _months_of(column("_eff"), tiling) // _months_of(column("_native"), tiling)
    odd = ~(column("_rows") >= expected) | expected.isna()
    for name in ("_n_not_available", "_n_pending", "_n_mitigated"):
        odd |= column(name).fillna(1) != 0
    # Months without numerator and denominator are said of a ratio only.
    odd |= (column("_n_no_parts").fillna(1) != 0) & column("_ratio").fillna(True).astype(bool)
    maybe |= summarised & odd
    return maybe.to_numpy(dtype=bool)


def _in_reporting_periods(
    series: pd.DataFrame,
    dataset: Dataset,
    granularity: Granularity,
    latest: pd.Period,
    carry: bool = True,
) -> pd.DataFrame:
    """Rows per reporting period: a measure reported less often shows its latest result
    (``carry``, for one period's scorecard); otherwise each measure has one row per period of
    its own frequency."""
    calendar = dataset.calendar
    own = series[series["_eff"] == int(granularity)].assign(_period=lambda f: f["_bucket"])
    coarse = series[series["_eff"] > int(granularity)]
    if coarse.empty:
        return own
    if not carry:
        combined = pd.concat([own, coarse.assign(_period=coarse["_bucket"])], ignore_index=True)
        order = combined["measure_id"].map(dataset.measures["row"])
        combined = combined.assign(_order=order)
        return combined.sort_values(["_order", "_bucket_end"], kind="stable").reset_index(drop=True)
    first_month = min(calendar.first_month(p) for p in series["_bucket"].unique())
    first = calendar.containing(first_month, granularity)
    reporting = pd.period_range(
        first, calendar.containing(latest, granularity), freq=calendar.freq(granularity)
    )
    grid = pd.DataFrame(
        {
            "_period": list(reporting) * coarse["measure_id"].nunique(),
            "measure_id": np.repeat(coarse["measure_id"].unique(), len(reporting)),
        }
    )
    grid["_key"] = calendar.last_ordinals(grid["_period"])
    # A part-year figure ("to Q3") is available from the end of what it covers.
    months_in = coarse["_eff"].map({int(g): n for g, n in _MONTHS_IN.items()})
    covered = coarse["coverage"].astype(float)
    available = coarse["_bucket_end"] - (months_in - covered).where(covered.notna(), 0)
    carried = pd.merge_asof(
        grid.sort_values("_key"),
        coarse.assign(_key=available.astype("int64")).sort_values("_key"),
        on="_key",
        by="measure_id",
        direction="backward",
    ).dropna(subset=["_bucket"])
    combined = pd.concat([own, carried.drop(columns="_key")], ignore_index=True)
    order = combined["measure_id"].map(dataset.measures["row"])
    ends = calendar.last_ordinals(combined["_period"])
    combined = combined.assign(_order=order, _end_key=ends)
    return combined.sort_values(["_order", "_end_key"], kind="stable").reset_index(drop=True)


def _present(rows: pd.DataFrame, dataset: Dataset, spc: bool = True) -> pd.DataFrame:
    """The public scorecard frame: labels for periods, measure attributes, plain columns."""
    calendar = dataset.calendar
    measures = dataset.measures
    ids = rows["measure_id"]
    out = pd.DataFrame({"measure_id": ids.to_numpy()})
    # Each measure's attributes looked up once, then spread to its rows.
    which, distinct = pd.factorize(ids.to_numpy(dtype=object))
    info = measures.reindex(distinct)
    for column in ("service", "title", "short_title", "category", "polarity", "unit", "scale",
                   "frequency", "include", "rag_method", "basis"):  # fmt: skip
        out[column] = np.take(info[column].to_numpy(dtype=object), which)
    out["period"] = calendar.labels(rows["_period"])
    out["value_period"] = calendar.labels(rows["_bucket"])
    for column in ("value", "numerator", "denominator", "target", "tolerance", "tsl", "msl",
                   "variance", "variance_pct"):  # fmt: skip
        out[column] = rows[column].to_numpy(dtype=float)
    out["tolerance"] = np.where(out["rag_method"] == "tolerance", out["tolerance"], np.nan)
    for column in ("rag", "rag_calculated", "direction"):
        out[column] = rows[column].to_numpy(dtype=object)
    out["previous_value"] = rows["previous_value"].to_numpy(dtype=float)
    out["change_pct"] = rows["change_pct"].to_numpy(dtype=float)
    reasons = rows["exception_reasons"].fillna("").to_numpy(dtype=object)
    out["exception"] = reasons != ""
    out["exception_reasons"] = reasons
    out["status"] = rows["status"].to_numpy(dtype=object)
    out["flags"] = rows["flags"].fillna("").to_numpy(dtype=object)
    out["data_quality"] = rows["data_quality"].to_numpy(dtype=object)
    out["note"] = rows["note"].fillna("").to_numpy(dtype=object)
    coverage = np.full(len(rows), "", dtype=object)
    part = np.flatnonzero(rows["coverage"].notna().to_numpy())  # a part period's rows: few
    months, buckets = rows["coverage"].to_numpy()[part], rows["_bucket"].to_numpy()[part]
    coverage[part] = [coverage_text(c, b) for c, b in zip(months, buckets, strict=True)]
    out["coverage"] = coverage
    labels = label_columns(dataset, ids.to_numpy(dtype=object), rows["_bucket"]) if spc else {}
    for column in ("variation", "assurance"):
        out[column] = labels.get(column, [""] * len(out))
    out["include"] = out["include"].astype(bool)
    out["exception"] = out["exception"].astype(bool)
    return out[SCORECARD_COLUMNS]
