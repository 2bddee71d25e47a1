"""Contract KPIs: abatement points and service credits, month by month.

An outsourcing contract gives each of its KPIs abatement points (the data dictionary's
``abatement_points``: 10 to 50 of a contract's 1,000, say). Each month a KPI is rated as
the scorecard rates it (TSL and MSL; a changed rating counts as changed), and:

- at TSL (green): no points;
- below TSL - at MSL only (amber) or below MSL (red) - it **fails**: its points, multiplied
  by 1.5 in the second consecutive failing month and by 2.0 from the third;
- data due but not available (or a month with no figure at all) fails too, with full
  points: "data not available" counts as a failure in contract reporting;
- mitigated (blue): no points, and the month is not a failure, so a failing month after it
  starts a new run (x1 again);
- pending (a figure expected later): no points yet, and the run is judged when the figure
  comes: a pending month neither fails nor ends a run.

Points convert into service credits at the service's ``service_credit_per_point`` (pounds
per point, from the council configuration), deducted from the monthly payment.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from kpitools.core.dataset import Dataset
from kpitools.core.model import RAG, Status
from kpitools.core.periods import Granularity
from kpitools.core.scorecard import rate

#: Multiplier by position in a run of consecutive failing months (1st, 2nd, 3rd and after).
MULTIPLIERS = (1.0, 1.5, 2.0)

#: How each month stands, in the summary's order.
LEVELS = ("at_tsl", "at_msl", "below_msl", "not_available", "mitigated", "pending")
LEVEL_WORDS = {
    "at_tsl": "At TSL",
    "at_msl": "At MSL only",
    "below_msl": "Below MSL",
    "not_available": "Not available",
    "mitigated": "Mitigated",
    "pending": "Pending",
}

ABATEMENT_COLUMNS = [
    "service", "measure_id", "title", "month", "value", "rag", "level", "failing", "run",
    "multiplier", "points", "abatement", "credit",
]  # fmt: skip
SUMMARY_COLUMNS = ["service", "month", *LEVELS, "abatement", "credit"]


def multiplier(run: int) -> float:
    """The multiplier of the ``run``-th consecutive failing month (0: not failing)."""
    if run <= 0:
        return 0.0
    return MULTIPLIERS[min(run, len(MULTIPLIERS)) - 1]


def level_of(rag: str, status: str) -> str:
    """How a contract month stands, from its rating and status."""
    if status == Status.MITIGATED.value or rag == RAG.BLUE.value:
        return "mitigated"
    if status in (Status.NOT_AVAILABLE.value, Status.MISSING.value):
        return "not_available"
    if status == Status.PENDING.value and rag == RAG.WHITE.value:
        return "pending"
    return {RAG.GREEN.value: "at_tsl", RAG.AMBER.value: "at_msl", RAG.RED.value: "below_msl"}.get(
        rag, "pending"
    )


def runs(levels: Iterable[str]) -> list[int]:
    """Each month's place in its run of consecutive failing months (0 for a month that does
    not fail): at TSL and mitigated end a run, pending leaves it as it is."""
    out = []
    run = 0
    for level in levels:
        if level in ("at_msl", "below_msl", "not_available"):
            run += 1
            out.append(run)
        elif level == "pending":
            out.append(0)
        else:
            run = 0
            out.append(0)
    return out


def contract_measures(dataset: Dataset, services: Iterable[str] | None = None) -> list[str]:
    """The measures with abatement points, in data-dictionary order."""
    found = dataset.remembered(_CONTRACT_MEASURES, lambda: _contract_measures(dataset),
                               ("measures",))  # fmt: skip
    if services is None:
        return [measure_id for measure_id, _ in found]
    wanted = set(services)
    return [measure_id for measure_id, service in found if service in wanted]


_CONTRACT_MEASURES = ("contract measures",)


def _contract_measures(dataset: Dataset) -> list[tuple[str, str]]:
    """The measures with abatement points and their services, in data-dictionary order:
    worked out once for every report of the council."""
    measures = dataset.measures
    if "abatement_points" not in measures:
        return []
    chosen = measures[measures["abatement_points"].astype(float) > 0]
    return [(str(m), str(s)) for m, s in zip(chosen.index, chosen["service"], strict=True)]


def abatements(
    dataset: Dataset, services: Iterable[str] | None = None, upto: pd.Period | None = None
) -> pd.DataFrame:
    """Every contract KPI's months (to ``upto``'s end, when given): level, run, multiplier,
    points and credit. Columns :data:`ABATEMENT_COLUMNS`."""
    ids = contract_measures(dataset, services)
    if not ids:
        return pd.DataFrame(columns=ABATEMENT_COLUMNS)
    calendar = dataset.calendar
    rows = rate(dataset, by=Granularity.MONTH, measures=ids, spc=False)
    rows = rows[rows["value_period"] == rows["period"]]
    if upto is not None:
        end = calendar.last_month(upto)
        rows = rows[rows["period"].map(lambda p: calendar.parse(p) <= end).astype(bool)]
    measures = dataset.measures
    credits = {
        name: dataset.config.service(name).service_credit_per_point
        for name in measures["service"].unique()
    }
    out = []
    own_points = measures["abatement_points"].astype(float).to_dict()
    for measure_id, group in rows.groupby("measure_id", sort=False):
        info = measures.loc[str(measure_id)]
        points = own_points[str(measure_id)]
        levels = [level_of(r, s) for r, s in zip(group["rag"], group["status"], strict=True)]
        for (month, value, rag), level, run in zip(
            zip(group["period"], group["value"], group["rag"], strict=True),
            levels,
            runs(levels),
            strict=True,
        ):
            factor = multiplier(run)
            abated = points * factor
            out.append(
                {
                    "service": info["service"],
                    "measure_id": measure_id,
                    "title": info["title"],
                    "month": month,
                    "value": value,
                    "rag": rag,
                    "level": level,
                    "failing": run > 0,
                    "run": run,
                    "multiplier": factor,
                    "points": points,
                    "abatement": abated,
                    "credit": abated * credits[str(info["service"])],
                }
            )
    return pd.DataFrame(out, columns=ABATEMENT_COLUMNS)


def contract_summary(months: pd.DataFrame) -> pd.DataFrame:
    """Per service and month: how many KPIs stood at each level, the points and the credit.
    Columns :data:`SUMMARY_COLUMNS`."""
    if months.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    counts = pd.crosstab([months["service"], months["month"]], months["level"])
    for level in LEVELS:
        if level not in counts:
            counts[level] = 0
    totals = months.groupby(["service", "month"])[["abatement", "credit"]].sum()
    summary = counts[list(LEVELS)].join(totals).reset_index()
    order = {s: i for i, s in enumerate(dict.fromkeys(months["service"]))}
    summary = summary.assign(_o=summary["service"].map(order)).sort_values(
        ["_o", "month"], kind="stable"
    )
    return summary.drop(columns="_o").reset_index(drop=True)[SUMMARY_COLUMNS]
