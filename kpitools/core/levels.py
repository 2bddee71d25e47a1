"""The levels a measure is judged against in a month: its target, TSL and MSL, from the data
dictionary or a ``targets`` row covering that month."""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVELS = ["target", "tsl", "msl"]


def measure_positions(measures: pd.DataFrame, measure_ids: pd.Series) -> np.ndarray:
    """Each id's row in the data dictionary.

    Raises:
        KeyError: an id the data dictionary does not have (named).
    """
    ids = measure_ids.to_numpy(dtype=object)
    positions = measures.index.get_indexer(pd.Index(ids))
    if (positions < 0).any():
        unknown = sorted(set(ids[positions < 0].tolist()))
        raise KeyError(f"measures not in the data dictionary: {unknown}")
    return positions


def levels_at(
    measures: pd.DataFrame,
    targets: pd.DataFrame,
    measure_ids: pd.Series,
    months: pd.Series,
    positions: np.ndarray | None = None,
) -> pd.DataFrame:
    """Target, TSL and MSL in force for each (measure, month ordinal) pair.

    A ``targets`` row covering the month overrides the measure's own levels it gives.
    ``positions``: the measures' rows in ``measures``, where the caller has them.
    """
    ids = measure_ids.to_numpy()
    if positions is None:
        positions = measure_positions(measures, measure_ids)
    own = measures[LEVELS].astype(float).to_numpy()
    result = pd.DataFrame(np.take(own, positions, axis=0), columns=LEVELS)
    if not targets.empty:
        ranges = targets.assign(
            _start=[p.ordinal for p in targets["start"]],
            _stop=[np.iinfo(np.int64).max if pd.isna(p) else p.ordinal for p in targets["end"]],
        )
        lookup = pd.DataFrame(
            {"measure_id": ids, "_month": months.to_numpy(), "_i": range(len(ids))}
        )
        hits = lookup.merge(ranges, on="measure_id")
        hits = hits[(hits["_start"] <= hits["_month"]) & (hits["_month"] <= hits["_stop"])]
        for column in LEVELS:
            given = hits.loc[hits[column].notna(), ["_i", column]]
            result.loc[given["_i"].to_numpy(), column] = given[column].to_numpy(dtype=float)
    result.index = measure_ids.index
    return result
