"""Generate the bundled example council: Northfield Borough Council (fictional).

Run ``python data/make_example.py data/example`` (or ``make example``). The output is the same
every time: values come from a fixed seed through Python's own ``random``, whose sequence is
stable across Python versions, and files are written with fixed formatting.

The data tells stories a performance team will recognise, all visible in the latest quarter
(2024/25 Q1, April-June 2024):

* Adult Social Care is recovering: red through 2023/24, amber in Q4, green now.
* Children's Services is deteriorating: assessments on time worse for three quarters running,
  now red and flagged as a corporate risk.
* Finance is stuck at amber: collection rates just short of target for over a year.
* Waste & Environment consistently beats its recycling target (time to raise it?).
* ICT & Digital is an outsourced contract rated on TSL/MSL, with a TSL rebased from July 2023,
  three months mitigated while a new service desk system went live, figures not supplied for
  February 2024, a disputed score changed from red to amber, and June 2024 figures still awaited.
* Customer Services has a digital take-up target that rises every half year.
"""

from __future__ import annotations

import csv
import io
import itertools
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

SEED = 20240630
FIRST_YEAR, FIRST_MONTH = 2021, 4  # April 2021
MONTHS = 39  # to June 2024
LATEST_QUARTER = "2024/25 Q1"

SERVICES = {
    "CSC": ("Customer Services", "Director of Customer and Digital", 0.0),
    "IMT": ("ICT & Digital", "Head of ICT Contract", 0.0),
    "ASC": ("Adult Social Care", "Director of Adult Social Care", 0.0),
    "CHS": ("Children's Services", "Director of Children's Services", -1.0),
    "FIN": ("Finance", "Director of Finance", -0.4),
    "WST": ("Waste & Environment", "Director of Environment", 1.0),
}


@dataclass
class Spec:
    """One measure of the example council and how its values move."""

    measure_id: str
    service: str
    title: str
    category: str
    polarity: str
    unit: str
    frequency: str = "monthly"
    aggregation: str = "last"
    target: float | None = None
    tsl: float | None = None
    msl: float | None = None
    tolerance: float | None = None
    knots: list[tuple[int, float]] = field(default_factory=list)
    noise: float = 0.0
    decimals: int = 1
    denominator: tuple[int, int] | None = None  # (mean, spread) for ratio measures
    include: bool = True
    seasonal: bool = False
    description: str = ""
    polarity_word: str | None = None  # how the council's own sheet spells polarity
    abatement_points: int = 0  # a contract KPI's share of the contract's points


def month_label(t: int) -> str:
    year, month = divmod(FIRST_MONTH - 1 + t, 12)
    return f"{FIRST_YEAR + year:04d}-{month + 1:02d}"


def quarter_label(t: int) -> str:
    """The financial quarter holding month index t."""
    months_in = FIRST_MONTH - 4 + t  # months since April of the first year
    year = FIRST_YEAR + months_in // 12
    return f"{year}/{(year + 1) % 100:02d} Q{months_in % 12 // 3 + 1}"


def year_label(t: int) -> str:
    year = FIRST_YEAR + (FIRST_MONTH - 4 + t) // 12
    return f"{year}/{(year + 1) % 100:02d}"


def shape(knots: list[tuple[int, float]], t: int) -> float:
    """Piecewise-linear path through the knots."""
    if t <= knots[0][0]:
        return knots[0][1]
    for (t0, v0), (t1, v1) in itertools.pairwise(knots):
        if t0 <= t <= t1:
            return v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return knots[-1][1]


# -- the data dictionary -------------------------------------------------------------------
def common_measures(prefix: str, health: float) -> list[Spec]:
    """Workforce, customer and finance measures every service reports."""
    service = SERVICES[prefix][0]
    h = health
    return [
        Spec(
            f"{prefix}_WF_01",
            service,
            "Sickness absence: days lost per FTE (rolling 12 months)",
            "workforce",
            "down",
            "days",
            target=8.5,
            knots=[(0, 9.4), (20, 8.9), (38, 8.7 - 0.6 * h)],
            noise=0.15,
            polarity_word="Smaller is better",
        ),
        Spec(
            f"{prefix}_WF_02",
            service,
            "Staff turnover (rolling 12 months)",
            "workforce",
            "down",
            "percent",
            frequency="quarterly",
            target=12.0,
            knots=[(0, 13.0), (20, 12.4), (38, 12.2 - 1.2 * h)],
            noise=0.3,
        ),
        Spec(
            f"{prefix}_CX_01",
            service,
            "Complaints responded to within 20 working days",
            "customer",
            "up",
            "percent",
            aggregation="ratio",
            target=90.0,
            knots=[(0, 86.0), (18, 89.0), (38, 90.0 + 3.0 * h)],
            noise=1.2,
            denominator=(40, 12),
            polarity_word="Up is Good",
        ),
        Spec(
            f"{prefix}_FN_01",
            service,
            "Forecast outturn as a share of budget",
            "finance",
            "down",
            "percent",
            target=100.0,
            tolerance=0.01,
            knots=[(0, 100.4), (24, 100.9), (38, 100.6 - 0.9 * h)],
            noise=0.2,
        ),
        Spec(
            f"{prefix}_FN_02",
            service,
            "Undisputed invoices paid within 30 days",
            "finance",
            "up",
            "percent",
            aggregation="ratio",
            target=95.0,
            knots=[(0, 93.0), (38, 95.5 + 1.0 * h)],
            noise=0.8,
            denominator=(320, 60),
            polarity_word="Bigger",
        ),
    ]


def service_measures() -> list[Spec]:
    csc, imt, asc, chs, fin, wst = (SERVICES[p][0] for p in SERVICES)
    return [
        # Customer Services: contact centre on service levels, digital take-up on a rising target.
        Spec(
            "CSC_KPI_01",
            csc,
            "Calls abandoned",
            "customer",
            "down",
            "percent",
            aggregation="ratio",
            tsl=7.0,
            msl=10.0,
            knots=[(0, 9.5), (12, 7.8), (26, 6.4), (32, 8.6), (38, 7.4)],
            noise=0.7,
            denominator=(3000, 300),
            polarity_word="Up is Bad",
        ),
        Spec(
            "CSC_KPI_02",
            csc,
            "Calls answered within 60 seconds",
            "customer",
            "up",
            "percent",
            aggregation="ratio",
            tsl=80.0,
            msl=70.0,
            knots=[(0, 71.0), (14, 78.0), (30, 81.0), (38, 79.0)],
            noise=1.5,
            denominator=(3000, 300),
        ),
        Spec(
            "CSC_KPI_03",
            csc,
            "Transactions completed online (digital take-up)",
            "performance",
            "up",
            "percent",
            target=50.0,
            knots=[(0, 47.0), (38, 64.0)],
            noise=0.8,
            description="Target rises every six months as more services move online.",
        ),
        Spec(
            "CSC_KPI_04",
            csc,
            "Residents satisfied with the council (annual survey)",
            "customer",
            "up",
            "percent",
            frequency="annual",
            target=75.0,
            knots=[(0, 71.0), (38, 73.5)],
            noise=0.5,
        ),
        Spec(
            "CSC_KPI_05",
            csc,
            "Face-to-face visits to customer service centres",
            "customer",
            "neutral",
            "count",
            aggregation="sum",
            knots=[(0, 6200), (38, 4100)],
            noise=250,
            decimals=0,
            include=False,
            description="Monitored, not judged: visits fall as services move online.",
        ),
        Spec(
            "CSC_KPI_06",
            csc,
            "Enquiries resolved at first contact",
            "customer",
            "up",
            "percent",
            frequency="quarterly",
            target=70.0,
            knots=[(0, 64.0), (38, 71.5)],
            noise=1.0,
        ),
        # ICT & Digital: outsourced contract on TSL/MSL, monthly.
        Spec(
            "IMT_KPI_01",
            imt,
            "Priority 1 incidents resolved within 4 hours",
            "performance",
            "up",
            "percent",
            tsl=95.0,
            msl=90.0,
            knots=[(0, 93.0), (20, 96.0), (38, 96.5)],
            noise=1.6,
            abatement_points=50,
        ),
        Spec(
            "IMT_KPI_02",
            imt,
            "Service desk calls answered within 30 seconds",
            "customer",
            "up",
            "percent",
            tsl=85.0,
            msl=75.0,
            knots=[(0, 84.0), (29, 86.0), (31, 66.0), (34, 82.0), (38, 87.0)],
            noise=1.5,
            abatement_points=40,
        ),
        Spec(
            "IMT_KPI_03",
            imt,
            "Availability of core business systems",
            "performance",
            "up",
            "percent",
            tsl=99.5,
            msl=99.0,
            knots=[(0, 99.6), (38, 99.7)],
            noise=0.25,
            decimals=2,
            abatement_points=50,
        ),
        Spec(
            "IMT_KPI_04",
            imt,
            "Service requests fulfilled within agreed time",
            "performance",
            "up",
            "percent",
            tsl=90.0,
            msl=85.0,
            knots=[(0, 88.0), (38, 91.0)],
            noise=2.0,
            abatement_points=30,
        ),
        Spec(
            "IMT_KPI_05",
            imt,
            "Service desk calls abandoned",
            "customer",
            "down",
            "percent",
            aggregation="ratio",
            tsl=7.0,
            msl=10.0,
            knots=[(0, 8.0), (38, 6.0)],
            noise=1.0,
            denominator=(2200, 250),
            abatement_points=20,
        ),
        Spec(
            "IMT_KPI_06",
            imt,
            "Critical security patches applied within 14 days",
            "performance",
            "up",
            "percent",
            tsl=95.0,
            msl=90.0,
            knots=[(0, 92.0), (30, 96.0), (36, 89.0), (38, 94.0)],
            noise=1.0,
            abatement_points=40,
        ),
        # Adult Social Care: recovering.
        Spec(
            "ASC_KPI_01",
            asc,
            "Care Act assessments completed within 28 days",
            "performance",
            "up",
            "percent",
            aggregation="ratio",
            target=85.0,
            knots=[(0, 84.0), (18, 80.0), (27, 66.0), (31, 72.0), (34, 82.0), (38, 87.5)],
            noise=0.6,
            denominator=(260, 30),
        ),
        Spec(
            "ASC_KPI_02",
            asc,
            "Average days from referral to service starting",
            "performance",
            "down",
            "days",
            aggregation="mean",
            target=21.0,
            knots=[(0, 20.0), (20, 24.0), (28, 29.0), (33, 23.0), (38, 19.5)],
            noise=0.6,
        ),
        Spec(
            "ASC_KPI_03",
            asc,
            "Care package reviews completed on time",
            "performance",
            "up",
            "percent",
            aggregation="ratio",
            target=80.0,
            knots=[(0, 78.0), (26, 64.0), (32, 74.0), (38, 81.5)],
            noise=0.8,
            denominator=(180, 25),
        ),
        Spec(
            "ASC_KPI_04",
            asc,
            "Permanent admissions to care homes, 65+ (per 100,000)",
            "performance",
            "down",
            "number",
            frequency="quarterly",
            target=150.0,
            knots=[(0, 160.0), (24, 172.0), (38, 146.0)],
            noise=3.0,
        ),
        Spec(
            "ASC_KPI_05",
            asc,
            "Days of delayed transfer of care from hospital",
            "performance",
            "down",
            "count",
            aggregation="sum",
            target=300.0,
            knots=[(0, 280.0), (24, 360.0), (38, 270.0)],
            noise=18,
            decimals=0,
            seasonal=True,
        ),
        Spec(
            "ASC_KPI_06",
            asc,
            "Safeguarding enquiries concluded within 3 months",
            "performance",
            "up",
            "percent",
            frequency="quarterly",
            target=75.0,
            knots=[(0, 74.0), (26, 68.0), (38, 78.0)],
            noise=1.0,
        ),
        # Children's Services: deteriorating.
        Spec(
            "CHS_KPI_01",
            chs,
            "Child and family assessments completed within 45 working days",
            "performance",
            "up",
            "percent",
            aggregation="ratio",
            target=85.0,
            knots=[
                (0, 88.0),
                (24, 88.0),
                (26, 87.5),
                (29, 84.0),
                (32, 81.0),
                (35, 78.0),
                (38, 73.5),
            ],
            noise=0.4,
            denominator=(310, 30),
        ),
        Spec(
            "CHS_KPI_02",
            chs,
            "Re-referrals to children's social care within 12 months",
            "performance",
            "down",
            "percent",
            aggregation="ratio",
            target=22.0,
            knots=[(0, 21.0), (26, 21.5), (29, 22.6), (32, 23.4), (35, 24.3), (38, 25.0)],
            noise=0.25,
            denominator=(420, 40),
        ),
        Spec(
            "CHS_KPI_03",
            chs,
            "Children in care with three or more placements in the year",
            "performance",
            "down",
            "percent",
            frequency="quarterly",
            target=10.0,
            knots=[(0, 9.0), (38, 10.4)],
            noise=0.3,
        ),
        Spec(
            "CHS_KPI_04",
            chs,
            "EHC plans issued within 20 weeks",
            "performance",
            "up",
            "percent",
            aggregation="ratio",
            target=60.0,
            knots=[(0, 52.0), (20, 58.0), (38, 55.0)],
            noise=2.5,
            denominator=(45, 10),
        ),
        Spec(
            "CHS_KPI_05",
            chs,
            "Pupil attendance in council-maintained schools",
            "performance",
            "up",
            "percent",
            frequency="termly",
            target=94.0,
            knots=[(0, 93.0), (38, 93.6)],
            noise=0.3,
        ),
        Spec(
            "CHS_KPI_06",
            chs,
            "Social worker vacancy rate",
            "workforce",
            "down",
            "percent",
            target=15.0,
            knots=[(0, 14.0), (24, 15.0), (27, 21.5), (38, 16.8)],
            noise=0.5,
        ),
        # Finance: stuck at amber.
        Spec(
            "FIN_KPI_01",
            fin,
            "Council tax collected (rolling 12 months)",
            "finance",
            "up",
            "percent",
            target=97.5,
            knots=[(0, 97.2), (20, 96.6), (38, 96.4)],
            noise=0.12,
            decimals=2,
        ),
        Spec(
            "FIN_KPI_02",
            fin,
            "Business rates collected (rolling 12 months)",
            "finance",
            "up",
            "percent",
            target=98.0,
            knots=[(0, 98.3), (24, 97.4), (38, 97.2)],
            noise=0.1,
            decimals=2,
        ),
        Spec(
            "FIN_KPI_03",
            fin,
            "Sundry debt over 90 days old",
            "finance",
            "down",
            "currency",
            target=1_200_000,
            knots=[(0, 1_150_000), (38, 1_230_000)],
            noise=25_000,
            decimals=0,
        ),
        Spec(
            "FIN_KPI_04",
            fin,
            "Savings delivered against the savings plan",
            "finance",
            "up",
            "percent",
            frequency="quarterly",
            target=100.0,
            knots=[(0, 98.0), (30, 96.0), (38, 91.0)],
            noise=1.0,
        ),
        Spec(
            "FIN_KPI_05",
            fin,
            "Days to process new Housing Benefit claims",
            "performance",
            "down",
            "days",
            aggregation="mean",
            target=20.0,
            knots=[(0, 21.0), (38, 20.6)],
            noise=0.3,
        ),
        Spec(
            "FIN_KPI_06",
            fin,
            "Payroll paid accurately",
            "finance",
            "up",
            "percent",
            target=99.5,
            tolerance=0.005,
            knots=[(0, 99.6), (38, 99.7)],
            noise=0.1,
            decimals=2,
        ),
        # Waste & Environment: consistently beating the recycling target.
        Spec(
            "WST_KPI_01",
            wst,
            "Household waste recycled, reused or composted",
            "performance",
            "up",
            "percent",
            target=50.0,
            knots=[(0, 54.0), (38, 57.5)],
            noise=0.8,
            seasonal=True,
        ),
        Spec(
            "WST_KPI_02",
            wst,
            "Missed bin collections",
            "customer",
            "down",
            "count",
            aggregation="sum",
            target=250.0,
            knots=[(0, 240.0), (38, 190.0)],
            noise=20,
            decimals=0,
        ),
        Spec(
            "WST_KPI_03",
            wst,
            "Fly-tips removed within 2 working days",
            "performance",
            "up",
            "percent",
            aggregation="ratio",
            target=90.0,
            knots=[(0, 91.0), (38, 94.0)],
            noise=1.2,
            denominator=(150, 30),
        ),
        Spec(
            "WST_KPI_04",
            wst,
            "Residual household waste per household (kg)",
            "performance",
            "down",
            "number",
            frequency="quarterly",
            target=120.0,
            knots=[(0, 118.0), (38, 108.0)],
            noise=1.5,
        ),
        Spec(
            "WST_KPI_05",
            wst,
            "Streets meeting the cleanliness standard",
            "performance",
            "up",
            "percent",
            frequency="quarterly",
            target=92.0,
            knots=[(0, 93.0), (38, 95.0)],
            noise=0.8,
        ),
        Spec(
            "WST_KPI_06",
            wst,
            "Refuse fleet vehicles available",
            "performance",
            "up",
            "percent",
            tsl=95.0,
            msl=90.0,
            knots=[(0, 96.0), (38, 97.0)],
            noise=1.0,
        ),
        Spec(
            "WST_KPI_07",
            wst,
            "Public electric vehicle charge points installed",
            "performance",
            "up",
            "count",
            frequency="quarterly",
            aggregation="last",
            knots=[(0, 20.0), (38, 145.0)],
            noise=0,
            decimals=0,
            description="New measure: target being set with the climate programme board.",
        ),
    ]


def all_specs() -> list[Spec]:
    specs = service_measures()
    for prefix, (_, _, health) in SERVICES.items():
        specs += common_measures(prefix, health)
    order = list(SERVICES)
    return sorted(specs, key=lambda s: (order.index(s.measure_id[:3]), s.measure_id))


# -- values ----------------------------------------------------------------------------------
def periods_for(spec: Spec) -> list[tuple[str, int]]:
    """(period label, month index of its last month) for each period the measure reports."""
    if spec.frequency == "monthly":
        return [(month_label(t), t) for t in range(MONTHS)]
    if spec.frequency == "annual":  # results for completed years only
        return [(year_label(t), t) for t in range(11, MONTHS, 12)]
    quarters = [(quarter_label(t), t) for t in range(2, MONTHS, 3)]
    if spec.frequency == "termly":  # no summer-holiday quarter (Q2)
        return [(label, t) for label, t in quarters if not label.endswith("Q2")]
    return quarters


def fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def make_values(specs: list[Spec], rng: random.Random) -> list[dict[str, str]]:
    rows = []
    for spec in specs:
        for period, t in periods_for(spec):
            level = (
                shape(spec.knots, t) + rng.gauss(0, spec.noise)
                if spec.noise
                else shape(spec.knots, t)
            )
            row = {"measure_id": spec.measure_id, "period": period, "value": "", "numerator": "",
                   "denominator": "", "status": "", "note": "", "flag": "", "restated_from": "",
                   "rag_override": ""}  # fmt: skip
            if spec.denominator:
                mean, spread = spec.denominator
                denominator = max(5, round(rng.gauss(mean, spread / 3)))
                numerator = round(denominator * level / 100)
                row["numerator"], row["denominator"] = str(numerator), str(denominator)
                row["value"] = fmt(100 * numerator / denominator, 1)
            else:
                row["value"] = fmt(level, spec.decimals)
            rows.append(row)
    return rows


def apply_events(rows: list[dict[str, str]]) -> None:
    """The things that happen to real data: statuses, restatements, flags, disputes."""
    by_key = {(r["measure_id"], r["period"]): r for r in rows}

    def event(measure_id: str, period: str, **changes: str) -> None:
        by_key[measure_id, period].update(changes)

    for month in ("2023-10", "2023-11", "2023-12"):
        event(
            "IMT_KPI_02",
            month,
            status="mitigated",
            note="Mitigation agreed: new service desk system went live; target not applied.",
        )
    event(
        "IMT_KPI_04",
        "2024-02",
        value="",
        status="not_available",
        note="Contractor did not supply verifiable figures.",
    )
    event(
        "IMT_KPI_05",
        "2024-06",
        value="",
        numerator="",
        denominator="",
        status="pending",
        note="Figures due after contract review meeting.",
    )
    event("IMT_KPI_01", "2024-06", status="pending", note="Provisional until agreed.")
    event(
        "IMT_KPI_06",
        "2024-04",
        value="89.4",
        rag_override="amber",
        note="Disputed score re-checked at contract board; changed from red to amber.",
    )
    event(
        "IMT_KPI_03",
        "2023-11",
        restated_from=by_key["IMT_KPI_03", "2023-11"]["value"],
        value="99.62",
        note="Restated after the outage log was reconciled.",
    )
    event("ASC_KPI_02", "2024-03", restated_from="24.1", note="Restated: late case closures.")
    event("CHS_KPI_01", "2024-06", flag="corporate_risk")
    event("FIN_KPI_04", "2024/25 Q1", flag="budget")
    event(
        "WST_KPI_05",
        "2021/22 Q2",
        value="",
        status="not_expected",
        note="Survey suspended while the contract was re-let.",
    )
    event(
        "CHS_KPI_04",
        "2024-05",
        value="",
        numerator="",
        denominator="",
        status="not_available",
        note="Case system migration: figures not extractable.",
    )
    # Real spreadsheets: ratios typed into the value cell, thousands separators, % signs.
    for period in ("2024-04", "2024-05", "2024-06"):
        row = by_key["CSC_KPI_01", period]
        row["value"] = f"{row['numerator']} / {row['denominator']}"
        row["numerator"] = row["denominator"] = ""
    for period in ("2024-04", "2024-05", "2024-06"):
        row = by_key["FIN_KPI_03", period]
        row["value"] = f"£{int(float(row['value'])):,}"
        row = by_key["CSC_KPI_05", period]
        row["value"] = f"{int(float(row['value'])):,}"
        row = by_key["WST_KPI_01", period]
        row["value"] = f"{row['value']}%"


# -- targets, comments, actions, benchmarks ----------------------------------------------
TARGETS = [
    # Digital take-up: the target rises every half year.
    *[
        ("CSC_KPI_03", start, end, target, "", "")
        for start, end, target in [
            ("2021-04", "2021-09", "50"),
            ("2021-10", "2022-03", "52.5"),
            ("2022-04", "2022-09", "55"),
            ("2022-10", "2023-03", "57.5"),
            ("2023-04", "2023-09", "60"),
            ("2023-10", "2024-03", "62.5"),
            ("2024-04", "", "65"),
        ]
    ],
    # ICT contract rebased from July 2023: TSL raised from 95% to 97%.
    ("IMT_KPI_01", "2023-07", "", "", "97", "92"),
    # Care home admissions target tightened for 2024/25.
    ("ASC_KPI_04", "2024/25", "", "140", "", ""),
]

COMMENTS = [
    (
        "Customer Services",
        "",
        "summary",
        "Director of Customer and Digital",
        "Digital take-up keeps rising, but call abandonment crept above the target service level "
        "in the winter peak. The new callback service is now live.",
    ),
    (
        "Customer Services",
        "",
        "whats_good",
        "Director of Customer and Digital",
        "More than three in five transactions are now completed online.",
    ),
    (
        "Customer Services",
        "",
        "approach",
        "Director of Customer and Digital",
        "Move the remaining high-volume forms online and use the capacity freed to answer calls.",
    ),
    (
        "ICT & Digital",
        "",
        "summary",
        "Head of ICT Contract",
        "The contractor met most service levels. June figures for abandoned calls are awaited and "
        "April's patching score was changed from red to amber after review at the contract board.",
    ),
    (
        "ICT & Digital",
        "IMT_KPI_06",
        "",
        "Head of ICT Contract",
        "Why: two critical patches needed supplier fixes. Impact: limited; compensating controls "
        "were in place. Forecast: back above TSL in Q2.",
    ),
    (
        "Adult Social Care",
        "",
        "summary",
        "Director of Adult Social Care",
        "Assessment timeliness has recovered to target after a year of pressure, following the "
        "recruitment of eight social workers and a new triage team.",
    ),
    (
        "Adult Social Care",
        "",
        "whats_good",
        "Director of Adult Social Care",
        "Every timeliness measure is now at or better than target for the first time since 2022.",
    ),
    (
        "Adult Social Care",
        "",
        "approach",
        "Director of Adult Social Care",
        "Sustain the recovery: keep the triage team, and review care-home admissions with the NHS.",
    ),
    (
        "Children's Services",
        "",
        "summary",
        "Director of Children's Services",
        "Assessment timeliness has fallen for three quarters as social worker vacancies rose to "
        "19%. This is now on the corporate risk register.",
    ),
    (
        "Children's Services",
        "CHS_KPI_01",
        "",
        "Director of Children's Services",
        "Why: vacancies and agency turnover in the assessment teams. Impact: families wait longer "
        "for help; risk of drift. Forecast: further dip in Q2, recovery from Q3 as newly qualified "
        "social workers complete their first year. Back on track: December 2024.",
    ),
    (
        "Children's Services",
        "CHS_KPI_06",
        "",
        "Director of Children's Services",
        "A market supplement for experienced social workers was approved in May; 6 offers made.",
    ),
    (
        "Children's Services",
        "",
        "approach",
        "Director of Children's Services",
        "Recruit and retain: market supplement, a 'grow our own' academy, and weekly performance "
        "clinics with team managers.",
    ),
    (
        "Finance",
        "",
        "summary",
        "Director of Finance",
        "Collection rates remain just below target, reflecting cost-of-living pressures on "
        "households and businesses. Savings delivery is behind plan and affects the budget.",
    ),
    (
        "Finance",
        "FIN_KPI_01",
        "",
        "Director of Finance",
        "Why: more residents on payment arrangements. Impact: about £0.9m of council tax at risk "
        "in year. Forecast: amber for the rest of the year. Action: targeted support and recovery.",
    ),
    (
        "Finance",
        "FIN_KPI_04",
        "",
        "Director of Finance",
        "Two savings proposals slipped to Q3; mitigations of £0.4m identified in the Q1 forecast.",
    ),
    (
        "Finance",
        "",
        "approach",
        "Director of Finance",
        "Keep collection on the agenda of every directorate meeting; report savings monthly.",
    ),
    (
        "Waste & Environment",
        "",
        "summary",
        "Director of Environment",
        "Recycling is well ahead of target for the third year running, and missed bins are at "
        "their lowest level since the new rounds began.",
    ),
    (
        "Waste & Environment",
        "",
        "whats_good",
        "Director of Environment",
        "57% of household waste recycled, reused or composted: a top-quartile result.",
    ),
    (
        "Waste & Environment",
        "",
        "approach",
        "Director of Environment",
        "Propose a more ambitious recycling target of 58% from 2025/26.",
    ),
]

ACTIONS = [
    (
        "Customer Services",
        "CSC-A1",
        "Launch a callback service for the contact centre",
        "Contact Centre Manager",
        "2024-05-31",
        "complete",
        "CSC_KPI_01 CSC_KPI_02",
        "",
    ),
    (
        "Customer Services",
        "CSC-A2",
        "Move the top ten telephone transactions online",
        "Digital Lead",
        "2024-12-31",
        "on_track",
        "CSC_KPI_03",
        "",
    ),
    (
        "ICT & Digital",
        "IMT-A1",
        "Agree a remediation plan for critical patching with the contractor",
        "Head of ICT Contract",
        "2024-07-31",
        "on_track",
        "IMT_KPI_06",
        "",
    ),
    (
        "ICT & Digital",
        "IMT-A2",
        "Require monthly figures within 10 working days in the contract",
        "Head of ICT Contract",
        "2024-04-30",
        "overdue",
        "IMT_KPI_04 IMT_KPI_05",
        "Contract variation still with legal services.",
    ),
    (
        "Adult Social Care",
        "ASC-A1",
        "Make the assessment triage team permanent",
        "Assistant Director, Operations",
        "2024-09-30",
        "on_track",
        "ASC_KPI_01 ASC_KPI_02",
        "",
    ),
    (
        "Adult Social Care",
        "ASC-A2",
        "Joint review of care-home admissions with the NHS",
        "Head of Commissioning",
        "2024-06-30",
        "at_risk",
        "ASC_KPI_04",
        "",
    ),
    (
        "Children's Services",
        "CHS-A1",
        "Pay a market supplement for experienced social workers",
        "Head of Workforce",
        "2024-05-31",
        "complete",
        "CHS_KPI_06",
        "",
    ),
    (
        "Children's Services",
        "CHS-A2",
        "Open a social work academy for newly qualified staff",
        "Principal Social Worker",
        "2024-09-30",
        "on_track",
        "CHS_KPI_06 CHS_KPI_01",
        "",
    ),
    (
        "Children's Services",
        "CHS-A3",
        "Weekly performance clinics on assessments out of time",
        "Assistant Director, Safeguarding",
        "2024-04-30",
        "overdue",
        "CHS_KPI_01 CHS_KPI_02",
        "",
    ),
    (
        "Finance",
        "FIN-A1",
        "Targeted support for households in council tax arrears",
        "Head of Revenues",
        "2024-10-31",
        "on_track",
        "FIN_KPI_01",
        "",
    ),
    (
        "Finance",
        "FIN-A2",
        "Monthly savings tracker to Corporate Leadership Team",
        "Head of Finance",
        "2024-06-30",
        "at_risk",
        "FIN_KPI_04",
        "",
    ),
    (
        "Waste & Environment",
        "WST-A1",
        "Propose a stretch recycling target for 2025/26",
        "Head of Waste",
        "2025-01-31",
        "not_started",
        "WST_KPI_01",
        "",
    ),
    (
        "Waste & Environment",
        "WST-A2",
        "Install 60 more public charge points",
        "Climate Programme Manager",
        "2025-03-31",
        "on_track",
        "WST_KPI_07",
        "",
    ),
]

BENCHMARKED = {"CSC_KPI_04": 74.0, "ASC_KPI_04": 140.0, "CHS_KPI_02": 21.5, "FIN_KPI_01": 96.0,
               "WST_KPI_01": 44.0, "WST_KPI_04": 118.0}  # fmt: skip
REGION = ["Lowmoor", "Marston", "Oakhurst", "Pelham", "Queensway", "Redbank"]
PEERS = ["Ashby", "Brookfield", "Carrowmore", "Dunmere", "Eastwick", "Fenbridge", "Glenholm",
         "Harrowgate", "Ivybridge", "Kingsmead"]  # fmt: skip


def make_benchmarks(rng: random.Random) -> list[tuple[str, ...]]:
    rows = []
    for measure_id, mean in BENCHMARKED.items():
        for year in ("2022/23", "2023/24"):
            for area in PEERS:
                value = mean * (1 + rng.gauss(0, 0.06))
                rows.append((measure_id, year, area, "nearest neighbours", f"{value:.1f}"))
    # The region in the latest year, with one council's figure suppressed (".." as LG Inform
    # writes it): partial peer data.
    for measure_id in ("ASC_KPI_04", "FIN_KPI_01", "WST_KPI_01"):
        mean = BENCHMARKED[measure_id]
        for area in REGION:
            value = mean * (1 + rng.gauss(0, 0.05))
            text = ".." if area == "Oakhurst" else f"{value:.1f}"
            rows.append((measure_id, "2023/24", area, "region", text))
    return rows


# -- writing -------------------------------------------------------------------------------
def write_csv(path: Path, header: list[str], rows: list[list[str]] | list[tuple[str, ...]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def measure_rows(specs: list[Spec]) -> list[list[str]]:
    rows = []
    for s in specs:
        lead = SERVICES[s.measure_id[:3]][1]
        rows.append([
            s.measure_id, s.service, s.title, s.description, s.polarity_word or s.polarity,
            s.unit, s.frequency, s.aggregation, s.category,
            "" if s.target is None else f"{s.target:g}",
            "" if s.tolerance is None else f"{s.tolerance:g}",
            "" if s.tsl is None else f"{s.tsl:g}", "" if s.msl is None else f"{s.msl:g}",
            lead, f"{s.service} performance officer", "yes" if s.include else "no",
            "yes" if s.seasonal else "",
            # Residents see the service and customer measures on the public pages.
            "yes" if s.include and s.measure_id.split("_")[1] in ("KPI", "CX") else "",
            str(s.abatement_points) if s.abatement_points else "",
        ])  # fmt: skip
    return rows


def generate(folder: Path) -> None:
    rng = random.Random(SEED)
    specs = all_specs()
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(
        folder / "measures.csv",
        [
            "measure_id",
            "service",
            "title",
            "description",
            "polarity",
            "unit",
            "frequency",
            "aggregation",
            "category",
            "target",
            "tolerance",
            "tsl",
            "msl",
            "lead_officer",
            "data_owner",
            "include",
            "seasonal",
            "public",
            "abatement_points",
        ],
        measure_rows(specs),
    )
    values = make_values(specs, rng)
    apply_events(values)
    columns = list(values[0])
    write_csv(folder / "values.csv", columns, [[r[c] for c in columns] for r in values])
    write_csv(
        folder / "targets.csv", ["measure_id", "start", "end", "target", "tsl", "msl"], TARGETS
    )
    write_csv(
        folder / "comments.csv",
        ["service", "quarter", "measure_id", "section", "author", "comment"],
        [(svc, LATEST_QUARTER, mid, sec, author, text) for svc, mid, sec, author, text in COMMENTS],
    )
    write_csv(folder / "actions.csv",
              ["service", "action_id", "action", "owner", "due", "status", "measures", "note"],
              ACTIONS)  # fmt: skip
    write_csv(
        folder / "benchmarks.csv",
        ["measure_id", "period", "area", "peer_group", "value"],
        make_benchmarks(rng),
    )


if __name__ == "__main__":
    generate(Path(sys.argv[1] if len(sys.argv) > 1 else "data/example"))
