"""Variation and assurance of a dataset's measures: each measure's own series (its months,
quarters or years as supplied) read as an XmR chart (:mod:`kpitools.core.spc`).

A measure's points are its values with a figure for a whole period (a provisional or
mitigated figure is a point; a period not expected, not available or pending without a
figure, and a part-year figure, are left out). A year-to-date measure, a running total that
starts again each year, has no chart. Its
``spc_recalculate`` periods start new limits at the first point in or after each; its
``spc_baseline`` fixes the limits from the points up to the end of that period. The council's
``spc_run_length`` counts the points of a shift or a trend.

A chart *as at* a period stops at that period's end, as a report written then saw it: the
variation a quarter's report shows does not change when later months come in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from kpitools.core import spc
from kpitools.core.dataset import RATED_FROM, Dataset
from kpitools.core.levels import levels_at
from kpitools.core.model import Basis, Status
from kpitools.core.periods import distinct_periods

#: The columns of :func:`spc_table`, one row per measure per point.
SPC_COLUMNS = [
    "measure_id", "period", "value", "mean", "lower_limit", "upper_limit", "variation", "rule",
    "side", "target", "assurance", "service", "title", "polarity",
]  # fmt: skip


KEPT_CHARTS = 4
"""Charts a series keeps: enough for one report's, bounded however many are asked for."""


@dataclass(frozen=True, eq=False)
class Series:
    """One measure's points in time order, with the target in force at each.

    Every period's label comes from one pass over the points (:meth:`as_at_each`, the same
    numbers as the chart stopped at each point); it keeps the last few charts it drew
    (:data:`KEPT_CHARTS`), so a report's charts are drawn once.
    """

    measure_id: str
    polarity: str
    periods: tuple[pd.Period, ...]
    ends: np.ndarray  # each point's last month, as a month ordinal
    values: np.ndarray
    targets: np.ndarray
    recalculate: tuple[int, ...]  # positions that start new limits
    baseline: int | None  # position of the baseline's last point
    _charts: dict[tuple[int, int], spc.Chart] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _as_at: dict[int, spc.Latest] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _words: dict[int, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def as_at_each(self, run_length: int) -> spc.Latest:
        """What the chart stopped at each point says of that point, worked out once."""
        kept = self._as_at.get(run_length)
        if kept is None:
            kept = spc.as_at_each(
                self.values,
                self.polarity,
                run_length=run_length,
                recalculate=self.recalculate,
                baseline=self.baseline,
            )
            self.keep_as_at(run_length, kept)
        return kept

    def keep_as_at(self, run_length: int, latest: spc.Latest) -> None:
        """Keep what :meth:`as_at_each` gives (read with other series by :func:`read_alike`)."""
        for array in (latest.mean, latest.lower, latest.upper):
            array.setflags(write=False)
        self._as_at[run_length] = latest

    def label_words(self, run_length: int) -> tuple[np.ndarray, np.ndarray]:
        """Each point's variation and assurance as the scorecard writes them ('' for no
        assurance), for the chart stopped at the point."""
        kept = self._words.get(run_length)
        if kept is None:
            latest = self.as_at_each(run_length)
            said = spc.CLASS_VALUES[latest.classes.special]
            found = spc.assurance_codes(self.targets, latest.lower, latest.upper, self.polarity)
            kept = self._words[run_length] = (said, spc.ASSURANCE_VALUES[found])
        return kept

    def chart(self, run_length: int, upto: int | None = None) -> spc.Chart:
        """The chart of the first ``upto`` points (all of them by default)."""
        stop = len(self.values) if upto is None else upto
        key = (run_length, stop)
        kept = self._charts.get(key)
        if kept is not None:
            return kept
        chart = self._drawn(run_length, stop)
        self.keep_chart(run_length, stop, chart)
        return chart

    def keep_chart(self, run_length: int, stop: int, chart: spc.Chart) -> None:
        """Keep the chart of the first ``stop`` points (drawn with other series by
        :func:`draw_alike`)."""
        for array in (chart.values, chart.mean, chart.lower, chart.upper, chart.lower_2s,
                      chart.upper_2s):  # fmt: skip
            array.setflags(write=False)  # shared: nobody may change it
        self._charts[(run_length, stop)] = chart
        if len(self._charts) > KEPT_CHARTS:
            del self._charts[next(iter(self._charts))]  # the oldest

    def one_stretch(self, stop: int) -> bool:
        """Whether the chart of the first ``stop`` points has one set of limits, worked out
        from all of them (no recalculation and no baseline among them)."""
        return not any(0 < i < stop for i in self.recalculate) and (
            self.baseline is None or self.baseline >= stop
        )

    def _drawn(self, run_length: int, stop: int) -> spc.Chart:
        baseline = self.baseline if self.baseline is not None and self.baseline < stop else None
        return spc.xmr(
            self.values[:stop],
            self.polarity,
            run_length=run_length,
            recalculate=[i for i in self.recalculate if i < stop],
            baseline=baseline,
        )


def measure_points(dataset: Dataset, measures: Iterable[str] | None = None) -> dict[str, Series]:
    """Each measure's series of points (measures without any point are left out), in
    data-dictionary order. The whole council's are read once while its data is unchanged."""
    chosen = None if measures is None else set(measures)
    if chosen is not None and not dataset.asked_before("measure_points", RATED_FROM):
        # The first ask reads only its own measures' points (a run of one service).
        table, values = dataset.measures, dataset.values
        return _points(
            replace(
                dataset,
                measures=table[table.index.isin(chosen)],
                values=values[values["measure_id"].isin(chosen)],
            )
        )
    every = dataset.remembered("measure_points", lambda: _points(dataset), RATED_FROM)
    if chosen is None:
        return dict(every)
    return {key: series for key, series in every.items() if key in chosen}


def _points(dataset: Dataset) -> dict[str, Series]:
    calendar = dataset.calendar
    table = dataset.measures
    # A year-to-date figure is a running total that starts again each year: no chart.
    table = table[table["basis"] != Basis.YTD.value]
    values = dataset.values
    # Each row's measure by its position in ``table`` (-1 for none): found once, by number after.
    position = table.index.get_indexer(pd.Index(values["measure_id"]))
    # Points are figures for a whole period (a part-year figure is not like the others),
    # of the measure's own length of period: the longest of its figures (a placeholder row
    # without a figure says nothing of it).
    keep = (
        (position >= 0)
        & values["value"].notna().to_numpy()
        & (values["status"] != Status.NOT_EXPECTED.value).to_numpy()
        & values["coverage"].astype(float).isna().to_numpy()
    )
    values, position = values[keep], position[keep]
    grain = values["granularity"].to_numpy(np.int64)
    native = np.zeros(len(table), dtype=np.int64)
    np.maximum.at(native, position, grain)
    own = grain == native[position]
    points, position = values[own], position[own]
    if points.empty:
        return {}
    points = points.assign(
        _end=calendar.last_ordinals(points["period"]),
        _first=calendar.first_ordinals(points["period"]),
        _m=position,
    )
    points = points.sort_values(["_m", "_end"], kind="stable")
    position = points["_m"].to_numpy()
    levels = levels_at(table, dataset.targets, points["measure_id"], points["_end"], position)
    target = levels["target"].where(levels["target"].notna(), levels["tsl"])
    points = points.assign(_target=target.to_numpy())
    # Each measure's points are one stretch of the sorted columns: sliced, not grouped.
    codes, distinct = distinct_periods(points["period"])
    shown = np.empty(len(distinct), dtype=object)
    shown[:] = distinct
    periods = np.take(shown, codes)  # shares one Period object per distinct period
    starts = np.flatnonzero(np.r_[True, position[1:] != position[:-1]]).tolist()
    stops = [*starts[1:], len(position)]
    ids = table.index.to_numpy(dtype=object)
    where = {ids[position[lo]]: (lo, hi) for lo, hi in zip(starts, stops, strict=True)}
    firsts, ends = points["_first"].to_numpy(), points["_end"].to_numpy()
    figures = points["value"].to_numpy(dtype=float)
    targets = points["_target"].to_numpy(dtype=float)
    out: dict[str, Series] = {}
    columns = ["polarity", "spc_recalculate", "spc_baseline"]
    present = [c for c in columns if c in table.columns]
    for measure_id, info in zip(table.index, table[present].to_dict("records"), strict=True):
        found = where.get(str(measure_id))
        if found is None:
            continue
        lo, hi = found
        ends_of = ends[lo:hi]
        out[str(measure_id)] = Series(
            measure_id=str(measure_id),
            polarity=str(info["polarity"]),
            periods=tuple(periods[lo:hi].tolist()),
            ends=ends_of,
            values=figures[lo:hi],
            targets=targets[lo:hi],
            recalculate=_starts(dataset, str(info.get("spc_recalculate", "") or ""), firsts[lo:hi]),
            baseline=_baseline(dataset, str(info.get("spc_baseline", "") or ""), ends_of),
        )
    return out


def _labels(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _starts(dataset: Dataset, text: str, firsts: np.ndarray) -> tuple[int, ...]:
    """Positions of the first point in or after each recalculation period."""
    if not text.strip():
        return ()
    calendar = dataset.calendar
    starts = set()
    for label in _labels(text):
        month = calendar.first_month(calendar.parse(label)).ordinal
        position = int(np.searchsorted(firsts, month, side="left"))
        if 0 < position < len(firsts):
            starts.add(position)
    return tuple(sorted(starts))


def _baseline(dataset: Dataset, text: str, ends: np.ndarray) -> int | None:
    """Position of the last point that ends by the end of the baseline period."""
    if not text.strip():
        return None
    labels = _labels(text)
    if not labels:
        return None
    calendar = dataset.calendar
    month = calendar.last_month(calendar.parse(labels[0])).ordinal
    position = int(np.searchsorted(ends, month, side="right")) - 1
    return position if position >= 0 else None


def spc_table(
    dataset: Dataset, measures: Iterable[str] | None = None, services: Iterable[str] | None = None
) -> pd.DataFrame:
    """Every point of every measure's chart: columns :data:`SPC_COLUMNS`.

    ``variation`` is the point's class on the whole chart; ``rule`` the rules that class it
    (space-separated); ``assurance`` where the target in force at the point sits against
    the limits the point is judged by.
    """
    run_length = dataset.config.spc_run_length
    table = dataset.measures
    if services is not None:
        table = table[table["service"].isin(set(services))]
    ids = list(table.index) if measures is None else [m for m in table.index if m in set(measures)]
    rows = []
    calendar = dataset.calendar
    for measure_id, series in measure_points(dataset, ids).items():
        chart = series.chart(run_length)
        info = dataset.measures.loc[measure_id]
        for i, period in enumerate(series.periods):
            sure = spc.assurance(
                float(series.targets[i]),
                float(chart.lower[i]),
                float(chart.upper[i]),
                series.polarity,
            )
            rows.append(
                {
                    "measure_id": measure_id,
                    "service": info["service"],
                    "title": info["title"],
                    "polarity": series.polarity,
                    "period": calendar.label(period),
                    "value": float(series.values[i]),
                    "mean": float(chart.mean[i]),
                    "lower_limit": float(chart.lower[i]),
                    "upper_limit": float(chart.upper[i]),
                    "variation": chart.variation[i].value,
                    "side": chart.side[i],
                    "rule": " ".join(r.value for r in chart.rules[i]),
                    "target": float(series.targets[i]),
                    "assurance": sure.value if sure is not None else "",
                }
            )
    return pd.DataFrame(rows, columns=SPC_COLUMNS)


@dataclass(frozen=True)
class Label:
    """What a report as at a period says of a measure's variation and assurance."""

    variation: spc.Variation
    side: str
    rules: tuple[spc.Rule, ...]
    assurance: spc.Assurance | None
    points: int  # how many points the chart had


def labels_as_at(
    dataset: Dataset,
    keys: Iterable[tuple[str, pd.Period]],
    series: dict[str, Series] | None = None,
) -> dict[tuple[str, pd.Period], Label]:
    """For each (measure, period): the label of its chart stopped at the period's end, when
    the chart's latest point falls in the period (a period without a figure has none).
    ``series``: the measures' points, where the caller has read them already."""
    wanted = list(dict.fromkeys(keys))
    run_length = dataset.config.spc_run_length
    out: dict[tuple[str, pd.Period], Label] = {}
    ids = np.empty(len(wanted), dtype=object)
    ids[:] = [m for m, _ in wanted]
    found, which, stops = _stops(dataset, ids, [p for _, p in wanted], series)
    for i in np.flatnonzero(stops).tolist():
        points = found[which[i]]
        assert points is not None  # a key with a label has a series
        latest = points.as_at_each(run_length)
        k = int(stops[i]) - 1
        out[wanted[i]] = Label(
            variation=latest.variation[k],
            side=latest.side[k],
            rules=latest.rules[k],
            assurance=latest.assurance(k, float(points.targets[k]), points.polarity),
            points=k + 1,
        )
    return out


def label_columns(
    dataset: Dataset,
    ids: np.ndarray,
    periods: Sequence[pd.Period] | pd.Series,
    series: dict[str, Series] | None = None,
) -> dict[str, np.ndarray]:
    """The scorecard's ``variation`` and ``assurance`` columns for these measures (ids) at
    these value periods, row by row; '' where a period has no label."""
    run_length = dataset.config.spc_run_length
    variation = np.full(len(ids), "", dtype=object)
    assurance = np.full(len(ids), "", dtype=object)
    found, which, stops = _stops(dataset, ids, periods, series)
    kept = [points for points in found if points is not None]
    if kept:
        # Every measure's words end to end; a key's word is at its measure's start + stop - 1.
        words = [points.label_words(run_length) for points in kept]
        said = np.concatenate([w[0] for w in words])
        sure = np.concatenate([w[1] for w in words])
        lengths = np.array([len(points.ends) if points is not None else 0 for points in found])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        at = np.flatnonzero(stops)
        picked = starts[which[at]] + stops[at] - 1
        variation[at] = said[picked]
        assurance[at] = sure[picked]
    return {"variation": variation, "assurance": assurance}


def draw_alike(wanted: Iterable[tuple[Series, int]], run_length: int) -> None:
    """Draw the charts :meth:`Series.chart` is about to be asked for (each series to its
    ``stop``), those of one length and one polarity at once (:func:`spc.xmr_alike`, the same
    charts): each series keeps its own. A series whose limits are recalculated, or held from
    a baseline, draws its own when asked."""
    groups: dict[tuple[int, str], list[Series]] = {}
    for series, stop in wanted:
        if (run_length, stop) not in series._charts and stop and series.one_stretch(stop):
            groups.setdefault((stop, series.polarity), []).append(series)
    for (stop, polarity), members in groups.items():
        if len(members) < 2:
            continue
        rows = np.array([series.values[:stop] for series in members])
        charts = spc.xmr_alike(rows, polarity, run_length=run_length)
        for series, chart in zip(members, charts, strict=True):
            series.keep_chart(run_length, stop, chart)


def read_alike(series: Iterable[Series], run_length: int) -> None:
    """Read the series that are alike - one length, one polarity, no recalculation and no
    baseline - together (:func:`spc.as_at_each_alike`): a council's measures mostly are."""
    groups: dict[tuple[int, str], list[Series]] = {}
    for one in series:
        if run_length in one._as_at or one.recalculate or one.baseline is not None:
            continue
        groups.setdefault((len(one.values), one.polarity), []).append(one)
    for (_, polarity), alike in groups.items():
        if len(alike) < 2:
            continue
        stacked = np.stack([one.values for one in alike])
        read = spc.as_at_each_alike(stacked, polarity, run_length=run_length)
        # Their words too, at once: each point's class and its target's assurance.
        said = spc.CLASS_VALUES[np.stack([latest.classes.special for latest in read])]
        targets = np.stack([one.targets for one in alike])
        lower = np.stack([latest.lower for latest in read])
        upper = np.stack([latest.upper for latest in read])
        sure = spc.ASSURANCE_VALUES[spc.assurance_codes(targets, lower, upper, polarity)]
        for i, (one, latest) in enumerate(zip(alike, read, strict=True)):
            one.keep_as_at(run_length, latest)
            one._words.setdefault(run_length, (said[i], sure[i]))


def _stops(
    dataset: Dataset,
    ids: np.ndarray,
    periods: Sequence[pd.Period] | pd.Series,
    series: dict[str, Series] | None,
) -> tuple[list[Series | None], np.ndarray, np.ndarray]:
    """For the measures (ids) at these periods, row by row: the measures' series (None for
    a measure without points), which of them each row's is, and how many points the chart
    stopped at the row's period has (the last point in or before the period, which must
    fall in it; 0 for no label). Found for every row at once: each measure's point ends,
    end to end, are searched together."""
    none = np.zeros(len(ids), dtype=np.int64)
    if not len(ids):
        return [], none, none
    calendar = dataset.calendar
    firsts, lasts = calendar.first_ordinals(periods), calendar.last_ordinals(periods)
    which, names = pd.factorize(ids)
    if series is None:
        series = measure_points(dataset, set(names.tolist()))
    found = [series.get(m) for m in names.tolist()]
    read_alike([s for s in found if s is not None], dataset.config.spc_run_length)
    ends = [s.ends for s in found if s is not None]
    if not ends:
        return found, which, none
    every = np.concatenate(ends)
    lengths = np.array([len(s.ends) if s is not None else 0 for s in found])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    # Sorted end to end: a measure's ends ascend, and each measure is lifted above the last.
    low = min(int(every.min()), int(lasts.min()))
    span = max(int(every.max()), int(lasts.max())) - low + 2
    lifted = np.repeat(np.arange(len(found), dtype=np.int64), lengths) * span + (every - low)
    position = np.searchsorted(lifted, which * span + (lasts - low), side="right")
    stops = position - starts[which]
    inside = stops > 0
    inside[inside] = every[position[inside] - 1] >= firsts[inside]
    return found, which, np.where(inside, stops, 0)


def with_labels(
    dataset: Dataset, rows: pd.DataFrame, series: dict[str, Series] | None = None
) -> pd.DataFrame:
    """Scorecard rows with their ``variation`` and ``assurance`` as at each row's value
    period (for rows rated with ``spc=False``)."""
    calendar = dataset.calendar
    periods = [calendar.parse(p) for p in rows["value_period"]]
    ids = rows["measure_id"].to_numpy(dtype=object)
    return rows.assign(**label_columns(dataset, ids, periods, series))
