"""Plain CSV files read by pandas' C parser give the table the record reader gives."""

from __future__ import annotations

import pytest

from kpitools.contract.tables import RawTable, _csv_by_columns, _csv_records, _to_table

PLAIN = {
    "simple": "measure_id,period,value\nM1,2024-04,84.2\nM1,2024-05,85\n",
    "blank rows": "a,b\n1,2\n\n,\n  ,\t\n3,4\n\n",
    "short rows": "a,b,c\n1\n2,3\n,,9\n",
    "spaces kept": "a,b\n  x  , NA \nnull,None\n",
    "semicolons": "measure_id;period;value\nM1;2024-04;84,2\n",
    "tabs": "a\tb\n1\t2\n",
    "CRLF": "a,b\r\n1,2\r\n3,4\r\n",
    "CR only": "a,b\r1,2\r3,4\r",
    "no final line end": "a,b\n1,2",
    "empty header names": "a,,b,\n1,x,2,\n",
    "header only": "a,b\n",
    "unicode": "measure_id,note\nM1,café – £5 ✓\n",
    "blank first cell": "a,b\n,2\n ,3\n",
    "duplicate header": "a,A,b\n1,2,3\n",
    "trailing blank header cells": "a,b,,\n1,2\n3,4,,\n",
}
#: Files the C parser must leave to the record reader.
OTHERS = {
    "quotes": 'a,b\n"1,5",2\n',
    "more cells than the header": "a,b\n1,2,3\n",
    "a line separator in a cell": "a,b\n1\u20282,3\n",
    "empty": "",
    "whitespace only": "  \n\n",
}


def _cells(table: RawTable | None) -> object:
    if table is None:
        return None
    return (table.file, table.columns, list(table.numbers),
            {c: list(table.cells[c]) for c in table.columns})  # fmt: skip


@pytest.mark.parametrize("name", list(PLAIN))
def test_plain_files_read_as_the_record_reader_reads_them(name: str) -> None:
    text = PLAIN[name]
    fast = _csv_by_columns("values.csv", text)
    assert fast is not None, name
    header, body = _csv_records(text)
    table, problems = _to_table("values.csv", header, body)
    assert _cells(fast[0]) == _cells(table)
    assert fast[1] == problems
    if table is not None:
        assert fast[0] is not None
        assert fast[0].rows == table.rows


@pytest.mark.parametrize("name", list(OTHERS))
def test_other_files_are_left_to_the_record_reader(name: str) -> None:
    assert _csv_by_columns("values.csv", OTHERS[name]) is None


def test_blank_rows_keep_the_numbers_a_spreadsheet_shows() -> None:
    fast = _csv_by_columns("values.csv", PLAIN["blank rows"])
    assert fast is not None and fast[0] is not None
    assert fast[0].numbers == (2, 6)
