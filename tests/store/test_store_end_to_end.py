"""The history store from the command line: ingest, report, restate, report as of a time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import sqlalchemy as sa

from tests.conftest import COUNCIL_CONFIG, EXAMPLE, ROOT
from tests.store.test_history import restate

pytestmark = pytest.mark.slow  # real notebooks in subprocesses
REPORTS = ("finance/finance.pptx", "finance/finance.html", "finance/finance.ipynb",
           "finance/summary.json")  # fmt: skip


def kpitools(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("KPITOOLS_DB", None)
    result = subprocess.run(
        [sys.executable, "-m", "kpitools", *args], capture_output=True, text=True, env=env,
        stdin=subprocess.DEVNULL, timeout=900, check=False,
    )  # fmt: skip
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_a_report_as_of_its_publication_is_the_published_report(store_url, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data)
    config = ["--config", str(COUNCIL_CONFIG)]
    first = kpitools("ingest", "--data", str(data), "--db", store_url, *config)
    assert first.stdout.startswith("Ingest 1 recorded at ")
    assert "values: 2184 added, 0 unchanged, 0 restated" in first.stdout
    report = ["run", "--db", store_url, "--period", "2024/25 Q1", "--service", "Finance",
              "--jobs", "1", *config]  # fmt: skip
    kpitools(*report, "--out", str(tmp_path / "published"))
    engine = sa.create_engine(store_url)
    with engine.connect() as connection:
        published_at = connection.execute(sa.text("SELECT recorded_at FROM ingests")).scalar()
        [(period, service)] = connection.execute(
            sa.text("SELECT period, service FROM publications")
        ).all()
    engine.dispose()
    assert (period, service) == ("2024/25 Q1", "Finance")

    restate(data, "FIN_KPI_01,2024-06,", "80.00")
    second = kpitools("ingest", "--data", str(data), "--db", store_url, "--reason",
                      "late return corrected", *config)  # fmt: skip
    assert "values: 0 added, 2183 unchanged, 1 restated" in second.stdout
    as_of = published_at.isoformat() if hasattr(published_at, "isoformat") else published_at
    kpitools(*report, "--out", str(tmp_path / "again"), "--as-of", str(as_of).replace(" ", "T"))
    kpitools(*report, "--out", str(tmp_path / "now"))
    for name in REPORTS:
        published = (tmp_path / "published" / "2024-25-q1" / name).read_bytes()
        assert (tmp_path / "again" / "2024-25-q1" / name).read_bytes() == published, name
    # Without --as-of: the restated figure is footnoted and the page says what changed.
    now = tmp_path / "now" / "2024-25-q1" / "finance"
    page = (now / "finance.html").read_text("utf-8")
    first = (tmp_path / "published" / "2024-25-q1" / "finance" / "finance.html").read_text("utf-8")
    restated = "restated from 96.5% (amber) to 80% (red) on "
    assert "Changes since the last report" in page and restated in page
    assert "Changes since the last report" not in first and restated not in first
    assert page.count(": late return corrected") >= 2  # the section, and the figure's notes
    from pptx import Presentation

    deck = Presentation(str(now / "finance.pptx"))
    text = "".join(
        cell.text for slide in deck.slides for shape in slide.shapes if shape.has_table
        for row in shape.table.rows for cell in row.cells
    )  # fmt: skip
    assert "† " + restated in text

    shown = kpitools("history", "FIN_KPI_01", "--db", store_url).stdout
    assert "FIN_KPI_01: Council tax collected (rolling 12 months) (Finance)" in shown
    assert "restated from 96.50: late return corrected" in shown
    assert "2024/25 Q1" in shown and "Publications of Finance" in shown


def test_store_problems_are_messages_not_tracebacks(tmp_path):
    missing = kpitools("run", "--period", "latest", "--out", str(tmp_path), check=False)
    assert missing.returncode == 2
    assert "say where the data is: --data DIR (or --db, or KPITOOLS_DB)" in missing.stderr
    empty = kpitools("scorecard", "--db", str(tmp_path / "new.db"), check=False)
    assert empty.returncode == 2
    assert empty.stderr.startswith("error: the history store sqlite:///") and (
        "holds no ingest" in empty.stderr
    )
    server = kpitools("scorecard", "--db", "postgresql+psycopg://u:secret@127.0.0.1:1/x",
                      check=False)  # fmt: skip
    assert server.returncode == 2 and "cannot be opened" in server.stderr
    assert "secret" not in server.stderr and "Traceback" not in server.stderr
