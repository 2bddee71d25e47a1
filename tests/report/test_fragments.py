"""The CPR's HTML fragments: snapshots of the example, and the promises they keep (escaping,
captions, RAG as symbol and word as well as colour)."""

import re
from html.parser import HTMLParser
from typing import ClassVar

import pytest

import kpitools
from kpitools.report import charts, fragments
from kpitools.report.words import RAG_SYMBOLS
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER

SECTIONS = [
    fragments.title,
    fragments.summary,
    fragments.whats_good,
    fragments.exceptions,
    fragments.improvement_plan,
    fragments.scorecard,
    fragments.data_notes,
]
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def reports():
    """Every example service's CPR for 2024/25 Q1, with a fixed run id."""
    dataset = kpitools.load(EXAMPLE, config=kpitools.load_config(COUNCIL_CONFIG))
    return {s: kpitools.build_cpr(dataset, s, QUARTER, run_id="test-run") for s in dataset.services}


@pytest.mark.parametrize("section", SECTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "service", ["Finance", "Children's Services"], ids=["finance", "childrens"]
)
def test_snapshot(reports, html_snapshot, service, section):
    html = section(reports[service])
    assert isinstance(html, fragments.Fragment) and html._repr_html_() == str(html)
    assert html == html_snapshot


# -- what each section says ----------------------------------------------------------------
def test_title(reports):
    assert fragments.title(reports["Finance"]) == (
        '<header class="report-header"><h1>Finance: Corporate Performance Report, 2024/25 Q1'
        "</h1><p>Northfield Borough Council · Director: Director of Finance · Cabinet member: "
        "Cllr S. Lewis · Report date 30 June 2024</p>"
        '<p class="draft">DRAFT: not yet approved by the Director</p></header>'
    )


def test_summary_counts_are_the_reports(reports):
    html = fragments.summary(reports["Children's Services"])
    counts = re.findall(
        r'<span class="rag rag-(\w+)"[^>]*>[^<]*</span> <strong>(\d+)</strong>', html
    )
    assert counts == [("green", "0"), ("amber", "4"), ("red", "7"), ("blue", "0"),
                      ("white", "0"), ("grey", "0")]  # fmt: skip
    assert "Assessment timeliness has fallen for three quarters" in html
    assert "<h3>Director's summary (Director of Children&#x27;s Services)</h3>" in html


def test_exceptions_show_the_comment_or_that_it_is_awaited(reports):
    report = reports["Finance"]
    html = fragments.exceptions(report)
    assert html.count('<article class="exception">') == 6
    drafted = '<p class="comment"><span class="drafted"><strong>Drafted by kpitools:</strong> '
    assert html.count(drafted) == len(report.warnings) == 4
    assert "Comment awaited" not in html  # every exception has a figure to describe
    assert "Why: more residents on payment arrangements." in html
    titles = re.findall(r'<article class="exception"><h3>([^<]*) <span', html)
    assert titles == [line.title for line in report.exceptions]
    # No exceptions: said, with the measures nearest to becoming one, not a lone sentence.
    waste = fragments.exceptions(reports["Waste & Environment"])
    assert waste.startswith("<p>No measure meets the exception criteria this quarter.</p>")
    assert "<caption>On target by the smallest margin, 2024/25 Q1</caption>" in waste
    assert waste.index("WST_FN_01") < waste.index("WST_FN_02")  # 0.4 points, then 1.6


def test_the_scorecard_has_every_measure_monitored_ones_marked(reports):
    report = reports["Customer Services"]
    html = fragments.scorecard(report)
    # One table per category with measures, each with its header row: 11 measures in 4.
    assert html.count("<tr>") == len(report.scorecard) + 4 == 15
    assert re.findall(r"<h3>([^<]*)</h3>", html) == [
        "Service performance", "Customer", "Workforce", "Finance"
    ]  # fmt: skip
    assert html.count("monitored only") == 1


def test_overdue_actions_come_first_and_are_marked(reports):
    html = fragments.improvement_plan(reports["ICT & Digital"])
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th>', html)
    assert rows == ["IMT-A2", "IMT-A1"]
    assert html.count('<strong class="overdue">⚠ Overdue</strong>') == 1
    assert "Contract variation still with legal services." in html


def test_data_notes(reports):
    assert fragments.data_notes(reports["ICT & Digital"]) == (
        "<ul><li>IMT_KPI_01 Priority 1 incidents resolved within 4 hours: 1 of 3 months "
        "pending; provisional; note: Provisional until agreed.</li>"
        "<li>IMT_KPI_05 Service desk calls abandoned: 1 of 3 months pending; provisional; "
        "note: Figures due after contract review meeting.</li>"
        "<li>IMT_KPI_06 Critical security patches applied within 14 days: note: Disputed score "
        "re-checked at contract board; changed from red to amber.</li></ul>"
    )
    assert fragments.data_notes(reports["Waste & Environment"]) == (
        "<p>Every figure for the quarter was supplied in full, with no notes.</p>"
    )


# -- RAG is a symbol and a word as well as a colour -----------------------------------------
def test_rag_badges_carry_symbol_word_and_palette_colour(reports):
    report = reports["Finance"]
    palette = report.palette
    assert palette["amber"] == "#B35C00"
    html = "".join(section(report) for section in SECTIONS)
    badges = re.findall(
        r'<span class="rag rag-(\w+)" style="background:(#\w{6});color:(#\w{6});'
        r'border:1px solid (#\w{6})">([^<]*)</span>',
        html,
    )
    assert len(badges) == html.count('class="rag ') > 20
    for rag, fill, text, border, label in badges:
        assert fill == palette[rag]
        assert label == f"{RAG_SYMBOLS[rag]} {rag}"
        assert text == ("#0B0C0C" if rag == "white" else "#FFFFFF")
        assert border == ("#0B0C0C" if rag == "white" else palette[rag])


def test_a_councils_own_colours_reach_the_badges():
    config = kpitools.CouncilConfig(council="Test", rag_colours={"amber": "#8a4b00"})
    dataset = kpitools.load(EXAMPLE, config=config)
    html = fragments.summary(kpitools.build_cpr(dataset, "Finance", QUARTER))
    assert 'style="background:#8A4B00;color:#FFFFFF;border:1px solid #8A4B00">◆ amber' in html
    assert "#B35C00" not in html


# -- every table has a caption --------------------------------------------------------------
class TableCheck(HTMLParser):
    """Records each <table> that neither starts with a <caption> nor sits in a <figure> with a
    <figcaption>; also checks that tags nest."""

    VOID: ClassVar[set[str]] = {"br", "img", "meta", "link", "hr", "input"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.figure_captions: list[bool] = []
        self.tables = 0
        self.uncaptioned = 0
        self.expect_caption = False

    def handle_starttag(self, tag, attrs):
        if self.expect_caption:
            self.expect_caption = False
            if tag != "caption" and not any(self.figure_captions):
                self.uncaptioned += 1
        if tag == "table":
            self.tables += 1
            self.expect_caption = True
        if tag == "figure":
            self.figure_captions.append(False)
        if tag == "figcaption" and self.figure_captions:
            self.figure_captions[-1] = True
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()
        if tag == "figure":
            self.figure_captions.pop()


def check_tables(html: str) -> TableCheck:
    check = TableCheck()
    check.feed(html)
    check.close()
    assert check.stack == []
    return check


def test_every_table_has_a_caption(reports):
    tables = 0
    for report in reports.values():
        pieces = [section(report) for section in SECTIONS]
        pieces.append(charts.rag_counts_chart(report).to_html())
        pieces += [charts.trend_chart(report, line).to_html() for line in report.exceptions]
        check = check_tables("".join(pieces))
        assert check.uncaptioned == 0
        tables += check.tables
    # Per service an action plan and a RAG chart, a scorecard table per category (4 each);
    # what's good where any, else the closest to target; Waste's nearest margins in place of
    # exceptions; and per exception a facts table and a trend chart: 6 * 6 + 6 + 1 + 27 * 2.
    assert tables == 97


def test_the_caption_check_finds_a_table_without_one():
    assert check_tables("<table><tr><td>1</td></tr></table>").uncaptioned == 1
    assert check_tables("<figure><table><tr><td>1</td></tr></table></figure>").uncaptioned == 1
    assert (
        check_tables(
            "<figure><figcaption>x</figcaption><table><tr><td>1</td></tr></table></figure>"
        ).uncaptioned
        == 0
    )


# -- text from the data is text ------------------------------------------------------------
@pytest.fixture
def hostile(make_data):
    """A service whose names, titles, comments and actions are HTML."""
    service = "<b>Evil</b> & Co"
    data = make_data(
        measures=f"""\
        measure_id,service,title,polarity,unit,frequency,target
        M1,{service},{HOSTILE},up,percent,monthly,80
        M2,{service},"Calls ""answered"" <i>fast</i>",up,percent,monthly,90
        """,
        values="""\
        measure_id,period,value,status,note
        M1,2024-01,70,,
        M1,2024-02,71,,
        M1,2024-03,72,,
        M1,2024-04,60,,
        M1,2024-05,61,,
        M1,2024-06,62,,
        M2,2024-04,95,,
        M2,2024-05,95,,
        M2,2024-06,95,,
        """,
        comments=f"""\
        service,quarter,measure_id,section,author,comment
        {service},2024/25 Q1,,summary,Someone,{HOSTILE}
        {service},2024/25 Q1,,whats_good,Someone,{HOSTILE}
        {service},2024/25 Q1,,approach,Someone,{HOSTILE}
        {service},2024/25 Q1,M1,,<img src=x onerror=alert(2)>,{HOSTILE}
        """,
        actions=f"""\
        service,action_id,action,owner,due,status,measures,note
        {service},A<1>,{HOSTILE},<u>Owner</u>,2024-05-31,on_track,M1,{HOSTILE}
        """,
    )
    dataset = kpitools.load(data, config=kpitools.CouncilConfig.defaults("<i>Council</i>"))
    return kpitools.build_cpr(dataset, service, QUARTER, run_id="<run>")


def test_text_from_the_data_is_escaped_everywhere(hostile):
    assert hostile.exceptions[0].comment == HOSTILE  # the data held HTML
    pieces = {section.__name__: section(hostile) for section in SECTIONS}
    pieces["chart"] = charts.rag_counts_chart(hostile).to_html()
    for name, html in pieces.items():
        scripts = 1 if name == "chart" else 0  # plotly's own, drawing the chart
        assert html.count("<script") == scripts, name
        for tag in ("<b>", "<i>", "<img", "<u>"):
            assert tag not in html, (name, tag)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert pieces["title"].startswith(
        '<header class="report-header"><h1>&lt;b&gt;Evil&lt;/b&gt; &amp; Co: Corporate '
    )
    assert "&lt;i&gt;Council&lt;/i&gt;" in pieces["title"]
    assert pieces["summary"].count(escaped) == 3  # tile, area for development, comment
    assert f'<p class="comment">{escaped}</p>' in pieces["whats_good"]
    assert f'<p class="comment">{escaped}</p>' in pieces["exceptions"]
    assert "&lt;img src=x onerror=alert(2)&gt;" in pieces["exceptions"]
    assert pieces["improvement_plan"].count(escaped) == 3  # approach, action, note
    assert "A&lt;1&gt;" in pieces["improvement_plan"]
    assert "Calls &quot;answered&quot; &lt;i&gt;fast&lt;/i&gt;" in pieces["scorecard"]
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co, 2024/25 Q1" in pieces["chart"]


def test_the_hostile_report_still_has_its_captions(hostile):
    html = "".join(section(hostile) for section in SECTIONS)
    assert check_tables(html).uncaptioned == 0
