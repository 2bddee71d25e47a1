"""A new data folder: the contract's files with their columns, as a workbook to fill in.

:func:`write_template` writes ``data.xlsx`` - one sheet per contract file, the columns in
order, the allowed words of each worded column as a dropdown, and one worked example row per
sheet that passes validation - or, with ``csv=True``, one CSV file per contract file with its
header only. Either way the folder is a data folder ``kpitools validate`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kpitools.core.config import CouncilConfig
from kpitools.core.errors import KpiToolsError
from kpitools.core.model import (
    RAG,
    ActionStatus,
    Aggregation,
    Basis,
    Flag,
    Frequency,
    Polarity,
    RagMethod,
    Scale,
    Section,
    Status,
    Unit,
)

WORKBOOK = "data.xlsx"
YES_NO = ("yes", "no")


@dataclass(frozen=True)
class Sheet:
    """One contract file as the template lays it out."""

    name: str
    columns: tuple[str, ...]
    example: tuple[str | float, ...]
    words: dict[str, tuple[str, ...]]  # column -> allowed words (a dropdown)


def sheets(config: CouncilConfig) -> tuple[Sheet, ...]:
    """The contract's files in order, with their columns, words and a worked example."""
    statuses = tuple(s.value for s in Status if s is not Status.MISSING)
    return (
        Sheet(
            "measures",
            (
                "measure_id",
                "service",
                "title",
                "short_title",
                "description",
                "polarity",
                "unit",
                "scale",
                "frequency",
                "aggregation",
                "category",
                "rag_method",
                "target",
                "tolerance",
                "tsl",
                "msl",
                "lead_officer",
                "data_owner",
                "include",
                "seasonal",
                "public",
                "benchmark",
                "basis",
                "abatement_points",
                "spc_recalculate",
                "spc_baseline",
            ),
            (
                "CS_01",
                "Customer Services",
                "Calls answered within 60 seconds",
                "Calls answered",
                "Share of calls to the contact centre answered within 60 seconds",
                "up",
                "percent",
                "",
                "monthly",
                "ratio",
                config.category_names[0] if config.category_names else "",
                "thresholds",
                "",
                "",
                80,
                70,
                "Head of Customer Services",
                "Contact centre analyst",
                "yes",
                "no",
                "yes",
                "",
                "period",
                "",
                "",
                "",
            ),
            {
                "polarity": tuple(p.value for p in Polarity),
                "unit": tuple(u.value for u in Unit),
                "scale": tuple(s.value for s in Scale),
                "frequency": tuple(f.value for f in Frequency),
                "aggregation": tuple(a.value for a in Aggregation),
                "category": (*config.category_names, "other"),
                "rag_method": tuple(m.value for m in RagMethod),
                "include": YES_NO,
                "seasonal": YES_NO,
                "public": YES_NO,
                "basis": tuple(b.value for b in Basis),
            },
        ),
        Sheet(
            "targets",
            ("measure_id", "start", "end", "target", "tsl", "msl"),
            ("CS_01", "2025-04", "", "", 85, 75),
            {},
        ),
        Sheet(
            "values",
            (
                "measure_id",
                "period",
                "value",
                "numerator",
                "denominator",
                "status",
                "coverage",
                "note",
                "flags",
                "restated_from",
                "rag_override",
            ),
            ("CS_01", "2025-04", 81.5, 815, 1000, "", "", "", "", "", ""),
            {
                "status": statuses,
                "flags": tuple(f.value for f in Flag),
                "rag_override": tuple(r.value for r in RAG),
            },
        ),
        Sheet(
            "comments",
            ("service", "quarter", "measure_id", "section", "author", "comment", "internal"),
            (
                "Customer Services",
                "2025/26 Q1",
                "",
                "summary",
                "Director of Customer Services",
                "Calls answered met the target service level in April.",
                "no",
            ),
            {"section": tuple(s.value for s in Section), "internal": YES_NO},
        ),
        Sheet(
            "actions",
            ("service", "action_id", "action", "owner", "due", "status", "measures", "note"),
            (
                "Customer Services",
                "CS-A1",
                "Add a callback option at peak times",
                "Contact Centre Manager",
                "2025-09-30",
                "on_track",
                "CS_01",
                "",
            ),
            {"status": tuple(s.value for s in ActionStatus)},
        ),
        Sheet(
            "benchmarks",
            ("measure_id", "period", "area", "peer_group", "value"),
            ("CS_01", "2024/25", "Ashby", "nearest neighbours", 78.2),  # one row per peer council
            {},
        ),
    )


def write_template(folder: Path, config: CouncilConfig, *, csv: bool = False) -> list[Path]:
    """Write a new data folder; returns the files written.

    Raises:
        KpiToolsError: the folder already holds data files (nothing is overwritten).
    """
    folder.mkdir(parents=True, exist_ok=True)
    laid_out = sheets(config)
    targets = [folder / f"{sheet.name}.csv" for sheet in laid_out] if csv else [folder / WORKBOOK]
    existing = [p.name for p in targets if p.exists()]
    existing += [
        p.name
        for p in folder.iterdir()
        if p.stem.lower() in {s.name for s in laid_out} and p.suffix.lower() in {".csv", ".xlsx"}
    ]
    if existing:
        raise KpiToolsError(
            f"{folder} already holds {', '.join(sorted(set(existing)))}: "
            "choose an empty folder (nothing was written)"
        )
    if csv:
        for sheet, path in zip(laid_out, targets, strict=True):
            path.write_text(",".join(sheet.columns) + "\n", encoding="utf-8")
        return targets
    _write_workbook(targets[0], laid_out)
    return targets


def _write_workbook(path: Path, laid_out: tuple[Sheet, ...]) -> None:
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for sheet in laid_out:
        page = workbook.create_sheet(sheet.name)
        page.append(list(sheet.columns))
        page.append(list(sheet.example))
        for cell in page[1]:
            cell.font = Font(bold=True)
        page.freeze_panes = "A2"
        for index, column in enumerate(sheet.columns, start=1):
            letter = get_column_letter(index)
            page.column_dimensions[letter].width = max(12, len(column) + 4)
            words = sheet.words.get(column)
            if not words:
                continue
            listed = ",".join(words)
            check = DataValidation(
                type="list", formula1=f'"{listed}"', allow_blank=True, showErrorMessage=True
            )
            check.error = f"{column} is one of: {', '.join(words)}"
            check.errorTitle = f"Not a {column}"
            page.add_data_validation(check)
            check.add(f"{letter}2:{letter}5000")
    # Reproducible bytes: the workbook's own dates are fixed, not now().
    import datetime as dt

    fixed = dt.datetime(2025, 1, 1)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    workbook.properties.creator = "kpitools"
    workbook.save(path)
