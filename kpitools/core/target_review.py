"""Target review: targets a measure keeps beating by a wide margin, or keeps missing.

On the quarterly scorecard up to a period (the measure's own quarters: a monthly measure's
quarters summarised as the scorecard does, a quarterly measure's own), counted back from
the latest quarter:

- beaten by the council's ``target_review_margin`` or more (10% better than the target or
  TSL by default, by the measure's polarity) for ``target_review_quarters`` quarters running
  (4 by default): **consider a more ambitious target**;
- missed (worse than the target or TSL) for as many quarters running: **review the target,
  the measure or the resources**.

A quarter with no figure, mitigated or not rated ends the run. Annual measures, and measures
without a target or direction, are not reviewed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpitools.core.dataset import Dataset, groups_of
from kpitools.core.model import Polarity, Status
from kpitools.core.periods import Granularity
from kpitools.core.scorecard import rate

AMBITIOUS = "ambitious"
REVIEW = "review"
WORDS = {
    AMBITIOUS: "Consider a more ambitious target",
    REVIEW: "Review the target, the measure or the resources",
}


@dataclass(frozen=True)
class TargetReview:
    """A measure whose target should be looked at again."""

    measure_id: str
    kind: str  # ambitious or review
    quarters: int  # quarters running, to the latest
    text: str  # the flag and why, in a sentence


def target_reviews(
    dataset: Dataset,
    upto: pd.Period | None = None,
    services: Iterable[str] | None = None,
    quarterly: pd.DataFrame | None = None,
) -> dict[str, TargetReview]:
    """The measures to review as at ``upto`` (its quarter; the latest when None).

    ``quarterly``: the services' quarterly scorecard, where the caller has it already.
    """
    config = dataset.config
    need, margin = config.target_review_quarters, config.target_review_margin
    rows = (
        quarterly
        if quarterly is not None
        else rate(dataset, by=Granularity.QUARTER, services=services, spc=False)
    )
    keep = ((rows["value_period"] == rows["period"]) & (rows["frequency"] != "annual")).to_numpy()
    if upto is not None:
        calendar = dataset.calendar
        end = calendar.last_month(upto)
        # Each distinct period's last month found once, not once a row.
        ends = {p: calendar.last_month(calendar.parse(p)) <= end for p in rows["period"].unique()}
        keep = keep & rows["period"].map(ends).to_numpy(dtype=bool)
    # Plain arrays of the rows kept (the columns read, not the whole frame taken).
    variance = rows["variance_pct"].to_numpy(dtype=float)[keep]
    statuses = rows["status"].to_numpy(dtype=object)[keep]
    polarities = rows["polarity"].to_numpy(dtype=object)[keep]
    ids = rows["measure_id"].to_numpy(dtype=object)[keep]
    # Each measure's rows by position (in order), by first appearance; its polarity is its
    # first row's.
    codes, uniques, order, bounds = groups_of(ids)
    order_list = order.tolist()
    firsts = order[bounds[:-1]] if len(uniques) else np.zeros(0, dtype=np.intp)
    up = polarities[firsts] == Polarity.UP.value
    # Each row's part in a run: beaten by the margin, missed, or neither (''); a row without
    # a figure, mitigated or not rated is neither.
    sign = np.where(up[np.maximum(codes, 0)], 1.0, -1.0) if len(uniques) else np.ones(len(ids))
    with np.errstate(invalid="ignore"):
        favourable = sign * variance
        rated = ~np.isnan(favourable) & np.isin(
            statuses, [Status.REPORTED.value, Status.PENDING.value]
        )
        beaten = rated & (favourable >= margin - 1e-12)
        missed = rated & ~beaten & (favourable < 0)
    kind_of = np.where(beaten, AMBITIOUS, np.where(missed, REVIEW, "")).tolist()
    out = {}
    for k, measure_id in enumerate(uniques):
        positions = order_list[bounds[k] : bounds[k + 1]]
        polarity = Polarity(str(polarities[positions[0]]))
        if polarity is Polarity.NEUTRAL:
            continue
        kinds = [kind_of[i] for i in positions]
        latest = kinds[-1] if kinds else ""
        if not latest:
            continue
        running = 0
        for kind in reversed(kinds):
            if kind != latest:
                break
            running += 1
        if running < need:
            continue
        why = (
            f"{margin:.0%} or more better than target for {running} quarters running"
            if latest == AMBITIOUS
            else f"worse than target for {running} quarters running"
        )
        out[str(measure_id)] = TargetReview(
            measure_id=str(measure_id),
            kind=latest,
            quarters=running,
            text=f"{WORDS[latest]}: {why}",
        )
    return out
