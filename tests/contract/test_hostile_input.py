"""Bad input from the catalogue of hostile and careless cases: each is refused with a
sentence naming file (and sheet), row and column, or read as a person meant it."""

import csv
import io
import zipfile

import openpyxl
import pytest

import kpitools
from kpitools.contract.validation import period_years
from kpitools.core.config import CouncilConfig
from kpitools.core.errors import ValidationError
from kpitools.core.periods import FiscalCalendar

MEASURES = """\
measure_id,service,title,polarity,unit,target
M1,Customer,Calls answered,up,percent,80
M2,Customer,Complaints,down,count,30
"""


def problems_of(folder, config=None) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        kpitools.load(folder, config=config)
    return [str(p) for p in caught.value.problems]


# -- plausibility -------------------------------------------------------------------------
def test_periods_outside_the_years_data_may_cover_are_refused(make_data):
    config = CouncilConfig(council="Test", latest_year=2026)
    data = make_data(
        measures=MEASURES,
        values="""\
        measure_id,period,value
        M1,2024-04,81
        M1,2999-04,82
        M2,1989-04,3
        M2,2027-03,4
        M2,2027-04,5
        """,
    )
    window = "1990/91 to 2026/27, the financial years data may cover"
    assert problems_of(data, config) == [
        f"values.csv:3: period '2999-04' is outside {window}: a typing error? (earliest_year "
        "and latest_year in the configuration set them)",
        f"values.csv:4: period '1989-04' is outside {window}: a typing error? (earliest_year "
        "and latest_year in the configuration set them)",
        f"values.csv:6: period '2027-04' is outside {window}: a typing error? (earliest_year "
        "and latest_year in the configuration set them)",
    ]


def test_the_years_follow_the_configuration_and_the_date():
    import datetime as dt

    calendar = FiscalCalendar(4)
    # By default: 1990/91 to the financial year after the one holding today.
    assert period_years(calendar, None, dt.date(2026, 12, 1)) == (1990, 2027)
    assert period_years(calendar, None, dt.date(2027, 3, 31)) == (1990, 2027)
    assert period_years(calendar, None, dt.date(2027, 4, 1)) == (1990, 2028)
    own = CouncilConfig(council="Test", earliest_year=2000, latest_year=2030)
    assert period_years(calendar, own, dt.date(2026, 12, 1)) == (2000, 2030)
    with pytest.raises(ValueError, match="latest_year 1999 is before earliest_year 2000"):
        CouncilConfig(council="Test", earliest_year=2000, latest_year=1999)


def test_targets_and_comments_are_held_to_the_same_years(make_data):
    config = CouncilConfig(council="Test", latest_year=2026)
    data = make_data(
        measures=MEASURES,
        values="measure_id,period,value\nM1,2024-04,81\n",
        targets="measure_id,start,end,target\nM1,2024-04,2099-03,85\n",
        comments="service,quarter,section,comment\nCustomer,2202/03 Q1,summary,Fine\n",
    )
    found = problems_of(data, config)
    assert found[0].startswith("targets.csv:2: end '2099-03' is outside 1990/91 to 2026/27")
    assert found[1].startswith("comments.csv:2: quarter '2202/03 Q1' is outside 1990/91")


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            "M1,2024-04,,32,-38",
            "values.csv:2: denominator -38 for M1 2024-04 is negative: a denominator counts "
            "what the measure is out of, so it is above zero",
        ),
        (
            "M1,2024-04,220,88,40",
            "values.csv:2: numerator 88 for M1 2024-04 is above its denominator 40: a "
            "percentage of a whole is at most 100% (for a measure that may pass 100%, give the "
            "value without numerator and denominator)",
        ),
        (
            "M1,2024-04,,88,40",
            "values.csv:2: numerator 88 for M1 2024-04 is above its denominator 40: a "
            "percentage of a whole is at most 100% (for a measure that may pass 100%, give the "
            "value without numerator and denominator)",
        ),
        (
            "M1,2024-04,,-3,40",
            "values.csv:2: numerator -3 for M1 2024-04 is negative: a percentage's numerator "
            "counts part of its denominator",
        ),
        (
            "M2,2024-04,,5,-2",
            "values.csv:2: denominator -2 for M2 2024-04 is negative: a denominator counts "
            "what the measure is out of, so it is above zero",
        ),
    ],
)
def test_impossible_ratios_are_refused(make_data, row, problem):
    # The first data row alone goes to the row reader; many plain rows go by columns:
    # the same problem either way.
    plain = "".join(f"M2,{y}-{m:02d},{m}\n" for y in (2021, 2022) for m in range(1, 13))
    for body in (row + "\n", row + "\n" + plain):
        data = make_data(
            measures=MEASURES, values="measure_id,period,value,numerator,denominator\n" + body
        )
        assert problems_of(data) == [problem]


def test_a_count_may_have_a_numerator_above_its_denominator(make_data):
    # A ratio of counts (visits per member) is not a percentage of a whole.
    data = make_data(
        measures=MEASURES, values="measure_id,period,value,numerator,denominator\nM2,2024-04,,9,3\n"
    )
    assert kpitools.load(data).values["value"].tolist() == [3.0]


# -- duplicates in every file ----------------------------------------------------------------
def test_rows_pasted_twice_are_refused_in_every_file(make_data):
    data = make_data(
        measures=MEASURES,
        values="measure_id,period,value\nM1,2024-04,81\n",
        targets="measure_id,start,target\nM1,2024-04,85\nM1,2024-04,85\n",
        comments=(
            "service,quarter,section,comment\nCustomer,2024/25 Q1,summary,Fine\n"
            "Customer,2024/25 Q1,summary, Fine \n"
        ),
        benchmarks="measure_id,period,area,value\nM1,2022/23,Ashby,70\nM1,2022/23,Ashby,70\n",
    )
    assert problems_of(data) == [
        "targets.csv:3: row repeats row 2 cell for cell",
        "comments.csv:3: row repeats row 2 cell for cell",
        "benchmarks.csv:3: row repeats row 2 cell for cell",
    ]


def test_a_peer_given_twice_with_different_values_is_refused(make_data):
    data = make_data(
        measures=MEASURES,
        values="measure_id,period,value\nM1,2024-04,81\n",
        benchmarks=(
            "measure_id,period,area,peer_group,value\nM1,2022/23,Ashby,CIPFA,70\n"
            "M1,2022/23,ashby,cipfa,71\nM1,2022/23,Ashby,nearest,71\n"
        ),
    )
    assert problems_of(data) == [
        "benchmarks.csv:3: area 'ashby' for M1 2022/23 (cipfa) is a duplicate of row 2"
    ]


# -- text and separators -----------------------------------------------------------------
@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x0b", "\x0c", "\x85"])
def test_a_line_separator_inside_a_comment_is_part_of_it(make_data, separator):
    data = make_data(
        measures=MEASURES,
        values="measure_id,period,value\nM1,2024-04,81\n",
        comments="service,quarter,section,comment\n"
        f"Customer,2024/25 Q1,summary,one{separator}two\n",
    )
    comments = kpitools.load(data).comments
    assert comments["comment"].tolist() == [f"one{separator}two"]


def test_a_header_in_one_separator_and_rows_in_another_is_named(make_data):
    data = make_data(measures=MEASURES)
    (data / "values.csv").write_text("measure_id\nM1;2024-04;81\n")
    assert problems_of(data)[0] == "values.csv: missing required column 'period'"
    (data / "values.csv").write_text("measure_id period value\nM1,2024-04,81\n")
    assert problems_of(data) == [
        "values.csv:2: row has 3 cells but the header has 1 column: the header row has no "
        "comma, semicolon or tab, so kpitools cannot tell how the file is separated; separate "
        "the header's names as the rows are"
    ]
    (data / "values.csv").write_text("measure_id;period;value\nM1;2024-04;81,5;x\n")
    assert problems_of(data) == [
        "values.csv:2: row has 4 cells but the header has 3 columns (the header is separated "
        "by semicolons)"
    ]


def test_a_semicolon_file_with_decimal_commas_is_read(make_data):
    data = make_data(measures=MEASURES)
    (data / "values.csv").write_text("measure_id;period;value\nM1;2024-04;81\nM2;2024-04;3\n")
    assert kpitools.load(data).values["value"].tolist() == [81.0, 3.0]


# -- workbooks ---------------------------------------------------------------------------
def _workbook(path, sheets, hidden=()):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    book.save(path)


VALUES_ROWS = [["measure_id", "period", "value"], ["M1", "2024-04", 81], ["M2", "2024-04", "x"]]


def test_a_cover_sheet_is_passed_over_and_the_sheet_read_is_named(make_data):
    data = make_data(measures=MEASURES)
    _workbook(data / "values.xlsx", {"Cover": [["Figures for 2024/25"]], "Data": VALUES_ROWS})
    assert problems_of(data) == ["values.xlsx[Data]:3: value 'x' for M2 2024-04 is not a number"]


def test_a_workbook_of_several_data_sheets_asks_which(make_data):
    data = make_data(measures=MEASURES)
    _workbook(data / "values.xlsx", {"Cover": [["Figures"]], "Notes": [["Read me"]]})
    assert problems_of(data) == [
        "values.xlsx: has sheets 'Cover', 'Notes' and none has the columns measure_id, period, "
        "value: name the sheet to read 'values'"
    ]


def test_hidden_sheets_are_never_read(make_data):
    data = make_data(measures=MEASURES)
    _workbook(data / "values.xlsx", {"values": VALUES_ROWS, "Notes": [["x"]]}, hidden={"values"})
    [problem] = problems_of(data)
    assert problem.startswith("values.xlsx: sheet 'values' is hidden in Excel")
    # A hidden sheet of a whole-folder workbook too.
    data = make_data(measures=MEASURES, values="measure_id,period,value\nM1,2024-04,81\n")
    _workbook(
        data / "council.xlsx",
        {"Cover": [["x"]], "targets": [["measure_id", "start", "target"]]},
        hidden={"targets"},
    )
    [problem] = problems_of(data)
    assert problem.startswith("council.xlsx[targets]: sheet 'targets' is hidden in Excel")


def _saved(sheets) -> bytes:
    book = openpyxl.Workbook()
    for row in sheets:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_part(blob: bytes, part: str, text: bytes) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(blob)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, text if info.filename == part else source.read(info.filename))
    return out.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@pytest.mark.parametrize(
    ("blob", "start"),
    [
        (OLE + b"\0" * 512 + "EncryptedPackage".encode("utf-16-le"), "is protected by a password"),
        (OLE + b"\0" * 1024, "is an Excel 97-2003 workbook (.xls)"),
        (_saved(VALUES_ROWS)[:900], "is not a readable Excel workbook: it is damaged"),
        (
            _with_part(_saved(VALUES_ROWS), "xl/worksheets/sheet1.xml", b"<worksheet><sheetDa"),
            "is not a readable Excel workbook: it is damaged",
        ),
        (
            _with_part(_saved(VALUES_ROWS), "xl/workbook.xml", b"<not xml"),
            "is not a readable Excel workbook: it is damaged",
        ),
        (b"", "is not a readable Excel workbook: it is damaged"),
    ],
)
def test_encrypted_old_and_damaged_workbooks_are_named(make_data, blob, start):
    data = make_data(measures=MEASURES)
    (data / "values.xlsx").write_bytes(blob)
    [problem] = problems_of(data)
    assert problem.startswith(f"values.xlsx: {start}")


def test_a_damaged_whole_folder_workbook_is_named_not_only_missing(tmp_path):
    (tmp_path / "council.xlsx").write_bytes(OLE + b"\0" * 1024)
    problem = problems_of(tmp_path)[0]
    assert problem == (
        "council.xlsx: is an Excel 97-2003 workbook (.xls), not an .xlsx: open it in Excel and "
        "save it as 'Excel Workbook (.xlsx)'; so measures is not found"
    )


# -- names -------------------------------------------------------------------------------
def test_a_service_name_longer_than_a_slide_can_head_is_refused(make_data):
    name = "C" * 101
    data = make_data(
        measures=f"measure_id,service,title,polarity,unit,target\nM1,{name},Calls,up,percent,80\n",
        values="measure_id,period,value\nM1,2024-04,81\n",
    )
    assert problems_of(data) == [
        f"measures.csv:2: service '{name[:39]}…' is 101 characters long: at most 100 (the name "
        "heads the service's slides and web page)"
    ]


def test_document_properties_are_cut_to_what_the_format_holds():
    from kpitools.report.deck import core_property

    assert core_property("x" * 255) == "x" * 255
    assert core_property("x" * 300) == "x" * 254 + "…"


# -- formulas in the CSV files kpitools writes ---------------------------------------------
FORMULAS = ["=HYPERLINK(\"http://x\",\"Click\")", "+44 20 7946 0000", "-x", "@SUM(A1:A9)",
            "\t=1+1", "'=already marked", "''-twice"]  # fmt: skip
NUMBERS = ["-4.5", "-3%", "+2", "-1e5", "-.5", "1,234"]


def test_contract_csv_files_written_hold_no_formula_and_read_back_the_same(tmp_path):
    from kpitools.contract.tables import read_table, write_table

    cells = [*FORMULAS, *NUMBERS, "Children's Services", "'quoted"]
    path = tmp_path / "comments.csv"
    write_table(path, ["comment", "n"], [{"comment": c, "n": str(i)} for i, c in enumerate(cells)])
    with path.open(encoding="utf-8", newline="") as file:
        written = [row[0] for row in csv.reader(file)][1:]
    for text, cell in zip(written, cells, strict=True):
        if cell in FORMULAS:
            assert text == "'" + cell  # Excel shows it as text and runs nothing
        else:
            assert text == cell
    table, problems = read_table(path)
    assert problems == [] and list(table.cells["comment"]) == cells
