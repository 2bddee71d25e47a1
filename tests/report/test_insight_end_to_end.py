"""The insight beyond RAG, end to end: the example council's run shows each of special cause
improvement and concern, a quartile-4 measure, a red measure forecast back on target, a
contract service credit and a target-review flag in its HTML; the exploration notebook runs,
gives the same bytes twice and passes axe-core in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import COUNCIL_CONFIG, EXAMPLE
from tests.report.test_report_end_to_end import QUARTER, chromium_page, kpitools, run_example

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_root(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("insight")
    run_example(out)
    return out / QUARTER


def page(root: Path, slug: str) -> str:
    return (root / slug / f"{slug}.html").read_text(encoding="utf-8")


def test_the_example_run_shows_each_kind_of_insight(run_root) -> None:
    finance = page(run_root, "finance")
    waste = page(run_root, "waste-and-environment")
    assert "Summary matrix for Finance" in finance
    assert "</span> Concern (" in finance  # special cause concern
    assert "</span> Improvement (" in waste  # special cause improvement
    adults = page(run_root, "adult-social-care")
    assert "<strong>Quartile 4</strong> of nearest neighbours" in adults
    assert "5 of 6 peers (region) reported for 2023/24" in adults  # partial peer data said
    children = page(run_root, "childrens-services")
    assert "On current trend back on target by November 2024" in children
    assert "Forecast (linear trend of the last 12 months)" in children  # labelled as such
    ict = page(run_root, "ict-and-digital")
    assert "480 abatement points</strong>, £12,000 in service credits" in ict
    assert "Consider a more ambitious target" in waste
    overview = (run_root / "index.html").read_text(encoding="utf-8")
    assert "Summary matrix: every measure, what needs attention first" in overview
    assert "<h2>Targets to review</h2>" in overview


@pytest.mark.parametrize("slug", ["adult-social-care", "ict-and-digital"])
def test_axe_finds_no_problems_in_the_new_sections(run_root, slug) -> None:
    from axe_playwright_python.sync_playwright import Axe

    with chromium_page((run_root / slug / f"{slug}.html").as_uri()) as browser_page:
        results = Axe().run(browser_page)
    found = [(v["id"], v["impact"], v["nodes"][0]["html"][:120])
             for v in results.response["violations"]]  # fmt: skip
    assert found == []
    assert results.response["passes"], "axe did not run"


def test_the_overview_passes_axe(run_root) -> None:
    from axe_playwright_python.sync_playwright import Axe

    with chromium_page((run_root / "index.html").as_uri()) as browser_page:
        results = Axe().run(browser_page)
    assert [v["id"] for v in results.response["violations"]] == []


def _first_difference(one: bytes, two: bytes) -> str:
    """Where two files first differ, short enough to read in CI's tail of the log."""
    at = next(
        (i for i, (a, b) in enumerate(zip(one, two, strict=False)) if a != b),
        min(len(one), len(two)),
    )
    line = one[:at].count(b"\n") + 1
    return (
        f"sizes {len(one)} and {len(two)}, first difference at byte {at} (line {line}): "
        f"{one[max(at - 120, 0) : at + 80]!r} against {two[max(at - 120, 0) : at + 80]!r}"
    )


@pytest.fixture(scope="module")
def explored(tmp_path_factory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("explore1"), tmp_path_factory.mktemp("explore2")
    for out in (first, second):
        result = kpitools("explore", "--data", str(EXAMPLE), "--config", str(COUNCIL_CONFIG),
                          "--out", str(out))  # fmt: skip
        assert "explore.html" in result.stdout
    return first / QUARTER, second / QUARTER


def test_the_exploration_notebook_runs_the_same_every_time(explored) -> None:
    first, second = explored
    for name in ("explore.ipynb", "explore.html"):
        one, two = (first / name).read_bytes(), (second / name).read_bytes()
        if one != two:  # pytest's own diff of megabytes would hide where they differ
            pytest.fail(f"{name}: {_first_difference(one, two)}")
    html = (first / "explore.html").read_text(encoding="utf-8")
    headings = [
        "Every measure on one page",
        "Where RAG and SPC disagree",
        "How do we compare?",
        "Where each measure is heading",
        "XmR chart",
        "Every point, for your own analysis",
    ]
    for heading in headings:
        assert heading in html, heading
    assert html.count("Statistical process control (XmR chart) for") >= 60


def test_the_exploration_page_passes_axe(explored) -> None:
    from axe_playwright_python.sync_playwright import Axe

    with chromium_page((explored[0] / "explore.html").as_uri()) as browser_page:
        results = Axe().run(browser_page)
    found = [(v["id"], v["impact"], v["nodes"][0]["html"][:120])
             for v in results.response["violations"]]  # fmt: skip
    assert found == []


def test_a_failing_exploration_notebook_writes_nothing(tmp_path) -> None:
    broken = tmp_path / "mine.ipynb"
    broken.write_text(
        '{"cells": [{"cell_type": "code", "execution_count": null, "id": "a", "metadata": '
        '{"tags": ["parameters"]}, "outputs": [], "source": ["data_dir = \'\'"]}, '
        '{"cell_type": "code", "execution_count": null, "id": "b", "metadata": {}, '
        '"outputs": [], "source": ["1 / 0"]}], "metadata": {"kernelspec": {"name": '
        '"python3", "display_name": "Python 3", "language": "python"}}, "nbformat": 4, '
        '"nbformat_minor": 5}',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = kpitools("explore", "--data", str(EXAMPLE), "--notebook", str(broken), "--out",
                      str(out), check=False)  # fmt: skip
    assert result.returncode == 1  # a fault, not bad input
    assert "mine.ipynb cell 3: ZeroDivisionError" in result.stderr
    assert "nothing written" in result.stderr
    assert not list(out.rglob("explore.*"))
