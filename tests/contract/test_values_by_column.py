"""values.csv read a column at a time gives what reading it row by row gives: the same frame,
the same problems in the same order, the same warnings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpitools.contract import validation
from kpitools.contract.tables import RawTable, find_input, read_table
from kpitools.core.config import CouncilConfig
from kpitools.core.periods import FiscalCalendar

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "example"
COLUMNS = ("measure_id", "period", "value", "numerator", "denominator", "status", "note",
           "flag", "restated_from", "rag_override", "coverage")  # fmt: skip
MEASURES = [
    # measure_id, unit, frequency
    ("M1", "percent", "monthly"),
    ("M2", "count", "monthly"),
    ("Q1", "number", "quarterly"),
    ("A1", "percent", "annual"),
]
#: Rows as councils' sheets have them: plain, and every way a row can need a word said.
ROWS = [
    ("M1", "2024-04", "84.2", "32", "38", "", "", "", "", "", ""),  # 84.21: agrees
    ("M1", "2024-05", "", "35", "40", "", "", "", "", "", ""),  # worked out: 87.5
    ("M1", "2024-06", "33.9", "961", "2927", "", "", "", "", "", ""),  # disagrees: a warning
    (" M1 ", " 2024-07 ", " 90 ", "", "", " Reported ", "  a note  ", "", "", "", ""),
    ("M1", "Aug 2024", "91", "", "", "", "", "estimate", "89", "amber", ""),
    ("M1", "2024-08", "92", "", "", "", "", "", "", "", ""),  # the same month again
    ("M1", "2024-09", "229 / 2996", "", "", "", "", "", "", "", ""),  # a ratio
    ("M1", "2024-10", "1,918 (Q3)", "", "", "", "", "", "", "", ""),  # part of its period
    ("M1", "2024-11", "", "", "", "n/a", "", "", "", "", ""),
    ("M1", "2024-12", "", "", "", "", "", "", "", "", ""),  # reported without a figure
    ("M1", "2025-01", "5", "", "", "not_available", "", "", "", "", ""),
    ("M1", "2025-02", "5", "1", "0", "", "", "", "", "", ""),  # denominator zero
    ("M1", "2025-03", "abc", "", "", "", "", "", "", "", ""),
    ("M1", "2024/25 Q1", "80", "", "", "", "", "", "", "", ""),  # a quarter, monthly measure
    ("M9", "2024-04", "1", "", "", "", "", "", "", "", ""),  # unknown measure
    ("M2", "2024-13", "1", "", "", "", "", "", "", "", ""),  # no such month
    ("M2", "", "1", "", "", "", "", "", "", "", ""),
    ("", "2024-04", "1", "", "", "", "", "", "", "", ""),
    ("M2", "2024-04", "£1,200", "", "", "missing", "", "", "", "", ""),
    ("M2", "2024-05", "(5)", "", "", "pending", "", "bad flag", "x", "purple", ""),
    ("M2", "2024-06", "7.0%", "", "", "", "", "", "", "", "3 months"),
    ("M2", "2024-07", "12", "", "", "", "", "restated, estimate", "11", "", ""),
    ("M2", "2024-08", "1e3", "", "", "mitigated", "", "", "", "", ""),
    ("Q1", "2024/25 Q1", "3", "", "", "", "", "", "", "", ""),
    ("Q1", "2024-04", "3", "", "", "", "", "", "", "", ""),  # a month, quarterly measure
    ("A1", "2023/24", "55", "11", "20", "", "", "", "", "", ""),
    ("A1", "2023/24", "55", "11", "20", "", "", "", "", "", ""),  # duplicate of the row above
    ("M2", "2024-09", "nan", "", "", "", "", "", "", "", ""),
    ("M2", "2024-10", "inf", "", "", "", "", "", "", "", ""),
]


def _context() -> validation.Context:
    config = CouncilConfig.defaults()
    calendar = FiscalCalendar(config.year_start_month)
    rows = [
        (i + 2, {"measure_id": m, "service": "S", "title": f"Measure {m}", "polarity": "up",
                 "unit": unit, "frequency": frequency})
        for i, (m, unit, frequency) in enumerate(MEASURES)
    ]  # fmt: skip
    columns = ("measure_id", "service", "title", "polarity", "unit", "frequency")
    table = RawTable.from_rows("measures.csv", columns, rows)
    measures, problems, _ = validation.check_table(
        table, validation.SPECS["measures"], validation.Context(calendar, config=config)
    )
    assert problems == []
    return validation.Context(calendar, measures.set_index("measure_id"), config=config)


def _both(table: RawTable, context: validation.Context) -> None:
    spec = validation.SPECS["values"]
    assert spec.read_columns is not None
    by_column = validation.check_table(table, spec, context)
    by_row = validation.check_table(table, dataclasses.replace(spec, read_columns=None), context)
    pd.testing.assert_frame_equal(by_column[0], by_row[0], check_dtype=True)
    assert by_column[1] == by_row[1]
    assert by_column[2] == by_row[2]


def test_every_kind_of_row_reads_as_the_row_reader_reads_it() -> None:
    table = RawTable.from_rows(
        "values.csv",
        COLUMNS,
        [(i + 2, dict(zip(COLUMNS, r, strict=True))) for i, r in enumerate(ROWS)],
    )
    spec = validation.SPECS["values"]
    frame, problems, warnings = validation.check_table(table, spec, _context())
    # Every row with a measure, a period and no duplicate is in the frame; every other
    # row's problem is named, row by row, as the row reader words it.
    assert frame["row"].tolist() == [2, 3, 4, 5, 6, 8, 10, 11, 12, 20, 21, 23, 24, 25, 27]
    assert [p.row for p in problems] == [
        6, 7, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 21, 21, 22, 23, 23, 26, 28, 29, 30
    ]  # fmt: skip
    assert str(problems[1]) == "values.csv:7: period: M1 2024-08 is a duplicate of row 6"
    assert [str(w) for w in warnings] == [
        "values.csv:4: value '33.9' for M1 2024-06 disagrees with numerator / denominator "
        "961 / 2927 = 32.8%"
    ]
    m1 = frame[frame["measure_id"] == "M1"]
    assert m1.loc[m1["period"].astype(str) == "2024-05", "value"].tolist() == [87.5]
    _both(table, _context())


@pytest.mark.parametrize("seed", range(8))
def test_shuffled_and_thinned_rows_read_the_same(seed: int) -> None:
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(len(ROWS))[: rng.integers(1, len(ROWS) + 1)]
    rows = [ROWS[i] for i in chosen]
    columns = COLUMNS[: int(rng.integers(3, len(COLUMNS) + 1))]
    table = RawTable.from_rows(
        "values.csv", columns,
        [(i + 2, dict(zip(columns, r, strict=False))) for i, r in enumerate(rows)],
    )  # fmt: skip
    _both(table, _context())


def test_the_example_councils_values_read_the_same() -> None:
    config = CouncilConfig.defaults()
    calendar = FiscalCalendar(config.year_start_month)
    found, _ = find_input(EXAMPLE, "measures")
    assert found is not None
    table, _ = read_table(found)
    assert table is not None
    measures, _, _ = validation.check_table(
        table, validation.SPECS["measures"], validation.Context(calendar, config=config)
    )
    context = validation.Context(calendar, measures.set_index("measure_id"), config=config)
    found, _ = find_input(EXAMPLE, "values")
    assert found is not None
    values, _ = read_table(found)
    assert values is not None and len(values) > 2000
    _both(values, context)
