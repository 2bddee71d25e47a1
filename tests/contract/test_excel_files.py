"""The data folder reads what Excel writes: encodings, separators, workbooks of sheets."""

import openpyxl
import pytest

import kpitools
from kpitools.core.errors import ValidationError

MEASURES = (
    "measure_id,service,title,polarity,unit,target\nM1,Finance,Budget – forecast £,up,percent,90\n"
)
VALUES = "measure_id,period,value\nM1,2024-05,88\nM1,2024-06,91\n"


def problems_of(folder) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        kpitools.load(folder)
    return [str(p) for p in raised.value.problems]


@pytest.mark.parametrize(
    ("encoding", "separator"),
    [
        ("utf-8", ","),
        ("utf-8-sig", ","),
        ("cp1252", ","),  # Excel's plain "CSV (Comma delimited)" on a UK PC
        ("utf-16", "\t"),  # Excel's "Unicode Text"
        ("utf-16-le", ","),
        ("cp1252", ";"),  # Excel with a European list separator
    ],
)
def test_a_csv_as_excel_saves_it_loads(tmp_path, encoding, separator):
    for name, text in (("measures", MEASURES), ("values", VALUES)):
        body = text.replace(",", separator).replace("\n", "\r\n")
        (tmp_path / f"{name}.csv").write_bytes(body.encode(encoding))
    dataset = kpitools.load(tmp_path)
    assert dataset.measures.loc["M1", "title"] == "Budget – forecast £"
    assert dataset.values["value"].tolist() == [88.0, 91.0]


def test_bytes_no_encoding_reads_are_located(tmp_path):
    (tmp_path / "measures.csv").write_text(MEASURES, encoding="utf-8")
    (tmp_path / "values.csv").write_bytes(b"measure_id,period,value\nM1,2024-06,\x9d1\n")
    assert problems_of(tmp_path) == [
        "values.csv: is not text in an encoding kpitools reads (UTF-8, UTF-16 or "
        "Windows-1252): byte 0x9d on line 2; save it as 'CSV UTF-8'"
    ]


def _sheet(workbook, name: str, text: str) -> None:
    sheet = workbook.create_sheet(name)
    for line in text.strip().splitlines():
        sheet.append([_cell(v) for v in line.split(",")])


def _cell(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def test_one_workbook_with_a_sheet_per_file_is_a_data_folder(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    _sheet(workbook, "Read me", "This workbook holds our performance data")
    _sheet(workbook, "Measures", MEASURES)
    _sheet(workbook, "values", VALUES)
    workbook.save(tmp_path / "northfield-performance.xlsx")
    dataset = kpitools.load(tmp_path)
    assert list(dataset.measures.index) == ["M1"]
    assert len(dataset.values) == 2


def test_problems_in_a_workbook_name_its_sheet(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    _sheet(workbook, "measures", MEASURES)
    _sheet(workbook, "values", VALUES + "M1,2024-07,lots\nM9,2024-07,5\n")
    workbook.save(tmp_path / "council.xlsx")
    assert problems_of(tmp_path) == [
        "council.xlsx[values]:4: value 'lots' for M1 2024-07 is not a number",
        "council.xlsx[values]:5: measure_id 'M9' is not in measures",
    ]


def test_a_contract_workbook_with_several_sheets_names_the_sheet_it_read(tmp_path):
    (tmp_path / "measures.csv").write_text(MEASURES, encoding="utf-8")
    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["Figures as at June"])
    _sheet(workbook, "Values", VALUES + "M1,2024-07,x\n")
    workbook.save(tmp_path / "values.xlsx")
    assert problems_of(tmp_path) == [
        "values.xlsx[Values]:4: value 'x' for M1 2024-07 is not a number"
    ]


def test_a_file_given_twice_is_refused(tmp_path):
    (tmp_path / "measures.csv").write_text(MEASURES, encoding="utf-8")
    (tmp_path / "values.csv").write_text(VALUES, encoding="utf-8")
    workbook = openpyxl.Workbook()
    _sheet(workbook, "values", VALUES)
    workbook.save(tmp_path / "data.xlsx")
    # values.csv is the contract's own file: the workbook's sheet is not read as well.
    assert len(kpitools.load(tmp_path).values) == 2
