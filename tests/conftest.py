"""Shared fixtures: small data folders written from inline CSV text."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "data" / "example"

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
