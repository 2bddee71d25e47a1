"""`kpitools run` end to end: papermill runs the notebook, the files land, the HTML is sound."""

import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kpitools.batch.lock import LOCK_NAME
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, COUNCIL_CONFIG, EXAMPLE, ROOT, require

SERVICES = ["Children's Services", "Waste & Environment"]

pytestmark = pytest.mark.slow  # real notebooks and kernels, in subprocesses


def kpitools(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "kpitools", *args],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=600,
        check=False,
    )  # fmt: skip
    if check:
        assert result.returncode == 0, result.stderr
    return result


def run_example(out: Path, *services: str) -> subprocess.CompletedProcess:
    service_args = [a for s in services for a in ("--service", s)]
    return kpitools("run", "--data", str(EXAMPLE), "--quarter", "2024/25 Q1", "--config",
                    str(COUNCIL_CONFIG), "--out", str(out), *service_args)  # fmt: skip


QUARTER = "2024-25-q1"


def flat(root: Path) -> Path:
    """Copy each service's three report files into one folder, as the tests read them."""
    target = root / "_flat"
    target.mkdir(exist_ok=True)
    for path in (root / QUARTER).glob("*/*.*"):
        if path.parent.name != "failed" and path.suffix in (".pptx", ".html", ".ipynb"):
            (target / path.name).write_bytes(path.read_bytes())
    return target


@pytest.fixture(scope="module")
def batch_root(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("outputs")
    run_example(out, *SERVICES)
    return out


@pytest.fixture(scope="module")
def outputs(batch_root) -> Path:
    return flat(batch_root)


class Page(HTMLParser):
    """What a test needs to know about a page: scripts, headings, tables, text."""

    def __init__(self, text: str):
        super().__init__()
        self.scripts: list[str] = []
        self.script_sources: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self.lang = ""
        self.title = ""
        self.table_rows: dict[str, int] = {}
        self._stack: list[str] = []
        self._heading = ""
        self._caption = ""
        self._table: str | None = None
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._stack.append(tag)
        if tag == "html":
            self.lang = attrs.get("lang", "")
        if tag == "script":
            self.scripts.append("")
            if "src" in attrs:
                self.script_sources.append(attrs["src"])
        if tag in ("h1", "h2", "h3", "h4"):
            self._heading = ""
        if tag == "caption":
            self._caption = ""
        if tag == "tr" and self._table is not None:
            self.table_rows[self._table] = self.table_rows.get(self._table, 0) + 1

    def handle_endtag(self, tag):
        if self._stack:
            self._stack.pop()
        if tag in ("h1", "h2", "h3", "h4"):
            self.headings.append((tag, self._heading.strip().rstrip("¶")))
        if tag == "caption":
            self._table = self._caption.strip()
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        current = self._stack[-1] if self._stack else ""
        if current == "script":
            self.scripts[-1] += data
            return
        if current == "title":
            self.title += data
        if any(t in self._stack for t in ("h1", "h2", "h3", "h4")):
            self._heading += data
        if "caption" in self._stack:
            self._caption += data
        self.text.append(data)


def test_each_service_gets_its_folder_and_nothing_is_left_over(batch_root):
    root = batch_root / QUARTER
    # The period's folder, and the record of the command for a rerun with nothing to do.
    assert sorted(p.name for p in batch_root.iterdir()) == [LOCK_NAME, QUARTER, "runs.json"]
    assert sorted(p.name for p in root.iterdir()) == [
        "board-pack.html", "board-pack.json", "board-pack.pdf", "board-pack.pptx",
        "childrens-services", "index.html", "manifest.json", "timings.json",
        "waste-and-environment",
    ]  # fmt: skip
    for slug in ("childrens-services", "waste-and-environment"):
        assert sorted(p.name for p in (root / slug).iterdir()) == sorted(
            [f"{slug}.pptx", f"{slug}.html", f"{slug}.ipynb", "run.log", "summary.json"]
        )


def test_html_is_self_contained_with_plotly_once(outputs):
    from plotly.offline import get_plotlyjs

    text = (outputs / "childrens-services.html").read_text(encoding="utf-8")
    page = Page(text)
    assert page.lang == "en-GB"
    assert page.title == (
        "Children's Services: Corporate Performance Report, 2024/25 Q1 - Northfield Borough Council"
    )
    assert page.script_sources == []  # nothing loaded from anywhere
    assert "<link" not in text
    assert text.count(get_plotlyjs()[:2000]) == 1
    assert sum(len(s) > 1_000_000 for s in page.scripts) == 1
    # RAG counts, a trend per exception, an XmR chart per measure, a peer chart per benchmark.
    assert text.count("Plotly.newPlot(") == 1 + 10 + 11 + 1


def test_html_has_the_four_sections_and_the_full_scorecard(outputs):
    page = Page((outputs / "childrens-services.html").read_text(encoding="utf-8"))
    h2 = [text for tag, text in page.headings if tag == "h2"]
    assert h2 == [
        "1. At a glance",
        "2. What's good",
        "3. Measures needing attention",
        "4. Performance improvement plan",
        "Real change or noise? Statistical process control",
        "How do we compare? Benchmarks",
        "Full scorecard",
        "Targets to review",
        "About the data",
    ]
    assert ("h1", "Children's Services: Corporate Performance Report, 2024/25 Q1") in page.headings
    # A table per category, each a header row and its measures: every measure of the
    # service, monitored-only included.
    captions = [c for c in page.table_rows if "full scorecard for Children's Services" in c]
    assert [c.split(":")[0] for c in captions] == [
        "Service performance", "Customer", "Workforce", "Finance"
    ]  # fmt: skip
    assert sum(page.table_rows[c] - 1 for c in captions) == 11
    body = "".join(page.text)
    assert "import kpitools" not in body  # code hidden
    assert "Comment awaited" in body  # the exception without a figure
    assert "Drafted by kpitools:" in body
    assert "Why: vacancies and agency turnover" in body
    assert "CHS-A3" in body and "⚠ Overdue" in body


def test_same_inputs_same_bytes(outputs, tmp_path):
    run_example(tmp_path, SERVICES[0])
    again = flat(tmp_path)
    for name in ("childrens-services.pptx", "childrens-services.html"):
        assert (again / name).read_bytes() == (outputs / name).read_bytes(), name


@contextmanager
def chromium_page(url: str, dialogs: list[str] | None = None):
    """A page open in Debian's Chromium, driven by Playwright."""
    require(CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            if dialogs is not None:
                page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(url)
            page.wait_for_load_state("load")
            yield page
        finally:
            browser.close()


@pytest.mark.slow
@pytest.mark.parametrize("slug", ["childrens-services", "waste-and-environment"])
def test_axe_finds_no_serious_accessibility_problems(outputs, slug):
    from axe_playwright_python.sync_playwright import Axe

    with chromium_page((outputs / f"{slug}.html").as_uri()) as page:
        charts = page.locator(".plotly-graph-div .main-svg").count()
        assert charts >= 2  # plotly.js ran and drew the charts offline
        results = Axe().run(page)
    violations = results.response["violations"]
    serious = [(v["id"], v["impact"], v["nodes"][0]["html"][:120]) for v in violations
               if v["impact"] in ("serious", "critical")]  # fmt: skip
    assert serious == []
    assert results.response["passes"], "axe did not run"


HOSTILE = '<script>alert("comment")</script><img src=x onerror=alert(1)> Ünïcødé & "quotes"'


@pytest.fixture(scope="module")
def hostile_outputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile-data")
    (folder / "measures.csv").write_text(
        "measure_id,service,title,polarity,unit,target\n"
        'H1,Hostile <i>Service</i>,"<svg onload=alert(2)> measure",up,percent,90\n',
        encoding="utf-8",
    )
    (folder / "values.csv").write_text("measure_id,period,value\nH1,2024-06,50\n")
    escaped = HOSTILE.replace('"', '""')
    (folder / "comments.csv").write_text(
        "service,quarter,measure_id,section,author,comment\n"
        f'Hostile <i>Service</i>,2024/25 Q1,H1,,"<b>Director</b>","{escaped}"\n'
        f'Hostile <i>Service</i>,2024/25 Q1,,summary,Director,"{escaped}"\n',
        encoding="utf-8",
    )
    out = tmp_path_factory.mktemp("hostile-out")
    kpitools("run", "--data", str(folder), "--quarter", "2024/25 Q1", "--out", str(out))
    return flat(out)


def test_hostile_text_is_escaped_in_the_html(hostile_outputs):
    [html_file] = hostile_outputs.glob("*.html")
    assert html_file.name == "hostile-i-service-i.html"
    text = html_file.read_text(encoding="utf-8")
    assert "<img src=x onerror" not in text
    assert "<svg onload" not in text
    assert '<script>alert("comment")' not in text
    # Quotes in text may be written as &quot; (kpitools escapes them) or as they are.
    shown = text.replace("&quot;", '"')
    assert '&lt;script&gt;alert("comment")&lt;/script&gt;&lt;img src=x onerror' in shown
    assert '<script>alert("comment")' not in shown


@pytest.mark.slow
def test_hostile_text_does_not_run_in_a_browser(hostile_outputs):
    [html_file] = hostile_outputs.glob("*.html")
    dialogs: list[str] = []
    with chromium_page(html_file.as_uri(), dialogs) as page:
        page.wait_for_timeout(300)
        shown = page.locator(".exception .comment").first.inner_text()
    assert dialogs == []
    assert shown == HOSTILE


def test_strict_turns_missing_comments_into_failures(tmp_path):
    result = kpitools("run", "--data", str(EXAMPLE), "--quarter", "2024/25 Q1", "--service",
                      "Finance", "--out", str(tmp_path), "--strict", check=False)  # fmt: skip
    assert result.returncode == 1
    assert "warnings are errors with --strict" in result.stderr
    root = tmp_path / QUARTER
    # The report was built once, in the notebook; its warnings fail it, so nothing is published
    # and the built files are kept aside for a look.
    assert sorted(p.name for p in root.iterdir()) == [
        "failed", "index.html", "manifest.json", "timings.json"
    ]  # fmt: skip
    assert (root / "failed" / "finance" / "finance.pptx").is_file()
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["services"]["finance"]["status"] == "failed"
    assert "no Director's comment for exception" in manifest["services"]["finance"]["error"]
    finance = manifest["services"]["finance"]
    assert len(finance["warnings"]) == 4
    assert finance["error"] == "warnings are errors with --strict: " + "; ".join(
        finance["warnings"]
    )


def test_bad_input_writes_nothing(tmp_path, make_data):
    data = make_data(measures="measure_id,service,title,polarity\nM1,S,T,up\n",
                     values="measure_id,period,value\nM1,2024-06,x\n")  # fmt: skip
    out = tmp_path / "out"
    result = kpitools("run", "--data", str(data), "--quarter", "latest", "--out", str(out),
                      check=False)  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert "values.csv:2: value 'x' for M1 2024-06 is not a number" in result.stderr
    assert not out.exists()
    unknown = kpitools("run", "--data", str(EXAMPLE), "--quarter", "latest", "--service",
                       "Parks", "--out", str(out), check=False)  # fmt: skip
    assert unknown.returncode == 2
    assert "unknown service 'Parks'" in unknown.stderr
    assert "Traceback" not in unknown.stderr + result.stderr


def test_the_run_writes_the_board_pack(batch_root):
    root = batch_root / QUARTER
    from pptx import Presentation

    deck = Presentation(str(root / "board-pack.pptx"))
    titles = [slide.shapes.title.text for slide in deck.slides]
    assert titles[1] == "Corporate summary, 2024/25 Q1"
    assert "1. Children's Services" in titles and "2. Waste & Environment" in titles
    record = json.loads((root / "board-pack.json").read_text(encoding="utf-8"))
    assert record["services"] == SERVICES
    require("soffice")
    pdf = root / "board-pack.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    pages = subprocess.run([require("pdfinfo"), str(pdf)], capture_output=True, text=True,
                           check=True)  # fmt: skip
    if pages.returncode == 0:
        assert re.search(rf"Pages:\s+{len(titles)}\n", pages.stdout), pages.stdout
        assert re.search(r"CreationDate:\s+Sun Jun 30 00:00:00 2024", pages.stdout)


def test_a_rerun_keeps_the_board_pack(batch_root):
    root = batch_root / QUARTER
    before = {p.name: p.read_bytes() for p in root.glob("board-pack.*")}
    run_example(batch_root, *SERVICES)
    assert {p.name: p.read_bytes() for p in root.glob("board-pack.*")} == before


def test_axe_finds_no_problems_in_the_board_pack(batch_root):
    from axe_playwright_python.sync_playwright import Axe

    with chromium_page((batch_root / QUARTER / "board-pack.html").as_uri()) as page:
        results = Axe().run(page)
    violations = results.response["violations"]
    found = [(v["id"], v["impact"], v["nodes"][0]["html"][:120]) for v in violations]
    assert found == []
    assert results.response["passes"], "axe did not run"


def test_the_pack_pdf_is_the_same_bytes_every_time(batch_root, tmp_path):
    from kpitools.batch.pack import to_pdf

    soffice = require("soffice")
    deck = batch_root / QUARTER / "board-pack.pptx"
    first, second = to_pdf(soffice, deck, "20240630"), to_pdf(soffice, deck, "20240630")
    assert first is not None and first == second
    (tmp_path / "pack.pdf").write_bytes(first)
    # Still a sound PDF after its dates and id were fixed: poppler reads every page.
    info = subprocess.run([require("pdfinfo"), str(tmp_path / "pack.pdf")], capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert re.search(r"Pages:\s+20\n", info.stdout)
    pages = subprocess.run([require("pdftoppm"), "-r", "10", "-png", str(tmp_path / "pack.pdf"),
                            str(tmp_path / "p")], capture_output=True, check=True)  # fmt: skip
    assert pages.returncode == 0 and len(list(tmp_path.glob("p-*.png"))) == 20


def test_axe_finds_no_problems_in_the_public_pages(tmp_path):
    from axe_playwright_python.sync_playwright import Axe

    import kpitools
    from kpitools.report.content import build_cpr
    from kpitools.report.public import public_pages, public_services

    dataset = kpitools.load(EXAMPLE, config=kpitools.load_config(COUNCIL_CONFIG))
    dataset.measures["public"] = dataset.measures.index.str.endswith(("01", "02"))
    reports = [build_cpr(dataset, s, "2024/25 Q1") for s in SERVICES]
    pages = public_pages("Northfield Borough Council", "2024/25 Q1",
                         public_services(dataset, reports))  # fmt: skip
    for name, text in pages.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for name in ("index.html", "childrens-services.html"):
        with chromium_page((tmp_path / name).as_uri()) as page:
            results = Axe().run(page)
        found = [(v["id"], v["nodes"][0]["html"][:120]) for v in results.response["violations"]]
        assert found == [], name
        assert results.response["passes"], "axe did not run"


def test_run_publish_records_and_writes_the_public_pages(tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data)
    out, site = tmp_path / "out", tmp_path / "site"
    args = ["run", "--data", str(data), "--quarter", "2024/25 Q1", "--config",
            str(COUNCIL_CONFIG), "--out", str(out), "--service", "Finance", "--publish",
            "--public", str(site), "--no-pack-pdf"]  # fmt: skip
    refused = kpitools(*args, check=False)
    assert refused.returncode == 2
    assert "not approved by the Director, so not published: Finance (Draft)" in refused.stderr
    assert not site.exists() and not (data / "signoff.csv").exists()
    kpitools("signoff", "--data", str(data), "--period", "2024/25 Q1", "--service",
             "Finance", "--state", "approved", "--by", "Jane Smith", "--config",
             str(COUNCIL_CONFIG))  # fmt: skip
    done = kpitools(*args)
    assert "Published Finance: Approved by the Director (Jane Smith" in done.stdout
    assert sorted(p.name for p in (site / QUARTER).iterdir()) == ["finance.html", "index.html"]
    record = json.loads((out / QUARTER / "published.json").read_text(encoding="utf-8"))
    assert list(record["services"]) == ["Finance"]
    assert "Finance,2024/25 Q1,published," in (data / "signoff.csv").read_text(encoding="utf-8")
