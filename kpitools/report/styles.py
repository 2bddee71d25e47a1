"""The reports' page templates and stylesheet: files that ship with kpitools, read without
loading the report's data libraries (a batch worker exports pages and nothing more)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates" / "nbconvert"


@cache
def report_css() -> str:
    """The reports' stylesheet (shared by the service reports and the overview page)."""
    return (TEMPLATES / "cpr" / "report.css").read_text(encoding="utf-8")
