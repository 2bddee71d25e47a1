"""A synthetic council of any size, for benchmarks: services x measures x months.

Deterministic (fixed seed). Measures mix both RAG methods, both polarities, ratio and plain
values; about one exception in three has a Director's comment; each service has actions.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def make_council(
    folder: Path, services: int = 30, measures: int = 40, months: int = 36, seed: int = 7
) -> Path:
    """Write the council's CSV files into ``folder`` (months end in March of the last year)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    end_year = 2024
    month_labels = []
    for i in range(months):
        index = (end_year * 12 + 2) - (months - 1 - i)  # March of end_year is the last month
        month_labels.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
    measure_rows, value_rows, comment_rows, action_rows = [], [], [], []
    quarter = f"{end_year - 1}/{end_year % 100:02d} Q4"
    for s in range(services):
        service = f"Service {s + 1:02d}"
        for m in range(measures):
            measure_id = f"S{s + 1:02d}_M{m + 1:02d}"
            up = rng.random() < 0.6
            thresholds = m % 4 == 0
            target = round(rng.uniform(40, 95), 1)
            tsl, msl = (target, target - 5) if up else (target, target + 5)
            ratio = m % 3 == 0
            measure_rows.append([
                measure_id, service, f"Synthetic measure {m + 1} of {service}",
                "up" if up else "down", "percent", "monthly", "ratio" if ratio else "last",
                ["performance", "customer", "workforce", "finance"][m % 4],
                "" if thresholds else str(target), str(tsl) if thresholds else "",
                str(msl) if thresholds else "",
            ])  # fmt: skip
            level = target * rng.uniform(0.9, 1.1)
            for month in month_labels:
                level = min(100.0, max(1.0, level + rng.gauss(0, 1.2)))
                if ratio:
                    denominator = rng.randint(200, 400)
                    numerator = round(denominator * level / 100)
                    value_rows.append([measure_id, month, "", str(numerator), str(denominator)])
                else:
                    value_rows.append([measure_id, month, f"{level:.1f}", "", ""])
            if m % 3 == 0:
                why = "Why, impact, forecast and date back on track. " * 3
                comment_rows.append([service, quarter, measure_id, "", f"Director {s}", why])
        comment_rows.append([service, quarter, "", "summary", f"Director of {service}",
                             f"{service} had a mixed quarter."])  # fmt: skip
        for a in range(4):
            action_rows.append([service, f"A{a + 1}", f"Improvement action {a + 1}",
                                "Service manager", f"{end_year}-0{a + 3}-28",
                                ["on_track", "at_risk", "overdue", "complete"][a],
                                f"S{s + 1:02d}_M{a + 1:02d}"])  # fmt: skip
    _write(folder / "measures.csv",
           ["measure_id", "service", "title", "polarity", "unit", "frequency", "aggregation",
            "category", "target", "tsl", "msl"], measure_rows)  # fmt: skip
    _write(folder / "values.csv",
           ["measure_id", "period", "value", "numerator", "denominator"], value_rows)  # fmt: skip
    comment_columns = ["service", "quarter", "measure_id", "section", "author", "comment"]
    _write(folder / "comments.csv", comment_columns, comment_rows)
    action_columns = ["service", "action_id", "action", "owner", "due", "status", "measures"]
    _write(folder / "actions.csv", action_columns, action_rows)
    return folder
