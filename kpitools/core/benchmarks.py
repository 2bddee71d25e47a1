"""Benchmarking: where the council stands among its peers, measure by measure.

``benchmarks`` holds one row per peer council's value for a measure, period and peer group
(nearest neighbours, region, all England: the groups LG Inform compares with). For each
measure, period and peer group this works out:

- the council's own value: the group's row for the council itself (its area is the
  council's name, or its place name: ``Northfield`` for Northfield Borough Council, as LG
  Inform lists it among its comparators), else the council's own figure
  for that period from its values (a year summarised from its months by the measure's
  aggregation);
- the peers that reported (a peer row without a figure did not) and how many the group has
  (every area the file names for that measure and group, in any period);
- the peer median, and the council's **rank** among the council and the peers that reported
  (1 is best, by the measure's polarity; councils with the same value share a rank) and
  **quartile** (1 is the best quarter: rank r of n falls in quartile 1 + floor(4 (r - 1) / n)).

A neutral measure has no rank or quartile (nothing is better). Missing peers, a missing
council figure and a group too small to rank are said in ``note``, never hidden.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpitools.core.dataset import Dataset
from kpitools.core.model import Polarity
from kpitools.core.scorecard import rate

#: Fewest councils (the council and its peers that reported) a quartile is given for.
MIN_RANKED = 4

BENCHMARK_COLUMNS = [
    "measure_id", "period", "peer_group", "value", "peers", "peers_in_group", "peer_median",
    "peer_best", "peer_worst", "rank", "ranked", "quartile", "note",
]  # fmt: skip


@dataclass(frozen=True)
class Position:
    """The council among one peer group for one measure and period."""

    measure_id: str
    period: str  # the benchmark period's label
    peer_group: str
    value: float  # the council's own (NaN when it has none)
    peers: int  # peers that reported
    peers_in_group: int  # areas the group has
    peer_median: float
    peer_best: float
    peer_worst: float
    rank: int | None
    ranked: int  # councils ranked: the council and the peers that reported
    quartile: int | None
    note: str
    peer_values: tuple[tuple[str, float], ...] = ()  # (area, value) of the peers, best first

    @property
    def quartile_text(self) -> str:
        """``Quartile 1 of nearest neighbours (rank 2 of 11)``; '' without a quartile."""
        if self.quartile is None or self.rank is None:
            return ""
        return f"Quartile {self.quartile} of {self.peer_group} (rank {self.rank} of {self.ranked})"


def _key(text: str) -> str:
    return " ".join(text.lower().split())


_COUNCIL_WORDS = (
    "metropolitan borough council", "royal borough council", "borough council", "city council",
    "county council", "district council", "council",
)  # fmt: skip


def own_names(council: str) -> set[str]:
    """The names an export may give the council itself: ``Northfield Borough Council`` is
    also ``Northfield`` (LG Inform lists areas by place name)."""
    name = _key(council)
    names = {name}
    for words in _COUNCIL_WORDS:
        if name.endswith(" " + words):
            names.add(name[: -len(words) - 1].strip())
            break
    return names


def quartile(rank: int, ranked: int) -> int:
    """The quartile (1 best) of rank ``rank`` among ``ranked`` councils."""
    return min(4, 1 + (4 * (rank - 1)) // ranked)


def rank_of(value: float, peers: Iterable[float], polarity: Polarity | str) -> int:
    """The council's rank among itself and these peers (1 best; ties share a rank)."""
    better = [p for p in peers if (p > value if Polarity(polarity) is Polarity.UP else p < value)]
    return 1 + len(better)


def positions(
    dataset: Dataset, measures: Iterable[str] | None = None, upto: pd.Period | None = None
) -> list[Position]:
    """Every measure's position in every peer group and benchmark period (periods ending
    by ``upto``'s end only, when given), in data-dictionary, period and group order."""
    bench = dataset.benchmarks
    if bench.empty:
        return []
    calendar = dataset.calendar
    table = dataset.measures
    if measures is not None:
        wanted = set(measures)
        bench = bench[bench["measure_id"].isin(wanted)]
    bench = bench[bench["measure_id"].isin(table.index)]
    if upto is not None:
        end = calendar.last_month(upto)
        bench = bench[bench["period"].map(lambda p: calendar.last_month(p) <= end).astype(bool)]
    if bench.empty:
        return []
    own = own_names(dataset.config.council)
    group_sizes = {
        key: {_key(a) for a in frame["area"] if _key(a) not in own}
        for key, frame in bench.groupby(["measure_id", "peer_group"], sort=False)
    }
    figures = _own_figures(dataset, bench)
    order = {m: i for i, m in enumerate(table.index)}
    out = []
    keyed = bench.assign(
        _order=bench["measure_id"].map(order),
        _end=[calendar.last_month(p).ordinal for p in bench["period"]],
    ).sort_values(["_order", "_end", "peer_group"], kind="stable")
    polarities = table["polarity"].astype(str).to_dict()
    for (measure_id, _, group), frame in keyed.groupby(
        ["measure_id", "_end", "peer_group"], sort=False
    ):
        period = frame["period"].iloc[0]
        polarity = Polarity(polarities[str(measure_id)])
        own_rows = frame[frame["area"].map(lambda a: _key(a) in own).astype(bool)]
        peer_rows = frame.drop(own_rows.index)
        if not own_rows.empty and not math.isnan(float(own_rows["value"].iloc[0])):
            value = float(own_rows["value"].iloc[0])
        else:
            value = figures.get((str(measure_id), period), math.nan)
        reported = peer_rows[peer_rows["value"].notna()]
        peer_values = reported["value"].to_numpy(dtype=float)
        size = len(group_sizes[(measure_id, group)])
        label = calendar.label(period)
        notes = []
        if len(reported) < size:
            notes.append(f"{len(reported)} of {size} peers ({group}) reported for {label}")
        if math.isnan(value):
            notes.append(f"no council figure for {label}")
        rank = ranked = 0
        quart = None
        if polarity is Polarity.NEUTRAL:
            notes.append("not ranked: the measure's direction is not judged")
        elif not math.isnan(value):
            ranked = len(peer_values) + 1
            rank = rank_of(value, peer_values, polarity)
            if ranked >= MIN_RANKED:
                quart = quartile(rank, ranked)
            else:
                notes.append(f"too few councils to give a quartile ({ranked})")
        best_first = sorted(
            zip(reported["area"], peer_values.tolist(), strict=True),
            key=lambda item: -item[1] if polarity is not Polarity.DOWN else item[1],
        )
        out.append(
            Position(
                measure_id=str(measure_id),
                period=label,
                peer_group=str(group),
                value=value,
                peers=len(reported),
                peers_in_group=size,
                peer_median=float(np.median(peer_values)) if len(peer_values) else math.nan,
                peer_best=_extreme(peer_values, polarity, best=True),
                peer_worst=_extreme(peer_values, polarity, best=False),
                rank=rank or None,
                ranked=ranked,
                quartile=quart,
                note="; ".join(notes),
                peer_values=tuple((str(a), float(v)) for a, v in best_first),
            )
        )
    return out


def _extreme(values: np.ndarray, polarity: Polarity, *, best: bool) -> float:
    if not len(values) or polarity is Polarity.NEUTRAL:
        return math.nan
    high = (polarity is Polarity.UP) == best
    return float(values.max() if high else values.min())


def _own_figures(dataset: Dataset, bench: pd.DataFrame) -> dict[tuple[str, pd.Period], float]:
    """The council's own figure for each benchmarked measure and period, from its values:
    the period as supplied, else summarised to it as the scorecard does."""
    calendar = dataset.calendar
    out: dict[tuple[str, pd.Period], float] = {}
    pairs = set(zip(bench["measure_id"], bench["period"], strict=True))
    by_granularity: dict[object, set[str]] = {}
    for measure_id, period in pairs:
        by_granularity.setdefault(calendar.granularity(period), set()).add(str(measure_id))
    for granularity, ids in by_granularity.items():
        rows = rate(dataset, by=granularity, measures=ids, spc=False)  # type: ignore[arg-type]
        own = rows[rows["value_period"] == rows["period"]]
        for measure_id, label, value in zip(
            own["measure_id"], own["period"], own["value"].astype(float), strict=True
        ):
            out[(str(measure_id), calendar.parse(str(label)))] = float(value)
    return {k: v for k, v in out.items() if k in pairs}


def benchmark_table(dataset: Dataset, measures: Iterable[str] | None = None) -> pd.DataFrame:
    """Every position as a row: columns :data:`BENCHMARK_COLUMNS`."""
    rows = [
        {column: getattr(p, column) for column in BENCHMARK_COLUMNS}
        for p in positions(dataset, measures)
    ]
    frame = pd.DataFrame(rows, columns=BENCHMARK_COLUMNS)
    for column in ("rank", "quartile"):
        frame[column] = frame[column].astype("Int64")
    return frame
