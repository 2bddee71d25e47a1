"""Benchmarking worked cases: rank and quartile by polarity, ties, the council's own row,
the council's own figure summarised to the benchmark's year, partial and missing peers."""

from __future__ import annotations

import math

import pytest

import kpitools
from kpitools.core.benchmarks import benchmark_table, own_names, positions, quartile, rank_of

PEERS = ["Ashby", "Brook", "Cole", "Dale", "Eden", "Fell", "Gore"]


@pytest.mark.parametrize(
    ("rank", "ranked", "expected"),
    [(1, 8, 1), (2, 8, 1), (3, 8, 2), (4, 8, 2), (5, 8, 3), (7, 8, 4), (8, 8, 4),
     (1, 11, 1), (3, 11, 1), (4, 11, 2), (9, 11, 3), (10, 11, 4), (11, 11, 4), (1, 4, 1),
     (4, 4, 4)],
)  # fmt: skip
def test_quartile_of_a_rank(rank: int, ranked: int, expected: int) -> None:
    assert quartile(rank, ranked) == expected


def test_rank_by_polarity_and_ties() -> None:
    peers = [10.0, 20.0, 30.0, 30.0]
    assert rank_of(25.0, peers, "up") == 3  # 30 and 30 are better
    assert rank_of(25.0, peers, "down") == 3  # 10 and 20 are better
    assert rank_of(30.0, peers, "up") == 1  # a tie shares the rank
    assert rank_of(5.0, peers, "down") == 1


def test_own_names() -> None:
    assert own_names("Northfield Borough Council") == {"northfield borough council", "northfield"}
    assert own_names("Leeds City Council") == {"leeds city council", "leeds"}
    assert own_names("Kent") == {"kent"}


@pytest.fixture
def data(make_data):
    values = [60, 70, 80, 90, 65, 75, 85]
    pairs = list(zip(PEERS, values, strict=True))
    peers_up = "\n".join(f"UP,2023/24,{a},nearest neighbours,{v}" for a, v in pairs)
    peers_down = "\n".join(f"DN,2023/24,{a},nearest neighbours,{v}" for a, v in pairs)
    return make_data(
        measures="""\
            measure_id,service,title,polarity,aggregation,frequency
            UP,Housing,Homes let,up,sum,monthly
            DN,Housing,Days to let,down,mean,monthly
            NEU,Housing,Enquiries,neutral,last,annual
            """,
        values="measure_id,period,value\n"
        + "\n".join(f"UP,{2023 + (m + 3) // 12}-{(m + 3) % 12 + 1:02d},6.5" for m in range(12))
        + "\n"
        + "\n".join(f"DN,{2023 + (m + 3) // 12}-{(m + 3) % 12 + 1:02d},{62 + m}" for m in range(12))
        + "\nNEU,2023/24,5\n",
        benchmarks=f"""\
measure_id,period,area,peer_group,value
{peers_up}
{peers_down}
UP,2023/24,Ashby,region,60
UP,2023/24,Brook,region,..
UP,2023/24,Cole,region,
UP,2023/24,Northfield,region,95
NEU,2023/24,Ashby,nearest neighbours,4
NEU,2023/24,Brook,nearest neighbours,6
""",
    )


def test_positions_from_the_councils_own_figures(data) -> None:
    dataset = kpitools.load(data)
    table = benchmark_table(dataset).set_index(["measure_id", "peer_group"])
    # UP sums its months: 12 x 6.5 = 78 for 2023/24; better than 60, 65, 70, 75: rank 4 of 8.
    up = table.loc[("UP", "nearest neighbours")]
    assert up["value"] == 78.0
    assert (up["rank"], up["ranked"], up["quartile"]) == (4, 8, 2)
    assert up["peer_median"] == 75.0
    assert (up["peer_best"], up["peer_worst"]) == (90.0, 60.0)
    assert up["note"] == ""
    # DN is the mean of 62 .. 73 = 67.5, where smaller is better: 60 and 65 beat it.
    down = table.loc[("DN", "nearest neighbours")]
    assert down["value"] == 67.5
    assert (down["rank"], down["quartile"]) == (3, 2)
    assert (down["peer_best"], down["peer_worst"]) == (60.0, 90.0)


def test_the_councils_own_row_partial_peers_and_too_few(data) -> None:
    dataset = kpitools.load(
        data, config=kpitools.CouncilConfig(council="Northfield Borough Council")
    )
    found = {(p.measure_id, p.peer_group): p for p in positions(dataset)}
    region = found[("UP", "region")]
    assert region.value == 95.0  # the region's own row, not the council's sum of 78
    assert region.peers == 1 and region.peers_in_group == 3
    assert region.rank == 1 and region.ranked == 2 and region.quartile is None
    assert region.note == (
        "1 of 3 peers (region) reported for 2023/24; too few councils to give a quartile (2)"
    )
    neutral = found[("NEU", "nearest neighbours")]
    assert neutral.rank is None and neutral.quartile is None
    assert neutral.peer_median == 5.0
    assert "not ranked" in neutral.note
    assert math.isnan(neutral.peer_best)


def test_a_report_takes_the_latest_benchmark_by_its_period(example) -> None:
    report = kpitools.build_cpr(example, "Adult Social Care", "2023/24 Q2")
    line = next(x for x in report.all_lines if x.measure_id == "ASC_KPI_04")
    # 2023/24 has not ended by September 2023: the report shows 2022/23.
    assert {p.period for p in line.benchmarks} == {"2022/23"}
    latest = kpitools.build_cpr(example, "Adult Social Care", "2024/25 Q1")
    line = next(x for x in latest.all_lines if x.measure_id == "ASC_KPI_04")
    assert [(p.peer_group, p.quartile) for p in line.benchmarks] == [
        ("nearest neighbours", 4),
        ("region", 4),
    ]
    assert line.headline_benchmark is not None
    assert "5 of 6 peers (region) reported" in line.benchmarks[1].note


def test_lg_inform_shapes_are_read(make_data) -> None:
    measures = """\
        measure_id,service,title,polarity,frequency
        NN,Housing,Homes let,up,annual
        """
    values = "measure_id,period,value\nNN,2022/23,50\nNN,2023/24,52\n"
    # LG Inform's own column names, one row per area and period ...
    long = make_data(
        measures=measures,
        values=values,
        benchmarks="""\
            Measure ID,Area name,Comparison group,Time period,Data value
            NN,Ashby,nearest neighbours,2023/24,40
            NN,Brook,nearest neighbours,2023/24,60
            NN,Cole,nearest neighbours,2023/24,..
            NN,Dale,nearest neighbours,2023/24,45
            """,
    )
    # ... and a column per period.
    wide = make_data(
        measures=measures,
        values=values,
        benchmarks="""\
            measure_id,area,peer_group,2022/23,2023/24
            NN,Ashby,nearest neighbours,41,40
            NN,Brook,nearest neighbours,59,60
            NN,Cole,nearest neighbours,55,..
            NN,Dale,nearest neighbours,44,45
            """,
    )
    for folder in (long, wide):
        found = {(p.period, p.peer_group): p for p in positions(kpitools.load(folder))}
        latest = found[("2023/24", "nearest neighbours")]
        assert (latest.value, latest.rank, latest.ranked, latest.quartile) == (52.0, 2, 4, 2)
        assert latest.note == "3 of 4 peers (nearest neighbours) reported for 2023/24"
    earlier = {p.period: p for p in positions(kpitools.load(wide))}["2022/23"]
    assert (earlier.rank, earlier.peers) == (3, 4)  # 59 and 55 beat 50


def test_a_bad_figure_in_a_period_column_is_named_by_row(make_data) -> None:
    from click.testing import CliRunner

    from kpitools.cli.commands import cli

    folder = make_data(
        measures="measure_id,service,title,polarity\nNN,Housing,Homes let,up\n",
        values="measure_id,period,value\nNN,2023-04,50\n",
        benchmarks="measure_id,area,2023/24\nNN,Ashby,forty\n",
    )
    result = CliRunner().invoke(cli, ["validate", "--data", str(folder)])
    assert result.exit_code == 2
    assert "benchmarks.csv:2: value 'forty' is not a number" in result.stderr
