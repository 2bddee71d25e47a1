"""SPC read from a data folder: the measures' series, recalculation and baseline columns, the
scorecard's variation and assurance columns as at each period, and ``kpitools spc``."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

import kpitools
from kpitools.cli.commands import cli
from kpitools.core.variation import labels_as_at, measure_points, spc_table

MONTHS = [f"{2021 + (m + 3) // 12}-{(m + 3) % 12 + 1:02d}" for m in range(24)]  # 2021-04 ..


def months_csv(measure_id: str, values: list[float | str], status: dict[int, str] | None = None):
    lines = []
    for i, value in enumerate(values):
        lines.append(f"{measure_id},{MONTHS[i]},{value},{(status or {}).get(i, '')}")
    return "\n".join(lines)


STEADY = [10 + (i % 2) for i in range(18)]  # 10/11 for April 2021 to September 2022
JUMP = [*STEADY, 14, 15, 14, 15, 14, 15]  # then up to 14/15 from October 2022


@pytest.fixture
def folder(make_data):
    return make_data(
        measures="""\
            measure_id,service,title,polarity,target,spc_recalculate,spc_baseline
            UP,Housing,Homes let,up,7,,
            DOWN,Housing,Days to let,down,7,,
            SIX,Housing,Tenancies,up,,,
            FIXED,Housing,Repairs,up,12.5,,2022-04
            RECALC,Housing,Rent collected,up,12.5,2022/23 Q3,
            FEW,Housing,Voids,neutral,,,
            """,
        values="measure_id,period,value,status\n"
        + "\n".join(
            [
                months_csv("UP", JUMP),
                months_csv("DOWN", JUMP),
                months_csv("SIX", [*STEADY[:17], *[11.2] * 6]),
                months_csv("FIXED", JUMP),
                months_csv("RECALC", JUMP),
                months_csv("FEW", [5, 6, 5, "", 6], {3: "not_available"}),
            ]
        )
        + "\n",
    )


def test_series_positions_for_recalculation_and_baseline(folder):
    points = measure_points(kpitools.load(folder))
    assert list(points) == ["UP", "DOWN", "SIX", "FIXED", "RECALC", "FEW"]
    assert points["RECALC"].recalculate == (18,)  # 2022-10 starts the quarter
    assert points["FIXED"].baseline == 12  # 2022-04 is the 13th point
    # A month not available (no figure) is no point.
    assert len(points["FEW"].values) == 4


def test_the_same_jump_by_polarity_recalculation_and_baseline(folder):
    rows = spc_table(kpitools.load(folder))
    latest = rows.groupby("measure_id").tail(1).set_index("measure_id")
    assert latest.loc["UP", "variation"] == "improvement"
    assert latest.loc["DOWN", "variation"] == "concern"
    assert latest.loc["UP", "rule"] == "beyond_limit shift"
    # Limits recalculated at the jump: the new 14/15 process is common cause (its stretch
    # has too few points for limits; its mean is its own).
    assert latest.loc["RECALC", "variation"] == "common_cause"
    assert latest.loc["RECALC", "mean"] == 14.5
    assert latest.loc["RECALC", "lower_limit"] != latest.loc["RECALC", "lower_limit"]  # NaN
    assert latest.loc["SIX", "rule"] == "shift"
    # Limits fixed on 13 points 10/11 (mean 136 / 13 = 10.46, upper 10.46 + 2.66 = 13.12):
    # 14 and 15 are beyond them.
    fixed = rows[rows["measure_id"] == "FIXED"]
    assert fixed["mean"].round(2).unique().tolist() == [10.46]
    assert fixed["upper_limit"].round(2).unique().tolist() == [13.12]
    assert latest.loc["FIXED", "rule"] == "beyond_limit shift"
    # Target 12.5 between those limits: hit and miss.
    assert latest.loc["FIXED", "assurance"] == "hit_and_miss"
    assert latest.loc["FEW", "variation"] == "common_cause"
    assert latest.loc["FEW", "assurance"] == ""


def test_scorecard_labels_are_as_at_each_period(folder):
    dataset = kpitools.load(folder)
    card = kpitools.rate(dataset).set_index(["measure_id", "period"])
    # Before the jump the 10/11 process was common cause, and a target of 7 is below its
    # limits (7.84 to 13.16): met every time.
    assert card.loc[("UP", "2022/23 Q2"), "variation"] == "common_cause"
    assert card.loc[("UP", "2022/23 Q2"), "assurance"] == "consistently_met"
    assert card.loc[("UP", "2022/23 Q3"), "variation"] == "improvement"
    assert card.loc[("DOWN", "2022/23 Q2"), "assurance"] == "consistently_missed"
    # Too few points: no limits, no assurance.
    assert card.loc[("UP", "2021/22 Q2"), "assurance"] == ""
    # A chart as at a period is the chart a report then would have drawn.
    label = labels_as_at(dataset, [("UP", dataset.calendar.parse("2022/23 Q2"))])
    assert next(iter(label.values())).points == 18


def test_run_length_is_a_council_setting(folder, tmp_path):
    config = tmp_path / "council.yaml"
    config.write_text("council: Test\nspc_run_length: 7\n", encoding="utf-8")
    dataset = kpitools.load(folder, config=kpitools.load_config(config))
    rows = spc_table(dataset, measures=["SIX"])
    assert rows.iloc[-1]["variation"] == "common_cause"  # six points are no longer a shift


def test_bad_spc_columns_are_named_by_row_and_column(make_data):
    folder = make_data(
        measures="""\
            measure_id,service,title,polarity,spc_recalculate,spc_baseline
            A,S,T,up,2022-13,2022-04 2022-05
            B,S,T,up,2022/23 Q1 2023-01,2023/24
            """,
        values="measure_id,period,value\nA,2022-04,1\n",
    )
    result = CliRunner().invoke(cli, ["validate", "--data", str(folder)])
    assert result.exit_code == 2
    assert "measures.csv:2: spc_recalculate" in result.stderr
    assert "'2022-13'" in result.stderr
    assert "measures.csv:2: spc_baseline '2022-04 2022-05' names 2 periods" in result.stderr
    assert "measures.csv:3" not in result.stderr


def test_spc_command_csv_and_json(folder):
    runner = CliRunner()
    result = runner.invoke(cli, ["spc", "--data", str(folder), "--measure", "UP", "--format",
                                 "csv"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 24
    assert list(rows[0])[:8] == ["measure_id", "period", "value", "mean", "lower_limit",
                                 "upper_limit", "variation", "rule"]  # fmt: skip
    assert rows[-1]["period"] == "2023-03"
    assert rows[-1]["variation"] == "improvement"
    result = runner.invoke(cli, ["spc", "--data", str(folder), "--format", "json"])
    records = json.loads(result.stdout)
    assert {r["measure_id"] for r in records} == {"UP", "DOWN", "SIX", "FIXED", "RECALC", "FEW"}
    few = [r for r in records if r["measure_id"] == "FEW"]
    assert few[0]["lower_limit"] is None
    result = runner.invoke(cli, ["spc", "--data", str(folder), "--measure", "NOPE"])
    assert result.exit_code == 2 and "NOPE not in the data dictionary" in result.stderr
    table = runner.invoke(cli, ["spc", "--data", str(folder), "--measure", "DOWN"])
    assert table.exit_code == 0
    assert "special cause concern" in table.stdout


def test_what_is_no_point(make_data):
    months = [f"{2021 + (m + 3) // 12}-{(m + 3) % 12 + 1:02d}" for m in range(20)]
    folder = make_data(
        measures="""\
            measure_id,service,title,polarity,frequency,basis
            TERM,Schools,Attendance,up,termly,
            YTD,Schools,Exclusions to date,down,monthly,ytd
            PART,Schools,Places,up,annual,
            """,
        values="measure_id,period,value,status,coverage\n"
        + "".join(f"TERM,{m},{90 + (i % 2)},,\n" for i, m in enumerate(months))
        + "TERM,2022/23 Q4,,not_expected,\n"
        + "".join(f"YTD,{m},{(i % 12 + 1) * 10},,\n" for i, m in enumerate(months))
        + "".join(f"PART,{2010 + y}/{11 + y},{100 + y % 2},,\n" for y in range(12))
        + "PART,2022/23,76,,Q3\n",
    )
    points = measure_points(kpitools.load(folder))
    # A placeholder quarter without a figure does not hide the monthly figures.
    assert len(points["TERM"].values) == 20
    # A running total starting again each year has no chart.
    assert "YTD" not in points
    # A part-year figure is not a point among whole years.
    assert len(points["PART"].values) == 12


def test_every_scorecard_row_has_the_label_of_its_chart_stopped_at_its_period(example):
    """The scorecard's labels, found for every row at once, are each row's own chart read
    one key at a time: every measure, every quarter and month of the example council."""
    for by in ("quarter", "month"):
        rows = kpitools.rate(example, by=by)
        calendar = example.calendar
        keys = [(m, calendar.parse(p)) for m, p in zip(rows["measure_id"], rows["value_period"],
                                                       strict=True)]  # fmt: skip
        labels = labels_as_at(example, keys)
        labelled = 0
        for key, variation, assurance in zip(keys, rows["variation"], rows["assurance"],
                                             strict=True):  # fmt: skip
            label = labels.get(key)
            if label is None:
                assert (variation, assurance) == ("", "")
                continue
            labelled += 1
            assert variation == label.variation.value
            assert assurance == (label.assurance.value if label.assurance else "")
        assert labelled > len(rows) // 2  # most rows have a chart: the check is not empty
