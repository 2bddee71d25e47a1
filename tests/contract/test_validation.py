import pytest

import kpitools
from kpitools.contract.validation import parse_number
from kpitools.core.errors import ValidationError

MEASURES = """\
measure_id,service,title,polarity,unit,target
M1,Customer,Calls answered,up,percent,80
M2,Customer,Complaints,down,count,30
"""


@pytest.mark.parametrize(
    ("text", "number", "percent"),
    [
        ("7", 7.0, False),
        ("7.0%", 7.0, True),
        (" 7.5 % ", 7.5, True),
        ("5,705", 5705.0, False),
        ("1,234,567.5", 1234567.5, False),
        ("£1,200", 1200.0, False),
        ("-£1,200", -1200.0, False),
        ("(1,200)", -1200.0, False),
        ("\u22123.5", -3.5, False),
        ("1.5e3", 1500.0, False),
        (".5", 0.5, False),
    ],
)
def test_parse_number_accepts_spreadsheet_text(text, number, percent):
    assert parse_number(text) == (number, percent)


@pytest.mark.parametrize("text", ["abc", "12,34", "1.2.3", "£", "", "nan", "inf", "7 %%", "1,2345"])
def test_parse_number_rejects(text):
    with pytest.raises(ValueError):
        parse_number(text)


def problems_of(folder) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        kpitools.load(folder)
    return [str(p) for p in caught.value.problems]


def test_every_problem_of_every_file_in_one_go(make_data):
    data = make_data(
        measures="""\
        measure_id,service,title,polarity,unit,frequency,target,tsl,msl,rag_method
        M1,Customer,Calls answered,up,percent,monthly,80,,,
        M2,Customer,Complaints,sideways,count,monthly,30,,,
        M3,Customer,Abandoned,down,furlongs,fortnightly,,7,10,
        M4,Customer,Wrong way round,up,percent,monthly,,90,95,
        M5,Customer,One level only,up,percent,monthly,,95,,
        M6,Customer,Thresholds without levels,up,percent,monthly,80,,,thresholds
        M1,Customer,Duplicate,up,percent,monthly,80,,,
        M7,Customer,Smaller wrong way,down,percent,monthly,,10,7,
        """,
        values="""\
        measure_id,period,value,status
        M1,2023-04,abc,
        M1,2023-05,81,
        M1,2023-05,82,
        M9,2023-04,5,
        M1,2023-13,5,
        M1,2023-06,,
        M2,2023-04,5,late
        M1,2023/24 Q1,80,
        M1,2023-07,80,not_available
        """,
        targets="""\
        measure_id,start,end,target
        M1,2023-04,2023-09,80
        M1,2023-07,,85
        M2,2023-10,2023-04,20
        M1,2024-04,,
        """,
    )
    assert problems_of(data) == [
        "measures.csv:3: polarity 'sideways' is not one of up, down, neutral",
        "measures.csv:4: frequency 'fortnightly' is not one of monthly, quarterly, termly, annual",
        "measures.csv:4: unit 'furlongs' is not one of percent, count, currency, days, ratio, "
        "score, number",
        "measures.csv:5: tsl 90 is below msl 95 for M4, where bigger is better: the target "
        "service level must be the harder one",
        "measures.csv:6: msl is empty for M5: a thresholds measure needs both tsl and msl",
        "measures.csv:7: rag_method is thresholds for M6 but no tsl and msl are given here or "
        "in targets",
        "measures.csv:8: measure_id 'M1' is a duplicate of row 2",
        "measures.csv:9: tsl 10 is above msl 7 for M7, where smaller is better: the target "
        "service level must be the harder one",
        "targets.csv:3: start 2023-07 overlaps the target range for M1 on row 2",
        "targets.csv:4: end 2023-04 is before start 2023-10",
        "targets.csv:5: target, tsl and msl are all empty: give at least one",
        "values.csv:2: value 'abc' for M1 2023-04 is not a number",
        "values.csv:4: period: M1 2023-05 is a duplicate of row 3",
        "values.csv:5: measure_id 'M9' is not in measures",
        "values.csv:6: period '2023-13' is not a month: there is no month 13",
        "values.csv:7: value is empty for M1 2023-06: give a number, or a status saying why "
        "(mitigated, not_available, pending, not_expected)",
        "values.csv:8: status 'late' is not one of reported, mitigated, not_available, pending, "
        "not_expected",
        "values.csv:9: period 2023/24 Q1 is a quarter but M1 is monthly",
        "values.csv:10: status is not_available for M1 2023-07 but a value is given",
    ]


def test_missing_required_columns_and_files(make_data):
    data = make_data(measures="measure_id,service,title\nM1,S,T\n")
    assert problems_of(data) == [
        "measures.csv: missing required column 'polarity'",
        "values.csv: is missing: it is required",
    ]


def test_optional_files_are_checked(make_data):
    data = make_data(
        measures=MEASURES,
        values="measure_id,period,value\nM1,2023-04,80\n",
        comments="""\
        service,quarter,measure_id,section,author,comment
        Customer,2023/24 Q1,M1,,Director,Fine
        Housing,2023/24 Q1,,summary,Director,Unknown service
        Customer,2023-04,,summary,Director,A month is not a quarter
        Customer,2023/24 Q1,,elsewhere,Director,Unknown section
        Customer,2023/24 Q1,,,Director,No section and no measure
        """,
        actions="""\
        service,action_id,action,owner,due,status,measures
        Customer,A1,Do it,Lead,2024-03-31,on_track,M1 M2
        Customer,A1,Again,Lead,31/03/2024,complete,M1
        Customer,A2,Later,Lead,next week,stalled,M1 M8
        """,
        benchmarks="""\
        measure_id,period,area,peer_group,value
        M1,2023/24,Ashby,nearest neighbours,81.5
        M1,2023/24,Brook,nearest neighbours,n/a
        M1,2023/24,Cole,nearest neighbours,about 80
        M1,2023/24,,nearest neighbours,80
        """,
    )
    assert problems_of(data) == [
        "comments.csv:3: service 'Housing' has no measures",
        "comments.csv:4: quarter 2023-04 is not a financial quarter",
        "comments.csv:5: section 'elsewhere' is not one of summary, whats_good, approach, "
        "exception, why, impact, forecast, improve, back_on_track, learning",
        "comments.csv:6: section is empty: give a measure_id or one of summary, whats_good, "
        "approach",
        "actions.csv:3: action_id 'A1' is a duplicate of row 2",
        "actions.csv:4: due 'next week' is not a date (write 2024-03-31)",
        "actions.csv:4: measures names 'M8', which is not in measures",
        "actions.csv:4: status 'stalled' is not one of not_started, on_track, at_risk, overdue, "
        "complete",
        "benchmarks.csv:4: value 'about 80' is not a number",
        "benchmarks.csv:5: area is empty: name the council the value is for",
    ]


def test_broken_files(make_data):
    data = make_data(measures=MEASURES)
    # 0x81 is neither UTF-8 nor Windows-1252 (nor, after a UTF-8 lead byte, anything).
    (data / "values.csv").write_bytes(b"measure_id,period,value\nM1,2023-04,\x8180\n")
    assert problems_of(data) == [
        "values.csv: is not text in an encoding kpitools reads (UTF-8, UTF-16 or "
        "Windows-1252): byte 0x81 on line 2; save it as 'CSV UTF-8'"
    ]
    (data / "values.csv").write_bytes(b"measure_id,period,value\nM1,2023-04,8\x000\n")
    assert problems_of(data) == ["values.csv: contains NUL bytes: it is not a CSV text file"]
    (data / "values.csv").write_text("measure_id,period,value\nM1,2023-04,80,extra\n")
    assert problems_of(data) == [
        "values.csv:2: row has 4 cells but the header has 3 columns (the header is separated by "
        "commas)"
    ]
    (data / "values.csv").write_text("")
    assert problems_of(data) == ["values.csv: is empty: expected a header row"]
    (data / "values.csv").write_text('measure_id,period,value\nM1,2023-04,"80\n')
    assert problems_of(data)[0].startswith("values.csv: is not valid CSV")


def test_both_csv_and_excel_is_ambiguous(make_data):
    data = make_data(measures=MEASURES, values="measure_id,period,value\nM1,2023-04,80\n")
    (data / "values.xlsx").write_bytes(b"not a workbook")
    assert problems_of(data) == ["values.csv: found values.csv and values.xlsx: keep only one"]
    (data / "values.csv").unlink()
    [problem] = problems_of(data)
    assert problem.startswith("values.xlsx: is not a readable Excel workbook")


def test_bom_case_spaces_and_polarity_words(make_data):
    data = make_data(
        measures="\ufeff Measure_ID , SERVICE ,Title, Polarity ,unit,target\n"
        "M1, Customer ,Calls answered,Up is Good,percent,80\n"
        "M2,Customer,Complaints,Up is Bad,count,30\n"
        "M3,Customer,Visits,Smaller,count,\n"
        "M4,Customer,Satisfaction,bigger,percent,70\n",
        values="Measure ID,Period,Value,Status\n"
        "M1,2023-04, 7.0% ,\n"
        'M2,2023-04,"5,705",\n'
        "M3,2023-04,,Not Available\n"
        "M4,2023-04,70,\n\n,,,\n",
    )
    dataset = kpitools.load(data)
    assert dataset.measures["polarity"].tolist() == ["up", "down", "down", "up"]
    assert dataset.measures.loc["M1", "service"] == "Customer"
    assert dataset.values["value"].tolist()[:2] == [7.0, 5705.0]
    assert dataset.values["status"].tolist()[2] == "not_available"
    assert len(dataset.values) == 4  # blank rows skipped


def test_excel_workbooks_read_like_csv(make_data, tmp_path):
    import datetime as dt

    import openpyxl

    data = make_data(measures=MEASURES)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Values"
    sheet.append(["Measure ID", "Period", "Value", "Note"])
    sheet.append(["M1", "2023-04", 0.815, "percent cell"])
    sheet["C2"].number_format = "0.0%"
    sheet.append(["M1", dt.datetime(2023, 5, 1), 80, "date cell for the month"])
    sheet.append(["M2", "2023/24 Q1", "abc", "not a number"])
    workbook.save(data / "values.xlsx")
    assert problems_of(data) == [
        "values.xlsx:4: period 2023/24 Q1 is a quarter but M2 is monthly",
        "values.xlsx:4: value 'abc' for M2 2023/24 Q1 is not a number",
    ]
    sheet.delete_rows(4)
    workbook.save(data / "values.xlsx")
    values = kpitools.load(data).values
    assert values["value"].tolist() == [81.5, 80.0]
    assert [str(p) for p in values["period"]] == ["2023-04", "2023-05"]


def test_hostile_text_is_quoted_not_obeyed(make_data):
    data = make_data(
        measures=MEASURES,
        values="measure_id,period,value\n"
        'M1,2023-04,"<script>alert(1)</script>"\n'
        "M1\x1b[31m,2023-05,80\n",
    )
    problems = problems_of(data)
    assert problems[0] == (
        "values.csv:2: value '<script>alert(1)</script>' for M1 2023-04 is not a number"
    )
    assert problems[1] == "values.csv:3: measure_id 'M1\\x1b[31m' is not in measures"
    assert "\x1b" not in "\n".join(problems)


def test_comments_keep_any_text(make_data):
    hostile = 'He said "<img src=x onerror=alert(1)>" & left; 50% of £1,200 — ✓'
    data = make_data(
        measures=MEASURES,
        values="measure_id,period,value\nM1,2023-04,80\n",
        comments="service,quarter,measure_id,section,author,comment\n"
        f'Customer,2023/24 Q1,M1,,Director,"{hostile.replace(chr(34), chr(34) * 2)}"\n',
    )
    comments = kpitools.load(data).comments
    assert comments["comment"].tolist() == [hostile]
    assert comments["section"].tolist() == ["exception"]
