"""kpitools run for a month and for a financial year, through the real batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pptx import Presentation

from tests.conftest import COUNCIL_CONFIG, EXAMPLE, ROOT

pytestmark = pytest.mark.slow  # real notebooks, in a subprocess


def run(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kpitools", "run", "--data", str(EXAMPLE), "--config",
         str(COUNCIL_CONFIG), "--out", str(out), "--jobs", "2", *args],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("period", "folder", "words"),
    [
        ("2024-06", "2024-06", "June 2024"),
        ("2023/24", "2023-24-year", "2023/24"),
        ("2024-03..2024-05", "2024-03-to-2024-05", "March to May 2024"),
    ],
)
def test_a_month_a_year_and_a_run_of_months_are_reported(tmp_path, period, folder, words):
    result = run(tmp_path, "--period", period, "--service", "ICT & Digital")
    assert result.returncode == 0, result.stderr
    root = tmp_path / folder
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["quarter"] == period
    assert manifest["services"]["ict-and-digital"]["status"] == "ok"
    overview = (root / "index.html").read_text(encoding="utf-8")
    assert f"Corporate Performance Reports, {words}</h1>" in overview
    deck = Presentation(str(root / "ict-and-digital" / "ict-and-digital.pptx"))
    assert deck.slides[0].shapes.title.text == f"ICT & Digital: at a glance, {words}"
    page = (root / "ict-and-digital" / "ict-and-digital.html").read_text(encoding="utf-8")
    assert f"ICT &amp; Digital: Corporate Performance Report, {words}</h1>" in page


def test_a_run_of_months_backwards_is_refused_before_anything_is_written(tmp_path):
    result = run(tmp_path, "--period", "2024-06..2024-04")
    assert result.returncode == 2
    assert "'2024-06..2024-04' is not a run of months: it ends before it starts" in result.stderr
    assert "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())
