"""The corporate overview page: rows from each service's status and summary, nothing worked out."""

import dataclasses
import re

import pytest

import kpitools
from kpitools.batch.overview import NO_FIGURE, OverviewRow, render_overview
from kpitools.batch.status import ServiceStatus
from kpitools.report.styles import report_css
from kpitools.report.summary import ReportSummary
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER

COUNCIL = "Northfield Borough Council"
FOOTER = f"{COUNCIL} · Corporate Performance Reports {QUARTER}"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def summaries():
    dataset = kpitools.load(EXAMPLE, config=kpitools.load_config(COUNCIL_CONFIG))
    return {
        s: ReportSummary.of(kpitools.build_cpr(dataset, s, QUARTER, run_id="test-run"))
        for s in dataset.services
    }


@pytest.fixture
def rows(summaries):
    return [
        OverviewRow("Finance", "finance", ServiceStatus.OK, summaries["Finance"],
                    signoff="Approved by the Director (Jane Smith, 14 July 2024)"),
        OverviewRow("Children's Services", "childrens-services", ServiceStatus.SKIPPED,
                    summaries["Children's Services"]),
        OverviewRow("ICT & Digital", "ict-and-digital", ServiceStatus.FAILED, None,
                    "cell 7: RuntimeError: analyst cell broke"),
        OverviewRow("Adult Social Care", "adult-social-care", ServiceStatus.NOT_RUN, None),
        OverviewRow("Waste & Environment", "waste-and-environment", ServiceStatus.OK,
                    summaries["Waste & Environment"]),
    ]  # fmt: skip


def render(rows, palette=None):
    palette = palette or kpitools.load_config(COUNCIL_CONFIG).palette
    return render_overview(COUNCIL, QUARTER, rows, palette, footer=FOOTER)


def row_of(page: str, service: str) -> str:
    """A service's row of the services table (the category table comes after it)."""
    services = page.split("Measures by category")[0]
    [row] = [r for r in re.findall(r"<tr>.*?</tr>", services) if f">{service}<" in r]
    return row


def cells(row: str) -> list[str]:
    return re.findall(r"<td>(.*?)</td>", row)


def test_snapshot(rows, html_snapshot):
    page = render(rows)
    assert page.count(report_css()) == 1
    assert page.replace(report_css(), "/* report.css */") == html_snapshot


def test_counts_and_exceptions_come_from_the_summaries(rows):
    page = render(rows)
    assert cells(row_of(page, "Finance"))[:7] == ["3", "6", "2", "0", "0", "0", "6"]
    assert cells(row_of(page, "Children&#x27;s Services"))[:7] == [
        "0", "4", "7", "0", "0", "0", "10"]  # fmt: skip
    assert cells(row_of(page, "Waste &amp; Environment"))[:7] == [
        "11", "0", "0", "0", "0", "1", "0"]  # fmt: skip


def test_a_doctored_summary_is_shown_as_it_is(summaries):
    """The page repeats the summary; it never rates the data itself."""
    odd = dataclasses.replace(summaries["Finance"], counts={"green": 42}, exceptions=())
    page = render([OverviewRow("Finance", "finance", ServiceStatus.OK, odd)])
    assert cells(row_of(page, "Finance"))[:7] == ["42", "0", "0", "0", "0", "0", "0"]
    assert "<p>No measures meet the exception criteria.</p>" in page


def test_statuses_are_words(rows):
    page = render(rows)
    assert cells(row_of(page, "Finance"))[7] == "✓ Up to date"
    assert (
        cells(row_of(page, "Finance"))[8] == "Approved by the Director (Jane Smith, 14 July 2024)"
    )
    # Kept from an earlier run or built now: the same report, the same words.
    assert cells(row_of(page, "Children&#x27;s Services"))[7] == "✓ Up to date"
    assert cells(row_of(page, "ICT &amp; Digital"))[7] == "⚠ Failed"
    assert cells(row_of(page, "Adult Social Care"))[7] == "Not run"


def test_failed_and_not_run_rows_show_no_figures_and_the_error(rows):
    page = render(rows)
    failed = cells(row_of(page, "ICT &amp; Digital"))
    assert failed == [NO_FIGURE] * 7 + [
        "⚠ Failed", NO_FIGURE, "cell 7: RuntimeError: analyst cell broke",
    ]  # fmt: skip
    assert cells(row_of(page, "Adult Social Care")) == [NO_FIGURE] * 7 + [
        "Not run", NO_FIGURE, "",
    ]  # fmt: skip


def test_a_failed_service_with_a_summary_still_shows_no_figures(summaries):
    """--strict failed it: its summary exists, but the report is not published."""
    row = OverviewRow("Finance", "finance", ServiceStatus.FAILED, summaries["Finance"],
                      "warnings are errors with --strict: ...")  # fmt: skip
    page = render([row])
    assert cells(row_of(page, "Finance"))[:7] == [NO_FIGURE] * 7
    assert 'href="finance/' not in page
    assert "<h3>Finance</h3>" not in page
    assert "<p>No measures meet the exception criteria.</p>" in page


def test_links_only_for_services_with_a_report(rows):
    page = render(rows)
    links = re.findall(r'<a href="([^"]+)"', page)
    assert links == [
        "finance/finance.html",
        "finance/finance.pptx",
        "childrens-services/childrens-services.html",
        "childrens-services/childrens-services.pptx",
        "waste-and-environment/waste-and-environment.html",
        "waste-and-environment/waste-and-environment.pptx",
    ]
    assert '<a href="finance/finance.pptx">Slides (Finance, PowerPoint)</a>' in page


def test_exceptions_are_listed_per_service_with_a_report(rows, summaries):
    page = render(rows)
    sections = re.findall(r"<h3>(.*?)</h3>", page)
    assert sections == ["Finance", "Children&#x27;s Services"]
    finance = page.split("<h3>Finance</h3>")[1].split("</ul>")[0]
    assert finance.count("<li>") == 6
    assert (
        "<li><strong>Council tax collected (rolling 12 months)</strong> (FIN_KPI_01): " in finance
    )


def test_hostile_names_are_escaped(summaries):
    summary = dataclasses.replace(
        summaries["Finance"],
        service=HOSTILE,
        exceptions=tuple(
            dataclasses.replace(x, title=HOSTILE, reasons="<b>bold</b>")
            for x in summaries["Finance"].exceptions
        ),
    )
    rows = [
        OverviewRow(HOSTILE, "script-alert-1-script", ServiceStatus.OK, summary),
        OverviewRow('"><img src=x onerror=alert(2)>', "img", ServiceStatus.FAILED, None,
                    "<b>error</b>"),
    ]  # fmt: skip
    palette = kpitools.CouncilConfig.defaults().palette
    page = render_overview("<i>Council</i>", "<q>", rows, palette, footer="<u>f</u>")
    for tag in ("<script", "<img", "<b>", "<i>", "<u>", "<q>"):
        assert tag not in page, tag
    assert '<a href="script-alert-1-script/script-alert-1-script.html">' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</a>" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<td>&lt;b&gt;error&lt;/b&gt;</td>" in page
    assert (
        "<title>&lt;i&gt;Council&lt;/i&gt;: Corporate Performance Reports, &lt;q&gt;</title>"
        in (page)
    )
    assert "<footer><p>&lt;u&gt;f&lt;/u&gt;</p></footer>" in page


def test_the_page_has_its_landmarks_and_header_cells(rows):
    page = render(rows)
    assert page.startswith('<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">')
    assert '<a class="skip-link" href="#main">Skip to main content</a><main id="main">' in page
    assert (
        "<caption>Measures by RAG rating and exceptions, by service, 2024/25 Q1</caption>" in page
    )
    categories = kpitools.CouncilConfig.defaults().category_names
    measures = sum(len(row.summary.matrix) for row in rows if row.summary is not None)
    assert measures > 0  # the council's summary matrix: one row per measure
    assert page.count('<th scope="row">') == len(rows) + len(categories) + measures
    assert f"<footer><p>{FOOTER}</p></footer>" in page
    # RAG heads as badges in the council's colours, symbol and word.
    assert (
        '<th scope="col"><span class="rag rag-amber" style="background:#B35C00;color:#FFFFFF;'
        'border:1px solid #B35C00">◆ amber</span></th>'
    ) in page


def test_an_empty_run_has_an_empty_table():
    page = render([])
    assert "<tbody></tbody>" in page
    assert "<p>No measures meet the exception criteria.</p>" in page
