"""Target review worked cases: four quarters beaten by the margin, four missed, a run broken
by a quarter on target or without a figure, polarity, settings, and the example council."""

from __future__ import annotations

import pytest

import kpitools
from kpitools.core.target_review import target_reviews

QUARTERS = ["2023/24 Q1", "2023/24 Q2", "2023/24 Q3", "2023/24 Q4", "2024/25 Q1"]


def quarterly(measure_id: str, values: list[str]) -> str:
    return "\n".join(f"{measure_id},{q},{v}" for q, v in zip(QUARTERS, values, strict=True))


@pytest.fixture
def data(make_data):
    return make_data(
        measures="""\
            measure_id,service,title,polarity,frequency,target
            BEAT,Waste,Recycling,up,quarterly,40
            BEAT3,Waste,Composting,up,quarterly,40
            NEAR,Waste,Reuse,up,quarterly,40
            MISS,Waste,Missed bins,down,quarterly,20
            GAP,Waste,Fly-tipping,down,quarterly,20
            FLAT,Waste,Street cleanliness,neutral,quarterly,20
            """,
        values="measure_id,period,value,status\n"
        + "\n".join(
            [
                # 44 is 10% better than 40: four quarters running from Q2.
                quarterly("BEAT", ["40", "44", "45", "50", "44"]),
                quarterly("BEAT3", ["40", "40", "45", "50", "44"]),
                quarterly("NEAR", ["43.9", "43.9", "43.9", "43.9", "43.9"]),
                # Where smaller is better, above 20 is a miss: Q1 to Q4 of 2024/25 ... running.
                quarterly("MISS", ["18", "21", "22", "20.5", "25"]),
                quarterly("GAP", ["25", "25", "", "25", "25"]),
                quarterly("FLAT", ["25", "25", "25", "25", "25"]),
            ]
        ).replace("GAP,2023/24 Q3,", "GAP,2023/24 Q3,,not_available")
        + "\n",
    )


def test_beaten_and_missed_for_four_quarters(data) -> None:
    reviews = target_reviews(kpitools.load(data))
    assert set(reviews) == {"BEAT", "MISS"}
    assert reviews["BEAT"].kind == "ambitious" and reviews["BEAT"].quarters == 4
    assert reviews["BEAT"].text == (
        "Consider a more ambitious target: 10% or more better than target for 4 quarters running"
    )
    assert reviews["MISS"].kind == "review" and reviews["MISS"].quarters == 4
    assert reviews["MISS"].text == (
        "Review the target, the measure or the resources: worse than target for 4 quarters running"
    )


def test_as_at_an_earlier_quarter(data) -> None:
    dataset = kpitools.load(data)
    reviews = target_reviews(dataset, dataset.calendar.parse("2023/24 Q4"))
    assert set(reviews) == set()  # three quarters only, then


def test_the_settings(data, tmp_path) -> None:
    config = tmp_path / "council.yaml"
    config.write_text(
        "council: Test\ntarget_review_quarters: 3\ntarget_review_margin: 0.05\n", encoding="utf-8"
    )
    reviews = target_reviews(kpitools.load(data, config=kpitools.load_config(config)))
    # BEAT3 beats by 10% or more for three; NEAR beats 40 by 9.75% every quarter.
    assert {"BEAT", "BEAT3", "NEAR", "MISS"} <= set(reviews)
    assert reviews["NEAR"].quarters == 5
    assert "5% or more" in reviews["NEAR"].text
    assert "GAP" not in reviews  # two quarters since the one not available: not three


def test_a_quarter_without_a_figure_ends_the_run(data, tmp_path) -> None:
    config = tmp_path / "council.yaml"
    config.write_text("council: Test\ntarget_review_quarters: 2\n", encoding="utf-8")
    reviews = target_reviews(kpitools.load(data, config=kpitools.load_config(config)))
    assert reviews["GAP"].quarters == 2  # Q4 and Q1, after the quarter not available
    assert "FLAT" not in reviews  # a neutral measure is not judged


def test_the_example_council(example) -> None:
    report = kpitools.build_cpr(example, "Waste & Environment", "2024/25 Q1")
    flagged = {x.measure_id: x for x in report.target_reviews}
    assert flagged["WST_KPI_01"].target_review_kind == "ambitious"
    assert flagged["WST_KPI_01"].target_review.startswith("Consider a more ambitious target")


def _one_row_at_a_time(rows, need: int, margin: float) -> dict[str, tuple[str, int]]:
    """The rules written out a row at a time (as kpitools first had them): each measure's
    polarity is its first row's; a quarter beaten by the margin or missed, reported or
    pending, with a figure; the run counted back from the latest quarter."""
    import math

    out = {}
    rows = rows[(rows["value_period"] == rows["period"]) & (rows["frequency"] != "annual")]
    for measure_id, group in rows.groupby("measure_id", sort=False):
        polarity = str(group["polarity"].iloc[0])
        if polarity == "neutral":
            continue
        sign = 1.0 if polarity == "up" else -1.0
        kinds = []
        for variance, status in zip(group["variance_pct"], group["status"], strict=True):
            favourable = sign * float(variance)
            if math.isnan(favourable) or status not in ("reported", "pending"):
                kinds.append("")
            elif favourable >= margin - 1e-12:
                kinds.append("ambitious")
            elif favourable < 0:
                kinds.append("review")
            else:
                kinds.append("")
        latest, running = kinds[-1], 0
        for kind in reversed(kinds):
            if kind != latest:
                break
            running += 1
        if latest and running >= need:
            out[str(measure_id)] = (latest, running)
    return out


def test_a_column_at_a_time_is_the_rules_a_row_at_a_time(example) -> None:
    """Target review on thousands of made-up quarterly scorecards (NaN and infinite
    variances, figures on the margin, every status, a polarity that changes within a
    measure, annual measures, carried results, missing ids) flags what the rules applied a
    row at a time flag."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(11)
    config = example.config
    need, margin = config.target_review_quarters, config.target_review_margin
    statuses = ["reported", "pending", "mitigated", "missing", "not_available", None]
    flagged = 0
    for _ in range(400):
        n = int(rng.integers(1, 40))
        ids = rng.choice(["A", "B", "C", "D", None], n, p=[0.3, 0.3, 0.2, 0.15, 0.05])
        odd = rng.choice([margin, -margin, 0.0, -1e-13, margin - 1e-13, np.nan, np.inf,
                          -np.inf, 0.3, -0.3, 0.05], n)  # fmt: skip
        usual = rng.choice([margin, -0.3, 0.3])  # most rows alike: runs long enough to flag
        variance = np.where(rng.random(n) < 0.75, usual, odd)
        period = rng.choice(["P1", "P2"], n, p=[0.9, 0.1])
        rows = pd.DataFrame({
            "measure_id": pd.array(ids, dtype="string"),
            "period": period,
            "value_period": np.where(rng.random(n) < 0.9, period, "P0"),
            "frequency": rng.choice(["quarterly", "monthly", "annual"], n, p=[0.5, 0.4, 0.1]),
            "variance_pct": variance,
            "status": pd.array(rng.choice(statuses, n, p=[0.7, 0.1, 0.05, 0.05, 0.05, 0.05]),
                               dtype="object"),
            "polarity": rng.choice(["up", "down", "neutral"], n, p=[0.45, 0.45, 0.1]),
        })  # fmt: skip
        expected = _one_row_at_a_time(rows, need, margin)
        found = target_reviews(example, quarterly=rows)
        assert {k: (r.kind, r.quarters) for k, r in found.items()} == expected
        flagged += len(expected)
    assert flagged > 100
