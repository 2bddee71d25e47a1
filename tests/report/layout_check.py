"""A layout checker for a deck as LibreOffice renders it: words off the page, above the top
margin, between the content area and the footer, or on top of other words.

It reads the words' boxes from ``pdftotext -bbox-layout`` (in points, origin at the page's top
left). What that gives, for decks rendered by LibreOffice, decided how collisions are found:

* A word's box is its font box, not its ink: from the box's top, capitals start at about 0.19
  of its height and the baseline is at about 0.71 (Carlito, 1.3 em boxes). Lines of one
  paragraph are set closer than their boxes are tall, so neighbouring lines' boxes overlap by
  a point or more; a heading's box overlaps the smaller text just under it by several points.
* A ``<block>`` is pdftotext's own reading-order grouping, not a text frame or a table cell:
  two text boxes that overlap, in the same font, come out as one block (their words woven into
  the same lines); a table column's cells, stacked close in one font, are one block; one
  frame's paragraphs in different sizes are separate blocks whose boxes overlap.

So comparing blocks would miss real collisions (they are inside one block) and report false
ones (a heading and its body). Collisions are found between words, whichever block or line
they are in, using each word's core: the band from its capitals' top to its baseline. Two
cores that intersect by more than :data:`OVERLAP_PT` both across and down are text printed
on text. A word never meets itself; the words of one line are side by side, so only words
drawn on top of each other meet.

pdftotext drops each character whose origin is off the page, so text that runs off the page
is found a second way: ``pdftotext`` without ``-bbox`` honours a crop area larger than the
page, and the words it finds there but not on the page are reported. LibreOffice leaves a
shape that lies wholly off the page out of the PDF: no check of the PDF can see that.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import convert_to_pdf, require

SLIDE_HEIGHT_IN = 7.5
TOP_MARGIN_IN = 0.15  # 10.8 pt on a 7.5 in slide
CONTENT_BOTTOM_IN = 6.9  # the content area ends here ...
FOOTER_TOP_IN = 6.95  # ... and the footer zone starts here
OVERLAP_PT = 1.0  # cores intersecting by more than this, both ways, collide
CORE_TOP, CORE_BOTTOM = 0.2, 0.7  # a word's core: capitals' top to baseline, share of its box
OFF_PAGE_CROP = 10_000  # points around the page searched for text that runs off it

_XHTML = "{http://www.w3.org/1999/xhtml}"


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    line: int  # index of its <line> in the document
    block: int  # index of its <block> in the document

    @property
    def core(self) -> tuple[float, float, float, float]:
        height = self.y1 - self.y0
        return self.x0, self.y0 + CORE_TOP * height, self.x1, self.y0 + CORE_BOTTOM * height


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    words: tuple[Word, ...]


@dataclass(frozen=True)
class Defect:
    slide: int
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"slide {self.slide}: {self.kind}: {self.detail}"


def render(pptx: Path, workdir: Path) -> Path:
    """The deck opened in LibreOffice (headless) and saved as PDF, as in ``tests/conftest.py``."""
    return convert_to_pdf(pptx, workdir)


def layout_defects(pdf: Path, workdir: Path) -> list[str]:
    """Each layout defect in a rendered deck: the slide, what is wrong, the words and where."""
    pages = read_pages(pdf, workdir)
    defects: list[Defect] = []
    for page in pages:
        defects += _misplaced_words(page)
        defects += _footer_zone_intruders(page)
        defects += _collisions(page)
    defects += _text_beyond_the_page(pdf, len(pages))
    return [str(d) for d in defects]


def read_pages(pdf: Path, workdir: Path) -> list[Page]:
    """The words of each page, with their line and block, from ``pdftotext -bbox-layout``."""
    out = workdir / f"{pdf.stem}.bbox.html"
    subprocess.run(
        [require("pdftotext"), "-bbox-layout", str(pdf), str(out)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    root = ET.parse(out).getroot()
    pages, lines, blocks = [], 0, 0
    for number, page in enumerate(root.iter(f"{_XHTML}page"), 1):
        words = []
        for block in page.iter(f"{_XHTML}block"):
            blocks += 1
            for line in block.iter(f"{_XHTML}line"):
                lines += 1
                for word in line.iter(f"{_XHTML}word"):
                    box = (float(word.get(k, "nan")) for k in ("xMin", "yMin", "xMax", "yMax"))
                    words.append(Word(word.text or "", *box, line=lines, block=blocks))
        pages.append(
            Page(number, float(page.get("width", "0")), float(page.get("height", "0")),
                 tuple(words))
        )  # fmt: skip
    return pages


def _box(words: list[Word]) -> str:
    x0, y0 = min(w.x0 for w in words), min(w.y0 for w in words)
    x1, y1 = max(w.x1 for w in words), max(w.y1 for w in words)
    return f"({x0:.1f},{y0:.1f})-({x1:.1f},{y1:.1f})"


def _quote(words: list[Word]) -> str:
    text = " ".join(w.text for w in words)
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _by_line(page: Page, kind: str, words: list[Word]) -> list[Defect]:
    """One defect per line of text for the words of that line that are wrong in one way."""
    lines: dict[int, list[Word]] = defaultdict(list)
    for word in words:
        lines[word.line].append(word)
    return [Defect(page.number, kind, f"{_quote(ws)} at {_box(ws)}") for ws in lines.values()]


def _misplaced_words(page: Page) -> list[Defect]:
    top_margin = page.height * TOP_MARGIN_IN / SLIDE_HEIGHT_IN
    content_bottom = page.height * CONTENT_BOTTOM_IN / SLIDE_HEIGHT_IN
    footer_top = page.height * FOOTER_TOP_IN / SLIDE_HEIGHT_IN
    off, high, between = [], [], []
    for w in page.words:
        if w.x0 < 0 or w.x1 > page.width or w.y0 < 0 or w.y1 > page.height:
            off.append(w)
        elif w.y0 < top_margin:
            high.append(w)
        elif w.y1 > content_bottom and w.y0 < footer_top:
            between.append(w)  # ends below the content area, starts above the footer zone
    return (
        _by_line(page, "off the page", off)
        + _by_line(page, f"above the top margin ({top_margin:.1f} pt)", high)
        + _by_line(
            page,
            f"between the content area ({content_bottom:.1f} pt) and the footer "
            f"({footer_top:.1f} pt)",
            between,
        )
    )


def _footer_zone_intruders(page: Page) -> list[Defect]:
    """The footer zone holds one line, the footer (its longest), and beside it (to its right)
    the DRAFT mark of a report not yet approved: any other line is content that has run down
    into it."""
    footer_top = page.height * FOOTER_TOP_IN / SLIDE_HEIGHT_IN
    lines: dict[int, list[Word]] = defaultdict(list)
    for w in page.words:
        if w.y0 >= footer_top and w.y1 <= page.height:
            lines[w.line].append(w)
    if len(lines) <= 1:
        return []
    footer = max(lines, key=lambda n: sum(len(w.text) for w in lines[n]))
    right = max(w.x1 for w in lines[footer])
    for n in [n for n in lines if n != footer]:
        if [w.text for w in lines[n]] == ["DRAFT"] and min(w.x0 for w in lines[n]) > right:
            del lines[n]
    return _by_line(
        page, "in the footer zone, not the footer",
        [w for n, ws in lines.items() if n != footer for w in ws],
    )  # fmt: skip


def _collisions(page: Page) -> list[Defect]:
    """Words printed on top of other words: their cores intersect both across and down."""
    words = sorted(page.words, key=lambda w: w.core[1])
    pairs: dict[tuple[int, int], tuple[list[Word], list[Word]]] = {}
    for i, a in enumerate(words):
        ax0, ay0, ax1, ay1 = a.core
        for b in words[i + 1 :]:
            bx0, by0, bx1, by1 = b.core
            if by0 >= ay1 - OVERLAP_PT:
                break  # sorted by the top of the core: no later word reaches down to a
            across = min(ax1, bx1) - max(ax0, bx0)
            down = min(ay1, by1) - max(ay0, by0)
            if across > OVERLAP_PT and down > OVERLAP_PT:
                # One defect per pair of blocks (a block can hold both texts: see above).
                first, second = sorted((a, b), key=lambda w: (w.block, w.y0, w.line, w.x0))
                side_a, side_b = pairs.setdefault((first.block, second.block), ([], []))
                if first not in side_a:
                    side_a.append(first)
                if second not in side_b:
                    side_b.append(second)
    defects = []
    for side_a, side_b in pairs.values():
        side_a.sort(key=lambda w: (w.line, w.x0))
        side_b.sort(key=lambda w: (w.line, w.x0))
        detail = f"{_quote(side_a)} at {_box(side_a)} overlaps {_quote(side_b)} at {_box(side_b)}"
        defects.append(Defect(page.number, "text on text", detail))
    return defects


def _page_texts(pdf: Path, *crop: str) -> list[str]:
    result = subprocess.run(
        [require("pdftotext"), *crop, str(pdf), "-"],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return result.stdout.split("\f")


def _text_beyond_the_page(pdf: Path, pages: int) -> list[Defect]:
    """Words LibreOffice drew beyond the page's edges, which ``-bbox-layout`` leaves out."""
    size = str(2 * OFF_PAGE_CROP + 2000)
    wide = _page_texts(pdf, "-x", str(-OFF_PAGE_CROP), "-y", str(-OFF_PAGE_CROP),
                       "-W", size, "-H", size)  # fmt: skip
    page_only = _page_texts(pdf)
    defects = []
    for number, (everything, shown) in enumerate(zip(wide, page_only, strict=True), 1):
        if number > pages or everything == shown:
            continue
        beyond = Counter(everything.split()) - Counter(shown.split())
        words = " ".join(beyond.elements()) or everything.strip()
        text = words if len(words) <= 80 else words[:77] + "..."
        defects.append(Defect(number, "off the page (not on the page at all)", repr(text)))
    return defects
