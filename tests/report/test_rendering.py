"""Decks as LibreOffice renders them: no text off the page, above the top margin, between the
content area and the footer, or printed on other text (the checks are in ``layout_check.py``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.util import Inches, Pt

import kpitools
from kpitools.report.content import build_cpr
from tests.conftest import COUNCIL_CONFIG, QUARTER, MakeData, require
from tests.report.layout_check import layout_defects, read_pages, render
from tests.report.test_deck import many_exceptions, save_deck

pytestmark = pytest.mark.slow

SERVICES = list(kpitools.load_config(COUNCIL_CONFIG).services)
OVERFLOW = "25 exceptions"
LONG_TITLES = "25 exceptions, long titles"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """One folder (and one LibreOffice profile) for every deck the module renders."""
    require("soffice")
    require("pdftotext")
    return tmp_path_factory.mktemp("rendering")


@pytest.fixture
def look(council_config):
    """The example council's look (logo, colours, template) for data of other services."""
    return council_config.model_copy(update={"services": {}})


LONG_SERVICE = "Housing and Homelessness Prevention and Private Sector Housing Regulation"


def long_titled_exceptions(make_data: MakeData) -> Path:
    """25 red measures, as in ``many_exceptions``, every third with a 120-character title."""
    folder = many_exceptions(make_data)
    measures = (folder / "measures.csv").read_text(encoding="utf-8").splitlines()
    for i in range(0, 25, 3):
        title = (
            f"Measure {i:02d} households in temporary accommodation for more than six weeks "
            "with dependent children by ward and tenure type"
        )
        assert len(title) == 120, len(title)
        measures[i + 1] = f"X{i:02d},Overflow,{title},up,percent,90"
    # And a service whose name makes every slide title wrap.
    for name in ("measures.csv", "comments.csv"):
        text = (folder / name).read_text(encoding="utf-8")
        (folder / name).write_text(text.replace("Overflow", LONG_SERVICE), encoding="utf-8")
    return folder


def slug(deck: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", deck.lower().replace("'", "")).strip("-")


def test_every_example_service_is_rendered(example):
    assert set(SERVICES) == set(example.services)


@pytest.mark.parametrize("deck", [*SERVICES, OVERFLOW, LONG_TITLES], ids=slug)
def test_deck_layout_as_libreoffice_renders_it(deck, example, look, make_data, workdir):
    if deck in SERVICES:
        report = build_cpr(example, deck, QUARTER)
    else:
        helper = many_exceptions if deck == OVERFLOW else long_titled_exceptions
        service = "Overflow" if deck == OVERFLOW else LONG_SERVICE
        report = build_cpr(kpitools.load(helper(make_data), config=look), service, QUARTER)
        assert len(report.exceptions) == 25
    pptx = workdir / f"{slug(deck)}.pptx"
    slides = len(save_deck(report, pptx).slides)
    pdf = render(pptx, workdir)
    assert len(read_pages(pdf, workdir)) == slides
    defects = layout_defects(pdf, workdir)
    assert not defects, "\n".join([f"{len(defects)} layout defects:", *defects])


# -- the checker itself, on small hand-made decks -----------------------------------------
def _deck(path: Path, slides: list[list[tuple]]) -> Path:
    """A 13.333 x 7.5 in deck. Each slide is a list of shapes, in inches:
    ``(left, top, width, height, paragraphs)`` is a text box, each paragraph ``(text, size)``
    or ``(text, size, line_spacing)``, a sixth item ``False`` turning wrapping off;
    ``("table", left, top, width, rows)`` is a table of 10 pt text, ``rows`` a list of lists."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    for shapes in slides:
        slide = prs.slides.add_slide(prs.slide_layouts[6])  # blank
        for shape in shapes:
            if shape[0] == "table":
                _, left, top, width, rows = shape
                table = slide.shapes.add_table(
                    len(rows), len(rows[0]), Inches(left), Inches(top), Inches(width),
                    Inches(0.3 * len(rows)),
                ).table  # fmt: skip
                for r, row in enumerate(rows):
                    for c, text in enumerate(row):
                        table.cell(r, c).text = text
                        for paragraph in table.cell(r, c).text_frame.paragraphs:
                            for run in paragraph.runs:
                                run.font.size = Pt(10)
                continue
            left, top, width, height, paragraphs, *wrap = shape
            frame = slide.shapes.add_textbox(
                Inches(left), Inches(top), Inches(width), Inches(height)
            ).text_frame
            frame.word_wrap = wrap != [False]
            for n, (text, size, *spacing) in enumerate(paragraphs):
                paragraph = frame.paragraphs[0] if n == 0 else frame.add_paragraph()
                paragraph.text = text
                paragraph.runs[0].font.size = Pt(size)
                if spacing:
                    paragraph.line_spacing = spacing[0]
    prs.save(str(path))
    return path


FOOTER = ("Northfield Borough Council · Finance · CPR 2024/25 Q1 · Slide 1 of 1", 9)
BAD_SLIDES = [
    # 1: two text boxes in one font, the second a little right and down of the first
    # (pdftotext makes them one block, their words woven into the same lines)
    [(1, 2, 5, 1, [("Alpha bravo charlie delta echo", 18)]),
     (1.5, 2.1, 5, 1, [("Zulu yankee xray whiskey victor", 18)])],
    # 2: small text on a large heading (two blocks)
    [(1, 2, 6, 1, [("BIG HEADING TEXT", 40)]),
     (1.2, 2.2, 6, 1, [("small text on the big heading", 12)])],
    # 3: a box whose text runs down into the box below it
    [(1, 2, 5, 0.5, [("one two three four five six seven eight nine ten eleven twelve "
                      "thirteen fourteen fifteen sixteen seventeen", 18)]),
     (1, 2.6, 5, 0.5, [("The next box, just below", 18)])],
    # 4: above the top margin
    [(1, -0.02, 5, 0.5, [("Too high a title", 18)])],
    # 5: between the content area and the footer
    [(1, 6.8, 5, 0.3, [("Runs past the content area", 12)])],
    # 6: off the right edge of the page
    [(12.5, 1, 3, 0.5, [("partly off the right edge here", 18)], False)],
    # 7: a line of content in the footer zone, under the footer
    [(0.45, 6.98, 12.4, 0.36, [FOOTER]), (1, 7.15, 5, 0.3, [("Content too low", 9)])],
]  # fmt: skip
COMMENT = "Why: more residents on payment arrangements. Impact: about £0.9m at risk. " * 2
CLEAN_SLIDES = [
    [(0.45, 0.25, 10, 0.9, [("Finance: at a glance, 2024/25 Q1", 28)]),
     # a heading and its body in one frame; a big figure with small words just under it
     (0.45, 1.25, 4, 3, [("Director's summary", 14), (COMMENT, 11), ("90.4%", 28),
                         ("▲ RED  ↓ worsening · Target 100%", 9)]),
     # wrapped bullets, some set tight (0.8 line spacing)
     (5, 1.25, 3.5, 4, [("Successes", 14)]
      + [(f"• Measure {n} with a title that wraps onto a second line: 9{n}% against 90%",
          11, 0.8 if n % 2 else 1.0) for n in range(5)]),
     # side by side with the bullets, nearly touching them
     (8.5, 1.25, 4.3, 4, [("Areas for development", 14), (COMMENT, 11)]),
     # the last line of content just above the end of the content area
     (0.45, 6.45, 12, 0.4, [("The last line of the content area", 14)]),
     (0.45, 6.98, 12.4, 0.36, [FOOTER])],
    # a table of wrapped cells, like the exceptions table, then the footer
    [(0.45, 0.25, 10, 0.9, [("Finance: measures needing attention", 28)]),
     ("table", 0.45, 1.25, 12.4, [
         ["Measure", "Value / target", "RAG / direction", "Director's comment"],
         *[[f"Business rates collected (rolling 12 months)\nFIN_KPI_0{n}", "97.2%\nTarget 98%",
            "◆ amber\n↑ improving", COMMENT * n] for n in range(1, 4)],
     ]),
     (0.45, 6.98, 12.4, 0.36, [FOOTER])],
]  # fmt: skip


@pytest.fixture(scope="module")
def hand_made(workdir) -> dict[str, dict[int, list[str]]]:
    """The defects found in each hand-made deck, by slide: kinds only (``text on text``)."""
    found = {}
    for name, slides in {"bad": BAD_SLIDES, "clean": CLEAN_SLIDES}.items():
        pdf = render(_deck(workdir / f"hand-made-{name}.pptx", slides), workdir)
        by_slide: dict[int, list[str]] = {}
        for defect in layout_defects(pdf, workdir):
            match = re.match(r"slide (\d+): ([^:(]+)", defect)
            assert match, defect
            by_slide.setdefault(int(match[1]), []).append(match[2].strip())
        found[name] = by_slide
    return found


def test_checker_finds_text_on_text(hand_made):
    for slide in (1, 2, 3):
        assert hand_made["bad"][slide] == ["text on text"], slide


def test_checker_finds_text_outside_its_place(hand_made):
    assert hand_made["bad"][4] == ["above the top margin"]
    assert hand_made["bad"][5] == ["between the content area"]
    assert hand_made["bad"][6] == ["off the page", "off the page"]  # cut, and not shown at all
    assert hand_made["bad"][7] == ["in the footer zone, not the footer"]


def test_checker_passes_clean_slides(hand_made):
    assert hand_made["clean"] == {}
