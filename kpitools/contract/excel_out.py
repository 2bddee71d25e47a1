"""Workbooks kpitools writes: text never taken for a formula, the same bytes every time.

A cell is given its value as a string, a number, a date or a boolean; text is always stored
as text (a comment that begins with ``=`` stays words, never a formula Excel would run), and
a workbook is saved with the report's date in place of the clock and written atomically.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools.core.files import reproducible_zip, write_atomic


def put(cell: Any, value: object) -> None:
    """Set a cell: text as text whatever it begins with; NaN and None as an empty cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        cell.value = None
    elif isinstance(value, str):
        cell.value = value or None
        if value:
            cell.data_type = "s"  # never "f": '=HYPERLINK(...)' stays text
    else:
        cell.value = value


def save(workbook: Any, path: Path, stamp: dt.datetime) -> None:
    """Save ``workbook`` to ``path`` atomically, its timestamps fixed to ``stamp``."""
    props = workbook.properties
    props.created = props.modified = stamp
    buffer = io.BytesIO()
    workbook.save(buffer)
    write_atomic(path, reproducible_zip(buffer.getvalue(), stamp))


# -- the scorecard ---------------------------------------------------------------------------
PERCENT_COLUMNS = ("variance_pct", "change_pct", "tolerance")
WIDE = {"title": 42, "exception_reasons": 36, "note": 30, "data_quality": 24, "service": 22}


def write_scorecard(
    rows: pd.DataFrame, path: Path, fills: dict[str, str], words: dict[str, str],
    stamp: dt.datetime, title: str,
) -> None:  # fmt: skip
    """The scorecard as a workbook: a header row frozen and filtered, RAG as fill and word
    (``fills``: RAG -> hex colour; ``words``: RAG -> its word with symbol), numbers as
    numbers with formats (per cent for variance and change shares), booleans as TRUE/FALSE.
    """
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from kpitools.core.colours import text_colour_on

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Scorecard"
    columns = list(rows.columns)
    bold = Font(bold=True)
    for c, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=c)
        put(cell, name)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    rag_columns = {columns.index(c) + 1 for c in ("rag", "rag_calculated") if c in columns}
    for r, record in enumerate(rows.itertuples(index=False), start=2):
        for c, value in enumerate(record, start=1):
            cell = sheet.cell(row=r, column=c)
            name = columns[c - 1]
            if c in rag_columns and isinstance(value, str) and value in fills:
                put(cell, words.get(value, value))
                fill = fills[value].lstrip("#").upper()
                cell.fill = PatternFill("solid", fgColor=fill)
                cell.font = Font(bold=True, color=text_colour_on(fills[value]).lstrip("#"))
                continue
            if isinstance(value, bool):
                cell.value = value
            elif isinstance(value, int | float) and not isinstance(value, bool):
                put(cell, float(value))
                if cell.value is not None:
                    cell.number_format = "0.0%" if name in PERCENT_COLUMNS else "#,##0.###"
            else:
                put(cell, "" if value is None else str(value))
    sheet.freeze_panes = "B2"
    if rows.shape[0]:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{rows.shape[0] + 1}"
    for c, name in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = WIDE.get(name, max(10, len(name) + 2))
    workbook.properties.title = title
    workbook.properties.creator = "kpitools"
    save(workbook, path, stamp)
