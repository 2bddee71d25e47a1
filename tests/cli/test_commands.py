import csv
import io
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from kpitools.cli import cli
from tests.conftest import EXAMPLE, ROOT

CONTRACT_COLUMNS = ["measure_id", "service", "title", "period", "value", "target", "rag",
                    "direction", "exception"]  # fmt: skip


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_scorecard_csv_has_the_contract_columns():
    result = run("scorecard", "--data", str(EXAMPLE), "--period", "2024/25 Q1", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 67
    assert set(CONTRACT_COLUMNS) <= set(rows[0])
    assert {r["period"] for r in rows} == {"2024/25 Q1"}
    assert {r["exception"] for r in rows} == {"true", "false"}
    assert {r["direction"] for r in rows} <= {
        "improving",
        "worsening",
        "stable",
        "not_comparable",
        "no_earlier_figure",
        "monitored",
    }
    by_id = {r["measure_id"]: r for r in rows}
    assert by_id["CHS_KPI_01"]["rag"] == "red"
    assert by_id["CHS_KPI_01"]["exception_reasons"].split() == [
        "off_target",
        "adverse_variance",
        "worsening_3_periods",
        "flag_corporate_risk",
    ]


def test_scorecard_json_all_periods():
    result = run("scorecard", "--data", str(EXAMPLE), "--format", "json", "--service", "Finance")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert {r["service"] for r in rows} == {"Finance"}
    assert len({r["period"] for r in rows}) == 13  # 2021/22 Q1 to 2024/25 Q1
    assert all(isinstance(r["exception_reasons"], list) for r in rows)
    assert all(r["value"] is None or isinstance(r["value"], float) for r in rows)


def test_scorecard_table_tells_rag_in_words():
    result = run("scorecard", "--data", str(EXAMPLE), "--period", "latest", "--service",
                 "Children's Services")  # fmt: skip
    assert result.exit_code == 0
    assert "Children's Services - 2024/25 Q1: 4 amber, 7 red" in result.stdout
    assert "▲ red" in result.stdout and "◆ amber" in result.stdout


def test_validate_reports_ok():
    result = run("validate", "--data", str(EXAMPLE))
    assert result.exit_code == 0
    assert result.stdout == (
        "OK: 67 measures in 6 services, 2184 values, 9 target ranges, 19 comments, 13 actions, "
        "138 benchmarks.\nValues for months 2021-04 to 2024-06; quarters 2021/22 Q1 to "
        "2024/25 Q1; years 2021/22 to 2023/24. Latest finished quarter: 2024/25 Q1.\n"
    )


def test_bad_input_exits_2_with_nothing_on_stdout(make_data):
    data = make_data(
        measures="measure_id,service,title,polarity\nM1,S,T,up\n",
        values="measure_id,period,value\nM1,2017-08,abc\nM2,2017-08,1\n",
    )
    for command in ("scorecard", "validate"):
        result = run(command, "--data", str(data))
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.splitlines() == [
            "values.csv:2: value 'abc' for M1 2017-08 is not a number",
            "values.csv:3: measure_id 'M2' is not in measures",
            "2 problems found; nothing written.",
        ]


def test_bad_options_exit_2():
    assert run("scorecard", "--data", str(EXAMPLE), "--period", "Q9").exit_code == 2
    assert run("scorecard", "--data", str(EXAMPLE), "--service", "Nope").exit_code == 2
    assert run("scorecard", "--data", "/nonexistent/folder").exit_code == 2


@pytest.mark.slow
def test_python_m_kpitools_runs_without_traceback(make_data):
    data = make_data(measures="measure_id,service,title,polarity\nM1,S,T,up\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    bad = subprocess.run(
        [sys.executable, "-m", "kpitools", "scorecard", "--data", str(data)],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "Traceback" not in bad.stderr
    assert "values.csv: is missing: it is required" in bad.stderr
    good = subprocess.run(
        [sys.executable, "-m", "kpitools", "scorecard", "--data", str(EXAMPLE), "--period",
         "latest", "--format", "csv"],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, check=True,
    )  # fmt: skip
    assert good.stdout.count("\n") == 68  # header + 67 measures


def test_validate_shows_warnings_on_stderr(make_data):
    data = make_data(
        measures="measure_id,service,title,polarity,unit,aggregation,target\n"
        "C,S,Calls abandoned,down,percent,ratio,10\n",
        values="measure_id,period,value,numerator,denominator\nC,2017-06,33.9%,961,2927\n",
    )
    result = CliRunner().invoke(cli, ["validate", "--data", str(data)], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout.startswith("OK: 1 measure in 1 service, 1 value")
    assert result.stderr == (
        "warning: values.csv:2: value '33.9%' for C 2017-06 disagrees with numerator / "
        "denominator 961 / 2927 = 32.8%\n"
    )


def test_validate_says_which_figures_are_part_year(make_data):
    data = make_data(
        measures="measure_id,service,title,polarity,unit,frequency\n"
        "N,City,Noise complaints,down,count,annual\nS,City,Satisfaction,up,percent,annual\n",
        values='measure_id,period,value\nN,2014/15,"13,805"\nN,2015/16,"1,918 (Q3)"\n'
        "S,2014/15,97.10%\nS,2015/16,98.20% (Q3)\n",
    )
    result = run("validate", "--data", str(data))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1:] == [
        "Values for years 2014/15 to 2015/16. Latest finished quarter: 2015/16 Q3.",
        "Part-year figures: 2015/16 to Q3 (2 values).",
    ]


def test_a_reader_that_stops_reading_is_no_failure():
    """`kpitools scorecard ... | head -1`: the reader closes the pipe after a line; the
    command stops quietly with status 0 (rich's console would leave with status 1)."""
    from tests.conftest import COUNCIL_CONFIG

    process = subprocess.Popen(
        [sys.executable, "-m", "kpitools", "scorecard", "--data", str(EXAMPLE), "--config",
         str(COUNCIL_CONFIG)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    with process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        errors = process.stderr.read()
        assert process.wait(timeout=120) == 0, errors
    assert first.strip() and errors == b""
