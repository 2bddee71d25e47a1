"""Directors' commentary workbooks: written, filled in as Excel would, read back, recorded."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from kpitools.contract.commentary import read_form
from kpitools.core.errors import ValidationError
from kpitools.workflow.commentary import owed, record_workbooks, write_workbooks
from tests.conftest import QUARTER

FINANCE = "Finance"


def finance_workbook(dataset, out: Path) -> Path:
    (path,) = write_workbooks(dataset, QUARTER, [FINANCE], out, deadline="12 July 2024")
    return path


def fill(path: Path, **cells: str) -> Path:
    """Fill cells as a Director would in Excel: ``fill(path, **{"Exceptions!I2": "..."})``."""
    workbook = openpyxl.load_workbook(path)
    for ref, value in cells.items():
        sheet, cell = ref.split("!")
        workbook[sheet][cell] = value
    workbook.save(path)
    return path


def completed_by_row(path: Path) -> int:
    sheet = openpyxl.load_workbook(path)["Instructions"]
    return next(c.row for c in sheet["A"] if c.value == "Completed by")


def test_the_workbook_holds_the_exceptions_with_their_figures_locked(example, tmp_path):
    path = finance_workbook(example, tmp_path)
    assert path.name == "finance-2024-25-q1-comments.xlsx"
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Instructions", "Exceptions", "Service", "Actions", "_kpitools"]
    assert workbook["_kpitools"].sheet_state == "veryHidden"
    sheet = workbook["Exceptions"]
    header = [c.value for c in sheet[1]]
    assert header[:8] == ["Measure ID", "Measure", "Value", "Target", "Variance", "RAG",
                          "Direction of travel", "Why it is an exception"]  # fmt: skip
    assert header[8:] == [
        "Why are we not meeting the target?", "What is the impact?",
        "What performance is predicted?", "How can it be improved?",
        "When will it be back on track?", "What can we learn?", "Other comment",
    ]  # fmt: skip
    ids = [sheet.cell(row=r, column=1).value for r in range(2, sheet.max_row + 1)]
    # Reds first, then the furthest from target: the report's own order.
    assert ids == ["FIN_KPI_04", "FIN_FN_01", "FIN_KPI_05", "FIN_KPI_03", "FIN_KPI_01",
                   "FIN_KPI_02"]  # fmt: skip
    row = [c.value for c in sheet[2]]
    assert row[2:6] == ["90.4%", "Target 100%", "9.6 points worse than target", "▲ red"]
    assert sheet.protection.sheet
    assert sheet["A2"].protection.locked and not sheet["I2"].protection.locked
    # What was recorded is filled in: the free comment on FIN_KPI_01.
    assert sheet["O6"].value.startswith("Why: more residents on payment arrangements")
    actions = workbook["Actions"]
    assert actions["A2"].value == "FIN-A1" and actions["E2"].value in ("On track", "At risk")
    (validation,) = [v for v in actions.data_validations.dataValidation if v.type == "list"]
    assert validation.formula1 == '"Not started,On track,At risk,Overdue,Complete"'
    instructions = workbook["Instructions"]
    assert ["Comments due by", "12 July 2024"] in [
        [c.value for c in r[:2]] for r in instructions.iter_rows(max_row=12)
    ]


def test_the_same_data_writes_the_same_bytes(example, tmp_path):
    first = finance_workbook(example, tmp_path / "a").read_bytes()
    second = finance_workbook(example, tmp_path / "b").read_bytes()
    assert first == second


def test_returned_answers_are_recorded_and_shown_on_slide_3(folder, load_folder, tmp_path):
    from kpitools.report.content import build_cpr

    path = finance_workbook(load_folder(folder), tmp_path)
    fill(
        path,
        **{
            "Exceptions!I2": "Two savings proposals slipped.",
            "Exceptions!J2": "£0.4m gap in year.",
            "Exceptions!N2": "Track savings monthly.",
            "Exceptions!O2": "",  # the free comment recorded before, removed
            "Exceptions!O6": "",  # the free comment on FIN_KPI_01 removed
            "Service!C2": "A difficult quarter for collection.",
            f"Instructions!B{completed_by_row(path)}": "A. Director",
            "Actions!E2": "Complete",
            "Actions!B10": "Review the savings tracker",
            "Actions!C10": "Head of Finance",
            "Actions!D10": "31/03/2025",
            "Actions!E10": "On track",
            "Actions!F10": "FIN_KPI_04",
        },
    )
    done = record_workbooks(folder, load_folder(folder), [path])
    assert done.workbooks == ((path.name, FINANCE, QUARTER),)
    assert (done.actions_updated, done.actions_added) == (2, 1)

    dataset = load_folder(folder)
    report = build_cpr(dataset, FINANCE, QUARTER)
    line = next(x for x in report.exceptions if x.measure_id == "FIN_KPI_04")
    assert line.commentary == (
        ("Why", "Two savings proposals slipped."),
        ("Impact", "£0.4m gap in year."),
        ("Learning", "Track savings monthly."),
    )
    assert line.comment == (
        "Why: Two savings proposals slipped.\n\nImpact: £0.4m gap in year.\n\n"
        "Learning: Track savings monthly."
    )
    assert line.comment_author == "A. Director"
    assert not next(x for x in report.exceptions if x.measure_id == "FIN_KPI_01").comment
    assert report.summary_comment == "A difficult quarter for collection."
    actions = {a.action_id: a for a in report.actions}
    assert actions["FIN-A1"].status == "complete"
    assert actions["FIN-A3"].action == "Review the savings tracker"
    assert actions["FIN-A3"].due.isoformat() == "2025-03-31"
    # Other services' comments are left alone.
    assert "CHS_KPI_06" in (folder / "comments.csv").read_text(encoding="utf-8")
    # The sign-off moved on.
    signoff = (folder / "signoff.csv").read_text(encoding="utf-8").splitlines()
    assert signoff[1].startswith("Finance,2024/25 Q1,comments_received,A. Director,")

    from kpitools.report import fragments

    html = fragments.exceptions(report)
    assert (
        "<dt>Why are we not meeting the target?</dt>"
        '<dd class="comment">Two savings proposals slipped.</dd>'
    ) in html


def test_reading_the_same_workbook_twice_records_the_same(folder, load_folder, tmp_path):
    path = fill(finance_workbook(load_folder(folder), tmp_path), **{"Exceptions!I2": "Why."})
    record_workbooks(folder, load_folder(folder), [path])
    once = (folder / "comments.csv").read_bytes()
    record_workbooks(folder, load_folder(folder), [path])
    assert (folder / "comments.csv").read_bytes() == once


def unchanged(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_an_edited_locked_cell_is_named_and_nothing_is_written(folder, load_folder, tmp_path):
    path = fill(finance_workbook(load_folder(folder), tmp_path),
                **{"Exceptions!C2": "99%", "Exceptions!I2": "Why."})  # fmt: skip
    before = unchanged(folder)
    with pytest.raises(ValidationError) as caught:
        record_workbooks(folder, load_folder(folder), [path])
    assert str(caught.value.problems[0]) == (
        f"{path.name}[Exceptions]!C2: this cell is locked and was changed (it held '90.4%', "
        "it holds '99%'): undo the change or write a new workbook"
    )
    assert unchanged(folder) == before


def test_a_workbook_from_an_older_run_is_refused(folder, load_folder, tmp_path):
    path = finance_workbook(load_folder(folder), tmp_path)
    values = folder / "values.csv"
    lines = values.read_text(encoding="utf-8").splitlines()
    index = next(i for i, x in enumerate(lines) if x.startswith("FIN_KPI_02,2024-06"))
    cells = lines[index].split(",")
    cells[2] = "50"
    lines[index] = ",".join(cells)
    values.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="an older run"):
        record_workbooks(folder, load_folder(folder), [path])


def test_wrong_period_and_a_workbook_twice_are_refused(folder, load_folder, tmp_path):
    path = finance_workbook(load_folder(folder), tmp_path)
    copy = tmp_path / "copy.xlsx"
    shutil.copy(path, copy)
    with pytest.raises(ValidationError) as caught:
        record_workbooks(folder, load_folder(folder), [path], period="2023/24 Q4")
    assert "is for 2024/25 Q1, not 2023/24 Q4" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        record_workbooks(folder, load_folder(folder), [path, copy])
    assert f"copy.xlsx: is for Finance 2024/25 Q1 as {path.name} is" in str(caught.value)


def test_a_service_the_data_does_not_have_is_refused(folder, load_folder, tmp_path):
    import json

    path = finance_workbook(load_folder(folder), tmp_path)
    workbook = openpyxl.load_workbook(path)
    meta = json.loads(workbook["_kpitools"]["A2"].value)
    workbook["_kpitools"]["A2"] = json.dumps({**meta, "service": "Parks"})
    workbook.save(path)
    with pytest.raises(ValidationError, match="is for the service 'Parks', which the data"):
        record_workbooks(folder, load_folder(folder), [path])


def test_bad_cells_in_the_actions_are_named(folder, load_folder, tmp_path):
    path = fill(finance_workbook(load_folder(folder), tmp_path),
                **{"Actions!E2": "Finished", "Actions!D2": "next week",
                   "Actions!F2": "NOPE_1", "Actions!C10": "Someone"})  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        record_workbooks(folder, load_folder(folder), [path])
    text = str(caught.value)
    assert f"{path.name}[Actions]!D2: 'next week' is not a date (type 31/03/2025)" in text
    assert f"{path.name}[Actions]!E2: 'Finished' is not a status" in text
    assert f"{path.name}[Actions]!F2: the measure 'NOPE_1' is not in the data dictionary" in text
    assert f"{path.name}[Actions]!B10: the action is empty" in text


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"not a zip at all", "is not a readable Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "is an Excel 97-2003 workbook"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le"),
            "is protected by a password",
        ),
    ],
)
def test_unreadable_workbooks_are_named(tmp_path, blob, message):
    path = tmp_path / "returned.xlsx"
    path.write_bytes(blob)
    form, problems = read_form(path)
    assert form is None
    assert str(problems[0]).startswith("returned.xlsx: ") and message in str(problems[0])


def test_a_workbook_that_is_not_ours_is_named(tmp_path):
    path = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(path)
    _, problems = read_form(path)
    assert str(problems[0]) == (
        "other.xlsx: is not a kpitools commentary workbook (it has no _kpitools sheet): write "
        "one with 'kpitools comments --out'"
    )


def test_who_owes_comments(example):
    found = {o.service: o for o in owed(example, QUARTER, example.services)}
    assert "Waste & Environment" not in found  # no exceptions, summary written
    finance = found["Finance"]
    assert finance.director == "Director of Finance"
    assert not finance.summary
    assert [m for m, _ in finance.exceptions] == ["FIN_FN_01", "FIN_KPI_05", "FIN_KPI_03",
                                                  "FIN_KPI_02"]  # fmt: skip


def test_drafts_fill_empty_cells_and_count_only_once_accepted(folder, load_folder, tmp_path):
    from kpitools.report.content import build_cpr

    path = finance_workbook(load_folder(folder), tmp_path)
    sheet = openpyxl.load_workbook(path)["Exceptions"]
    assert sheet["A3"].value == "FIN_FN_01"
    draft = sheet["O3"].value
    assert draft.startswith("Drafted by kpitools: Forecast outturn as a share of budget rose ")
    assert openpyxl.load_workbook(path)["Service"]["C3"].value.startswith(
        "Drafted by kpitools: 3 of 11 measures were on target"
    )
    # Returned untouched: the drafts are not recorded.
    record_workbooks(folder, load_folder(folder), [path])
    report = build_cpr(load_folder(folder), FINANCE, QUARTER)
    assert not next(x for x in report.exceptions if x.measure_id == "FIN_FN_01").comment
    assert not report.whats_good_comment
    # Accepted (the marker deleted): recorded as the Director's words.
    fill(path, **{"Exceptions!O3": draft.removeprefix("Drafted by kpitools: ")})
    record_workbooks(folder, load_folder(folder), [path])
    report = build_cpr(load_folder(folder), FINANCE, QUARTER)
    line = next(x for x in report.exceptions if x.measure_id == "FIN_FN_01")
    assert line.comment == draft.removeprefix("Drafted by kpitools: ")


def as_workbook(folder: Path, names: list[str], workbook_name: str | None = None) -> Path:
    """Keep ``names`` as Excel: each in a workbook of its own, or all as sheets of one."""
    import csv

    one = openpyxl.Workbook() if workbook_name else None
    if one is not None:
        one.remove(one.active)
    for name in names:
        path = folder / f"{name}.csv"
        with path.open(encoding="utf-8") as file:
            rows = list(csv.reader(file))
        book = one or openpyxl.Workbook()
        sheet = book.create_sheet(name) if one is not None else book.active
        for row in rows:
            sheet.append(row)
        if one is None:
            book.save(folder / f"{name}.xlsx")
        path.unlink()
    if one is not None:
        one.save(folder / workbook_name)
    return folder


def test_comments_kept_in_excel_are_carried_over_into_csv(folder, load_folder, tmp_path):
    as_workbook(folder, ["comments", "actions"])
    path = fill(finance_workbook(load_folder(folder), tmp_path), **{"Exceptions!I3": "Why."})
    done = record_workbooks(folder, load_folder(folder), [path])
    assert done.notes == (
        "comments is kept in comments.csv from now on; comments.xlsx is set aside as "
        "comments.before-kpitools.xlsx",
        "actions is kept in actions.csv from now on; actions.xlsx is set aside as "
        "actions.before-kpitools.xlsx",
    )
    assert (folder / "comments.csv").is_file() and not (folder / "comments.xlsx").exists()
    dataset = load_folder(folder)  # loads: one file each
    from kpitools.report.content import build_cpr

    report = build_cpr(dataset, FINANCE, QUARTER)
    assert next(x for x in report.exceptions if x.measure_id == "FIN_FN_01").comment == (
        "Why: Why."
    )
    assert "CHS_KPI_06" in (folder / "comments.csv").read_text(encoding="utf-8")


def test_a_whole_folder_workbook_keeps_its_sheets_and_csv_comes_first(folder, load_folder,
                                                                      tmp_path):  # fmt: skip
    names = [p.stem for p in sorted(folder.glob("*.csv"))]
    as_workbook(folder, names, "council.xlsx")
    path = fill(finance_workbook(load_folder(folder), tmp_path), **{"Exceptions!I3": "Why."})
    done = record_workbooks(folder, load_folder(folder), [path])
    assert (
        "comments is kept in comments.csv from now on; the sheet council.xlsx[comments] is "
        "no longer read (delete it from the workbook)"
    ) in done.notes
    assert sorted(p.name for p in folder.glob("*.csv")) == ["actions.csv", "comments.csv",
                                                            "signoff.csv"]  # fmt: skip
    from kpitools.report.content import build_cpr

    report = build_cpr(load_folder(folder), FINANCE, QUARTER)
    assert next(x for x in report.exceptions if x.measure_id == "FIN_FN_01").comment == (
        "Why: Why."
    )
