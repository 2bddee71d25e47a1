"""The error types of kpitools: one root, a sentence for the user, never a traceback."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class KpiToolsError(Exception):
    """Root of every error kpitools raises on purpose."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in the input, located as a spreadsheet user would find it.

    Attributes:
        file: file name within the data folder, e.g. ``values.csv``.
        row: row number counting the header as row 1; ``None`` for a whole-file problem.
        column: the column concerned, or ``""``.
        message: the sentence to show, already naming the column where there is one.
    """

    file: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}:{self.row}"
        return f"{where}: {self.message}"


class ValidationError(KpiToolsError):
    """Bad input: carries every problem found, in file and row order."""

    def __init__(self, problems: Iterable[Problem]):
        unique = list(dict.fromkeys(problems))
        file_order = {name: i for i, name in enumerate(dict.fromkeys(p.file for p in unique))}
        # Files in the order they were checked, rows in sheet order within a file.
        self.problems = sorted(
            unique, key=lambda p: (file_order[p.file], p.row or 0, p.column, p.message)
        )
        super().__init__(self.report())

    def report(self) -> str:
        """All problems, one line each."""
        return "\n".join(str(p) for p in self.problems)


class RunError(KpiToolsError):
    """A run could not be completed (a notebook failed, a worker died)."""
