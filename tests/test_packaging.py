"""kpitools as a user installs it: a wheel built from the checkout, in a virtualenv of its own.

The wheel must carry everything a run needs (the CPR notebook, the slide and nbconvert
templates, ``py.typed``); installed with nothing else, ``kpitools run`` on a copy of the
example council builds every service's deck.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import kpitools
from tests.conftest import EXAMPLE, ROOT

pytestmark = pytest.mark.slow  # builds a wheel and a virtualenv in subprocesses

LEFT_OUT = {".git", ".venv", "outputs", "build", "dist", ".mypy_cache", ".pytest_cache",
            ".ruff_cache", "benchmarks", "kpitools.egg-info"}  # fmt: skip


def run(*args: str | Path, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, check=False,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the checkout (the build leaves nothing in the checkout)."""
    source = tmp_path_factory.mktemp("source") / "kpitools"
    shutil.copytree(ROOT, source, ignore=lambda folder, names: LEFT_OUT & set(names))
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--wheel", "--outdir", out, ".", cwd=source)
    [built] = out.glob("kpitools-*.whl")
    return built


def test_the_wheel_carries_the_notebook_templates_and_types(wheel: Path) -> None:
    assert wheel.name == f"kpitools-{kpitools.__version__}-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "kpitools/notebooks/cpr.ipynb",
        "kpitools/notebooks/explore.ipynb",
        "kpitools/report/templates/cpr-16x9.pptx",
        "kpitools/report/templates/nbconvert/cpr/index.html.j2",
        "kpitools/report/templates/nbconvert/cpr/conf.json",
        "kpitools/report/templates/nbconvert/cpr/report.css",
        "kpitools/py.typed",
        "kpitools/batch/run.py",
    ):
        assert needed in names, needed
    packaged = zipfile.ZipFile(wheel).read("kpitools/notebooks/cpr.ipynb")
    assert packaged == (ROOT / "notebooks" / "cpr.ipynb").read_bytes()


def test_a_wheel_in_a_fresh_virtualenv_runs_the_example_council(
    wheel: Path, tmp_path: Path
) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", wheel, cwd=tmp_path)
    version = run(bin_dir / "kpitools", "--version", cwd=tmp_path).stdout
    assert version.strip() == f"kpitools, version {kpitools.__version__}"

    council = tmp_path / "council"
    shutil.copytree(EXAMPLE, council)
    result = run(bin_dir / "kpitools", "run", "--data", council, "--quarter", "latest",
                 "--out", tmp_path / "out", "--jobs", "2", cwd=tmp_path)  # fmt: skip
    root = tmp_path / "out" / "2024-25-q1"
    decks = sorted(p.relative_to(root).as_posix() for p in root.glob("*/*.pptx"))
    assert decks == [
        "adult-social-care/adult-social-care.pptx",
        "childrens-services/childrens-services.pptx",
        "customer-services/customer-services.pptx",
        "finance/finance.pptx",
        "ict-and-digital/ict-and-digital.pptx",
        "waste-and-environment/waste-and-environment.pptx",
    ]
    assert (root / "index.html").is_file() and (root / "manifest.json").is_file()
    # The shipped notebook ran (the manifest names it without a machine's path), and in the
    # installed wheel the shipped notebook is the one inside the virtualenv, not the checkout's.
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["notebook"]["path"] == "kpitools:cpr.ipynb", result.stderr
    where = run(bin_dir / "python", "-c", "from kpitools.batch.plan import default_notebook; "
                "print(default_notebook())", cwd=tmp_path).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(env_dir) and where.endswith("kpitools/notebooks/cpr.ipynb")
    # The fonts the deck is measured with ship in the wheel.
    assert (Path(where).parent.parent / "report" / "fonts" / "Carlito-Regular.ttf").is_file()
