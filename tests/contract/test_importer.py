"""`kpitools import`: spreadsheets as councils keep them, into the contract's data folder."""

import datetime as dt

import openpyxl
import pandas as pd
import pytest

import kpitools
from kpitools.contract.importer import import_workbooks
from kpitools.core.errors import ValidationError


def committee_dashboard(path):
    """A county IMT committee dashboard: a title row, months across (text and Excel dates),
    numerators and denominators on the row below, status words, a footnote marker, and a
    second block of quarterly measures with its own header row."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "IMT"
    sheet.append(["IMT Committee performance dashboard 2016/17"])
    sheet.append([])
    sheet.append(["Ref", "Measure", "Polarity", "Target", "Dec 16", "Jan 17",
                  dt.datetime(2017, 2, 1)])  # fmt: skip
    sheet.append(["IMT01", "% of calls resolved at first contact", "Bigger", "75%", 72.5, 76.1,
                  "13.72*"])  # fmt: skip
    sheet.append(["", "", "", "", "229 / 2996", "240 / 3150", "250 / 3200"])
    sheet.append(["IMT02", "Major incidents", "Smaller", "2", 1, "Data Not Available",
                  "Mitigation Agreed"])  # fmt: skip
    sheet.append([])
    sheet.append(["Ref", "Measure", "Polarity", "Target", "Q1 2016/17", "Q2 2016/17"])
    sheet.append(["IMT10", "Customer satisfaction with IT support (%)", "Bigger", "85", 83, "TBC"])
    workbook.save(path)


def city_scorecard(path):
    """A city's annual scorecard: a title row, category headings between the measures, a TBC
    placeholder row, one column per year, annotated cells, units in the titles, polarity as
    'Up is Good', a published direction of travel and an Include column."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Environment"
    sheet.append(["Environment service scorecard"])
    sheet.append(["Measure", "Polarity", "2013/14 Result", "2014/15 Result", "2015/16 Result",
                  "Direction of travel", "Include"])  # fmt: skip
    sheet.append(["Performance"])
    sheet.append(["Noise complaints resolved", "Up is Good", "13,805", "12,100", "1,918 (Q3)",
                  "Improving", "Y"])  # fmt: skip
    forecast = "Forecast outturn (£000s Overspent / -Underspent)"
    sheet.append([forecast, "Up is Bad", "8", "-4 (2013/14)", "110", "Worsening", ""])
    sheet.append(["Customer"])
    sheet.append(["TBC", "", "TBC", "TBC", "TBC", "", ""])
    sheet.append(["Sickness days lost per FTE (YTD)", "Up is Bad", "9.1", "8.7", "6.2", "", "Y"])
    workbook.save(path)


def test_a_committee_dashboard_becomes_a_data_folder(tmp_path):
    committee_dashboard(tmp_path / "imt.xlsx")
    out = tmp_path / "data"
    result = import_workbooks([tmp_path / "imt.xlsx"], out)
    measures = pd.read_csv(out / "measures.csv", dtype=str, keep_default_na=False)
    assert measures["measure_id"].tolist() == ["IMT01", "IMT02", "IMT10"]
    assert measures.set_index("measure_id")["polarity"].to_dict() == {
        "IMT01": "up", "IMT02": "down", "IMT10": "up"
    }  # fmt: skip
    assert measures.set_index("measure_id")["frequency"].to_dict() == {
        "IMT01": "monthly", "IMT02": "monthly", "IMT10": "quarterly"
    }  # fmt: skip
    values = pd.read_csv(out / "values.csv", dtype=str, keep_default_na=False)
    rows = values.set_index(["measure_id", "period"])
    assert rows.loc[("IMT01", "2016-12"), ["value", "numerator", "denominator"]].tolist() == [
        "72.5", "229", "2996"
    ]  # fmt: skip
    assert rows.loc[("IMT01", "2017-02"), ["value", "note"]].tolist() == [
        "13.72", "footnote * in the source"
    ]  # fmt: skip
    assert rows.loc[("IMT02", "2017-01"), "status"] == "not_available"
    assert rows.loc[("IMT02", "2017-02"), "status"] == "mitigated"
    assert rows.loc[("IMT10", "2016/17 Q2"), "status"] == "pending"
    assert result.to_supply[0].startswith("IMT01 (% of calls resolved at first contact): ")
    # The folder loads as it is, once a person has said what the sheet cannot.
    dataset = kpitools.load(out)
    ratings = kpitools.rate(dataset, period="2017-01").set_index("measure_id")
    assert ratings.loc["IMT01", "rag"] == "green"  # 76.1 against 75
    assert ratings.loc["IMT02", "status"] == "not_available"


def test_a_city_scorecard_keeps_categories_placeholders_annotations_and_units(tmp_path):
    city_scorecard(tmp_path / "city.xlsx")
    out = tmp_path / "data"
    result = import_workbooks([tmp_path / "city.xlsx"], out)
    measures = pd.read_csv(out / "measures.csv", dtype=str, keep_default_na=False)
    by_title = measures.set_index("title")
    assert by_title["category"].to_dict() == {
        "Noise complaints resolved": "Performance",
        "Forecast outturn (£000s Overspent / -Underspent)": "Performance",
        "Sickness days lost per FTE (YTD)": "Customer",
    }
    assert by_title.loc["Forecast outturn (£000s Overspent / -Underspent)",
                        ["polarity", "unit", "scale", "include"]].tolist() == [
        "down", "currency", "thousands", "no"
    ]  # fmt: skip
    sickness = by_title.loc["Sickness days lost per FTE (YTD)"]
    assert sickness[["basis", "unit", "include"]].tolist() == ["ytd", "days", "yes"]
    assert any("placeholder row 'TBC'" in line for line in result.skipped)
    values = pd.read_csv(out / "values.csv", dtype=str, keep_default_na=False)
    noise = by_title.loc["Noise complaints resolved", "measure_id"]
    part = values[(values["measure_id"] == noise) & (values["period"] == "2015/16")]
    assert part[["value", "coverage"]].values.tolist() == [["1918", "to Q3"]]
    forecast = by_title.loc["Forecast outturn (£000s Overspent / -Underspent)", "measure_id"]
    carried = values[(values["measure_id"] == forecast) & (values["period"] == "2014/15")]
    assert carried[["value", "note"]].values.tolist() == [["-4", "source says: 2013/14"]]
    dataset = kpitools.load(out, config=kpitools.CouncilConfig(
        council="City", categories=["Performance", "Customer"]))  # fmt: skip
    rows = kpitools.rate(dataset, period="2015/16").set_index("measure_id")
    assert rows.loc[noise, "direction"] == "not_comparable"  # part-year against a full year


def test_reimporting_next_months_sheet_keeps_ids_and_other_months(tmp_path):
    first = tmp_path / "first.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "Customer Services"
    workbook.active.append(["Measure", "Good is", "Apr 24"])
    workbook.active.append(["Calls answered within 60 seconds", "Higher", 81])
    workbook.save(first)
    out = tmp_path / "data"
    import_workbooks([first], out)
    ids = pd.read_csv(out / "ids.csv", dtype=str)
    [measure_id] = ids["measure_id"]
    assert measure_id == "CUS_CALLS_ANSWERED_60_SECONDS"
    second = tmp_path / "second.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "Customer Services"
    workbook.active.append(["Measure", "Good is", "May 24"])
    workbook.active.append(["Calls answered within 60 seconds", "Higher", 84])
    workbook.save(second)
    import_workbooks([second], out)
    values = pd.read_csv(out / "values.csv", dtype=str)
    assert values[["measure_id", "period", "value"]].values.tolist() == [
        [measure_id, "2024-04", "81"], [measure_id, "2024-05", "84"]
    ]  # fmt: skip


def test_a_cell_that_cannot_be_read_names_workbook_sheet_and_cell(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Finance"
    workbook.active.append(["Measure", "Polarity", "Apr 24", "May 24"])
    workbook.active.append(["Invoices paid on time", "Bigger", 95, "about 90"])
    workbook.save(tmp_path / "finance.xlsx")
    with pytest.raises(ValidationError) as raised:
        import_workbooks([tmp_path / "finance.xlsx"], tmp_path / "data")
    assert [str(p) for p in raised.value.problems] == [
        "finance.xlsx[Finance]: cell D2: 'about 90' is not a number, a status word (n/a, TBC, "
        "Mitigation Agreed) or empty"
    ]
    assert not (tmp_path / "data" / "values.csv").exists()
