"""The workflow commands as a performance officer types them."""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner

from kpitools.cli import cli
from tests.conftest import COUNCIL_CONFIG, QUARTER


def run(*args: str):
    return CliRunner().invoke(cli, [*args, "--config", str(COUNCIL_CONFIG)],
                              catch_exceptions=False)  # fmt: skip


def test_comments_out_fill_read_then_owed(folder, tmp_path):
    result = run("comments", "--data", str(folder), "--period", QUARTER, "--service", "Finance",
                 "--out", str(tmp_path / "wb"), "--due", "12 July 2024")  # fmt: skip
    assert result.exit_code == 0, result.output
    path = tmp_path / "wb" / "finance-2024-25-q1-comments.xlsx"
    assert result.stdout.strip() == str(path)

    owed = run("comments", "--data", str(folder), "--period", QUARTER, "--owed")
    assert owed.exit_code == 0
    assert ("Finance (Director of Finance): comments on 4 exception(s): FIN_FN_01, FIN_KPI_05, "
            "FIN_KPI_03, FIN_KPI_02") in owed.stdout  # fmt: skip

    workbook = openpyxl.load_workbook(path)
    for row in range(3, 8):
        workbook["Exceptions"][f"I{row}"] = f"Reason {row}."
    workbook.save(path)
    read = run("comments", "--data", str(folder), "--read", str(path))
    assert read.exit_code == 0, read.output
    assert read.stdout.splitlines()[0] == f"{path.name}: Finance {QUARTER}"
    owed = run("comments", "--data", str(folder), "--period", QUARTER, "--owed")
    assert "Finance" not in owed.stdout


def test_a_bad_workbook_is_exit_2_naming_the_cell(folder, tmp_path):
    run("comments", "--data", str(folder), "--period", QUARTER, "--service", "Finance",
        "--out", str(tmp_path))  # fmt: skip
    path = tmp_path / "finance-2024-25-q1-comments.xlsx"
    workbook = openpyxl.load_workbook(path)
    workbook["Exceptions"]["B3"] = "Something else"
    workbook.save(path)
    result = run("comments", "--data", str(folder), "--read", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith(
        f"{path.name}[Exceptions]!B3: this cell is locked"
    )
    assert result.stderr.splitlines()[-1] == "1 problem found; nothing written."


def test_signoff_shows_and_records_steps(folder):
    shown = run("signoff", "--data", str(folder), "--period", QUARTER)
    assert shown.stdout.splitlines()[0] == "Customer Services: Draft"
    noted = run("signoff", "--data", str(folder), "--period", QUARTER, "--service", "Finance",
                "--state", "noted", "--by", "Cllr S. Lewis")  # fmt: skip
    assert noted.exit_code == 2
    assert "is not approved by the Director" in noted.stderr
    approved = run("signoff", "--data", str(folder), "--period", QUARTER, "--service",
                   "Finance", "--state", "approved", "--by", "Jane Smith", "--at",
                   "2024-07-14T11:30+01:00")  # fmt: skip
    assert approved.exit_code == 0, approved.output
    assert approved.stdout == (
        "Finance 2024/25 Q1: Approved by the Director (Jane Smith, 14 July 2024)\n"
    )
    assert "2024-07-14T10:30:00" in (folder / "signoff.csv").read_text(encoding="utf-8")
    twice = run("signoff", "--data", str(folder), "--period", QUARTER, "--state", "approved",
                "--by", "x")  # fmt: skip
    assert twice.exit_code == 2 and "--service NAME" in twice.stderr


def test_decide_and_close(folder):
    result = run("decide", "--data", str(folder), "--period", "2023/24 Q4", "--measure",
                 "FIN_KPI_04", "--committee", "Scrutiny", "--decision", "refer_dmt",
                 "--report-back", "2024-09-30")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Finance 2023/24 Q4, FIN_KPI_04: referred to the departmental management team.\n"
    )
    bad = run("decide", "--data", str(folder), "--period", QUARTER, "--measure", "FIN_KPI_04",
              "--decision", "refer_dmt", "--report-back", "soon")  # fmt: skip
    assert bad.exit_code == 2 and "'soon' is not a date (2024-11-30)" in bad.stderr
    closed = run("decide", "--data", str(folder), "--measure", "FIN_KPI_04", "--close",
                 "2024-06-15")  # fmt: skip
    assert closed.stdout == "Closed 1 decision(s) on FIN_KPI_04.\n"


def test_publish_without_a_run_says_what_to_do(folder, tmp_path):
    result = run("publish", "--data", str(folder), "--period", QUARTER, "--out",
                 str(tmp_path / "out"), "--service", "Finance", "--force")  # fmt: skip
    assert result.exit_code == 2
    assert "no report of Finance for 2024/25 Q1" in result.stderr
    assert "build it with 'kpitools run" in result.stderr


def hostile(folder):
    measures = folder / "measures.csv"
    text = measures.read_text(encoding="utf-8")
    title = "Complaints responded to within 20 working days"
    measures.write_text(text.replace(title, '=HYPERLINK("http://x";"y")', 1), encoding="utf-8")
    return folder


def test_scorecard_xlsx_has_rag_fill_frozen_header_filter_and_formats(folder, tmp_path):
    path = tmp_path / "scorecard.xlsx"
    result = run("scorecard", "--data", str(hostile(folder)), "--period", QUARTER, "--format",
                 "xlsx", "--output", str(path))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == f"67 rows -> {path}\n"
    sheet = openpyxl.load_workbook(path).active
    assert sheet.freeze_panes == "B2" and sheet.auto_filter.ref == "A1:AK68"
    header = [c.value for c in sheet[1]]
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert row["measure_id"].value == "CSC_CX_01"
    assert row["title"].value == '=HYPERLINK("http://x";"y")' and row["title"].data_type == "s"
    assert row["rag"].value == "◆ amber" and row["rag"].fill.fgColor.rgb == "00B35C00"
    assert row["value"].value == pytest.approx(88.793103) and row["value"].data_type == "n"
    assert row["variance_pct"].number_format == "0.0%"
    assert row["include"].value is True
    again = tmp_path / "again.xlsx"
    run("scorecard", "--data", str(folder), "--period", QUARTER, "--format", "xlsx", "--output",
        str(again))  # fmt: skip
    assert again.read_bytes() == path.read_bytes()


def test_scorecard_csv_defuses_formulas(folder):
    result = run("scorecard", "--data", str(hostile(folder)), "--period", QUARTER, "--format",
                 "csv")  # fmt: skip
    assert "'=HYPERLINK" in result.stdout and ",=HYPERLINK" not in result.stdout
    assert ",-1.206897," in result.stdout  # numbers are left as numbers


def test_xlsx_needs_an_output_file(folder):
    result = run("scorecard", "--data", str(folder), "--format", "xlsx")
    assert result.exit_code == 2 and "give --output FILE.xlsx" in result.stderr


def test_a_comment_that_looks_like_a_formula_stays_text_in_the_workbook(folder, tmp_path):
    with (folder / "comments.csv").open("a", encoding="utf-8") as file:
        file.write("Finance,2024/25 Q1,FIN_KPI_02,why,Director,\"=cmd|' /C calc'!A0\"\n")
    run("comments", "--data", str(folder), "--period", QUARTER, "--service", "Finance", "--out",
        str(tmp_path))  # fmt: skip
    sheet = openpyxl.load_workbook(tmp_path / "finance-2024-25-q1-comments.xlsx")["Exceptions"]
    cell = next(c for c in sheet["I"] if c.value and str(c.value).startswith("=cmd"))
    assert cell.data_type == "s"


def test_recording_into_the_history_store(folder, tmp_path):
    db = f"sqlite:///{tmp_path / 'history.db'}"
    assert run("ingest", "--data", str(folder), "--db", db).exit_code == 0
    result = run("signoff", "--db", db, "--period", QUARTER, "--service", "Finance", "--state",
                 "approved", "--by", "Jane Smith", "--at", "2024-07-14T10:30")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Recorded in the history store as ingest 2." in result.stdout
    assert not (folder / "signoff.csv").exists()  # the store, not the folder
    exported = tmp_path / "exported"
    from kpitools.store.history import HistoryStore

    store = HistoryStore(db)
    try:
        store.export(store.ingest_as_of(None), exported)
    finally:
        store.close()
    assert "Finance,2024/25 Q1,approved,Jane Smith,2024-07-14T10:30:00" in (
        exported / "signoff.csv"
    ).read_text(encoding="utf-8")


def test_publish_writes_public_pages_of_published_reports_only(folder, tmp_path):
    # The example council marks its service and customer measures public (FIN_KPI_*), not
    # its finance and workforce ones (FIN_FN_*).
    import kpitools
    from kpitools.core.naming import slugify
    from kpitools.report.content import build_cpr
    from kpitools.report.summary import ReportSummary

    dataset = kpitools.load(folder, config=kpitools.load_config(COUNCIL_CONFIG))
    root = tmp_path / "out" / "2024-25-q1"
    entries = {}
    for service in ("Finance", "Adult Social Care"):
        slug = slugify(service)
        (root / slug).mkdir(parents=True)
        (root / slug / f"{slug}.pptx").write_bytes(b"deck")
        summary = ReportSummary.of(build_cpr(dataset, service, QUARTER))
        (root / slug / "summary.json").write_bytes(summary.to_json())
        entries[slug] = {"service": service, "status": "ok",
                         "files": [f"{slug}/{slug}.pptx", f"{slug}/summary.json"]}  # fmt: skip
    import json

    (root / "manifest.json").write_text(json.dumps({"services": entries}), encoding="utf-8")
    run("signoff", "--data", str(folder), "--period", QUARTER, "--service", "Finance",
        "--state", "approved", "--by", "Jane Smith")  # fmt: skip
    site = tmp_path / "site"
    result = run("publish", "--data", str(folder), "--period", QUARTER, "--out",
                 str(tmp_path / "out"), "--service", "Finance", "--public", str(site))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"Public pages: 2 in {site}"
    assert sorted(p.name for p in (site / "2024-25-q1").iterdir()) == ["finance.html",
                                                                       "index.html"]  # fmt: skip
    assert '<a href="2024-25-q1/index.html">2024-25-q1</a>' in (site / "index.html").read_text(
        encoding="utf-8"
    )
    page = (site / "2024-25-q1" / "finance.html").read_text(encoding="utf-8")
    assert "Council tax collected" in page and "Undisputed invoices" not in page
