"""Shared fixtures: small data folders written from inline CSV text."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "data" / "example"
COUNCIL_CONFIG = ROOT / "params" / "council.yaml"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def require(tool: str) -> str:
    """The path of a program the test needs: skipped on a laptop without it, never in CI."""
    path = tool if os.path.isabs(tool) and os.path.exists(tool) else shutil.which(tool)
    if path:
        return path
    message = f"{tool} is not installed"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}, and CI must run this test (.ci/run installs it)")
    pytest.skip(message)


def convert_to_pdf(pptx: Path, out_dir: Path) -> Path:
    """Open a deck in LibreOffice (headless) and save it as PDF, as a Director's PC would."""
    soffice = require("soffice")
    profile = out_dir / "lo-profile"
    result = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
         "pdf", "--outdir", str(out_dir), str(pptx)],
        capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    pdf = out_dir / (pptx.stem + ".pdf")
    assert result.returncode == 0 and pdf.exists(), result.stderr
    return pdf


MakeData = Callable[..., Path]


@pytest.fixture
def make_data(tmp_path: Path) -> MakeData:
    """Write a data folder: ``make_data(measures="...", values="...")`` -> its path.

    Each keyword is a file stem; the text is dedented and written as ``<stem>.csv``.
    """
    counter = iter(range(1000))

    def make(**files: str) -> Path:
        folder = tmp_path / f"data{next(counter)}"
        folder.mkdir()
        for stem, text in files.items():
            (folder / f"{stem}.csv").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return folder

    return make


# -- shared by the fast in-process tests ---------------------------------------------------
QUARTER = "2024/25 Q1"


@pytest.fixture(scope="session")
def council_config():
    """The example council's configuration (``params/council.yaml``)."""
    import kpitools

    return kpitools.load_config(COUNCIL_CONFIG)


@pytest.fixture
def example(council_config):
    """The example council's data, loaded with its configuration: a fresh copy per test."""
    import kpitools

    return kpitools.load(EXAMPLE, config=council_config)


class HtmlSnapshotExtension(SingleFileSnapshotExtension):
    """An HTML snapshot as a readable ``.html`` file: a line break after each closing block tag
    (the fragments are written on one line), nothing else changed."""

    _write_mode = WriteMode.TEXT
    file_extension = "html"

    def serialize(self, data, **kwargs):
        return _BLOCK_END.sub(lambda m: m.group(0) + "\n", str(data))


_BLOCK_END = re.compile(
    r"</(?:tr|li|ul|ol|h[1-6]|p|caption|thead|tbody|table|section|article|header|footer|div|"
    r"figure|figcaption|details|summary|main|head|style|title)>(?!\n)"
)


@pytest.fixture
def html_snapshot(snapshot):
    """``assert html == html_snapshot``: compared with ``__snapshots__/<test file>/<test>.html``."""
    return snapshot.use_extension(HtmlSnapshotExtension)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the example council's data folder, to record into."""
    target = tmp_path / "data"
    shutil.copytree(EXAMPLE, target)
    return target


@pytest.fixture
def load_folder(council_config):
    """Load a folder afresh (nothing cached from before a recording)."""
    import kpitools
    from kpitools.contract.loading import clear_parsed

    def load(path: Path):
        clear_parsed()
        return kpitools.load(path, config=council_config)

    return load
