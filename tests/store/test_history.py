"""The history store on SQLite and PostgreSQL: ingest, restatements, as-of, faults."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

import kpitools
from kpitools.core.errors import ValidationError
from kpitools.store import history
from kpitools.store.history import HistoryStore
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, ROOT

T0 = dt.datetime(2024, 7, 10, 9, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2024, 10, 3, 14, 30, tzinfo=dt.UTC)


@pytest.fixture
def config():
    return kpitools.load_config(COUNCIL_CONFIG)


@pytest.fixture
def store(store_url):
    opened = HistoryStore(store_url)
    yield opened
    opened.close()


@pytest.fixture
def data(tmp_path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(EXAMPLE, folder)
    return folder


def contents(url: str) -> tuple[int, int, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return tuple(  # type: ignore[return-value]
                connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("ingests", "versions", "publications")
            )
    finally:
        engine.dispose()


def restate(folder: Path, line_start: str, value: str) -> None:
    values = folder / "values.csv"
    lines = values.read_text(encoding="utf-8").splitlines(keepends=True)
    [index] = [i for i, line in enumerate(lines) if line.startswith(line_start)]
    fields = lines[index].split(",")
    fields[2] = value
    lines[index] = ",".join(fields)
    values.write_text("".join(lines), encoding="utf-8")


def test_ingest_records_a_folder_and_gives_it_back(store, store_url, data, config, tmp_path):
    report = store.ingest(data, config, now=T0)
    assert report.ingest_id == 1 and report.recorded
    assert report.added == {"measures": 67, "targets": 9, "values": 2184, "comments": 19,
                            "actions": 13, "benchmarks": 138}  # fmt: skip
    again = store.ingest(data, config, now=T1)
    assert not again.recorded and again.ingest_id == 1
    assert contents(store_url) == (1, 2430, 0)
    exported = kpitools.load(store.export(1, tmp_path / "out"), config=config)
    original = kpitools.load(data, config=config)
    for name in ("measures", "values", "targets", "comments", "actions", "benchmarks"):
        left = getattr(original, name).drop(columns="row")
        right = getattr(exported, name).drop(columns="row")
        assert left.equals(right), name


def test_a_changed_value_is_a_restatement_and_as_of_gives_the_data_as_it_was(
    store, store_url, data, config, tmp_path
):
    store.ingest(data, config, now=T0)
    restate(data, "FIN_KPI_01,2024-06,", "80.00")
    report = store.ingest(data, config, reason="late return corrected", now=T1)
    assert (report.ingest_id, report.restated["values"], report.added["values"]) == (2, 1, 0)
    assert sum(report.unchanged.values()) == 2429
    [(_, versions)] = store.versions_of("values", "FIN_KPI_01\x1f2024-06")
    assert [(v.ingest_id, v.cells["value"], v.reason) for v in versions] == [
        (1, "96.50", ""),
        (2, "80.00", "late return corrected"),
    ]
    assert [v.recorded_at for v in versions] == [T0, T1]
    before = store.ingest_as_of(T1 - dt.timedelta(seconds=1))
    assert (before, store.ingest_as_of(T1), store.ingest_as_of()) == (1, 2, 2)
    then = kpitools.load(store.export(before, tmp_path / "then"), config=config)
    now = kpitools.load(store.export(2, tmp_path / "now"), config=config)
    pick = lambda d: d.values.set_index(["measure_id", "period"]).loc[  # noqa: E731
        ("FIN_KPI_01", d.calendar.parse("2024-06")), "value"
    ]
    assert (pick(then), pick(now)) == (96.5, 80.0)
    with pytest.raises(history.StoreError, match="holds no ingest by 2024-01-01"):
        store.ingest_as_of(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))


def test_bad_input_is_refused_with_the_usual_messages_and_nothing_recorded(
    store, store_url, data, config
):
    store.ingest(data, config, now=T0)
    restate(data, "FIN_KPI_01,2024-06,", "lots")
    with pytest.raises(ValidationError) as raised:
        store.ingest(data, config, now=T1)
    assert [str(p) for p in raised.value.problems] == [
        "values.csv:1600: value 'lots' for FIN_KPI_01 2024-06 is not a number"
    ]
    assert contents(store_url) == (1, 2430, 0)


def test_an_ingest_that_fails_half_way_leaves_the_store_as_it_was(
    store, store_url, data, config, monkeypatch
):
    store.ingest(data, config, now=T0)
    for line in ("FIN_KPI_01,2024-06,", "FIN_KPI_01,2024-05,", "CSC_CX_01,2021-04,"):
        restate(data, line, "50")
    calls = []

    def failing(connection, rows):
        calls.append(len(rows))
        history.versions.c  # noqa: B018 - the real insert for the first file only
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        connection.execute(history.versions.insert(), rows) if rows else None

    monkeypatch.setattr(history, "insert_rows", failing)
    with pytest.raises(OSError, match="No space left"):
        store.ingest(data, config, now=T1)
    assert contents(store_url) == (1, 2430, 0)
    assert store.ingest_as_of() == 1


KILLED_INGEST = """
import sys, time
from pathlib import Path
import kpitools
from kpitools.store import history
real = history.insert_rows
def slow(connection, rows):
    real(connection, rows)
    Path(sys.argv[3]).write_text("half-way")
    time.sleep(120)
history.insert_rows = slow
store = history.HistoryStore(sys.argv[1])
store.ingest(Path(sys.argv[2]), kpitools.CouncilConfig.defaults(council="Northfield"))
"""


def test_an_ingest_killed_half_way_leaves_the_store_as_it_was(store, store_url, data, tmp_path):
    config = kpitools.CouncilConfig.defaults(council="Northfield")
    store.ingest(data, config, now=T0)
    restate(data, "FIN_KPI_01,2024-06,", "50")
    marker = tmp_path / "half-way"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_INGEST, store_url, str(data), str(marker)],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    store.close()
    assert contents(store_url) == (1, 2430, 0)
    reopened = HistoryStore(store_url)
    assert reopened.ingest(data, config, now=T1).restated["values"] == 1
    reopened.close()


def test_two_ingests_at_once_are_serialised(store_url, data, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(data, other)
    restate(other, "FIN_KPI_01,2024-06,", "50")
    HistoryStore(store_url).close()  # the schema exists before both start
    code = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        import kpitools
        from kpitools.store.history import HistoryStore
        report = HistoryStore(sys.argv[1]).ingest(
            Path(sys.argv[2]), kpitools.CouncilConfig.defaults(council="Northfield")
        )
        print(report.ingest_id, sum(report.added.values()), sum(report.restated.values()))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, store_url, str(folder)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for folder in (data, other)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    lines = sorted(out.split() for out, _ in outputs)
    # Whichever went first added everything; the second saw it and restated one value.
    assert sorted((added, restated) for _, added, restated in lines) == [
        ("0", "1"),
        ("2430", "0"),
    ]
    assert contents(store_url) == (2, 2431, 0)
