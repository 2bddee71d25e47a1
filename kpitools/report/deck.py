"""The four-slide CPR as PowerPoint (python-pptx).

Slides are laid out on the council's template (layouts picked by name), with native charts the
Director can edit, tables sized from estimated text heights so nothing overflows (long
exception lists continue on follow-on slides), alt text on every chart and picture, and RAG
always given as a word and a symbol as well as a colour. Saving is reproducible: the same
report gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls
from pptx.presentation import Presentation as PresentationType
from pptx.slide import Slide
from pptx.util import Emu, Pt

from kpitools.core.colours import BLACK, text_colour_on
from kpitools.core.config import CouncilConfig
from kpitools.core.errors import KpiToolsError
from kpitools.core.files import reproducible_zip, write_atomic, zip_members
from kpitools.core.spc import ASSURANCE_SHORT, VARIATION_SHORT, Assurance, Variation
from kpitools.core.workflow import Decision
from kpitools.report.content import ActionLine, Cpr, MeasureLine
from kpitools.report.drafts import DRAFTED
from kpitools.report.template import template_path
from kpitools.report.textfit import CELL_PAD, LINE_SPACING, TextMeasure
from kpitools.report.words import (
    ACTION_STATUS_WORDS,
    COMMENT_AWAITED,
    CONTRACT_LEVELS,
    POLARITY_WORDS,
    contract_cell,
    direction_words,
    mid_sentence,
    month_strip,
    period_words,
    pounds,
    rag_label,
    sparkline,
)

EMU_PER_INCH = 914400
DESIGN_WIDTH = 13.333  # inches: the layout below is drawn for a 13.333 x 7.5 in slide
MUTED = "#505A5F"
TOP_MARGIN = 0.15  # inches: no text above this
TITLE_SIZES = (28.0, 24.0, 20.0)
TITLE_MIN_SIZE = 18.0


# -- geometry and text measuring ----------------------------------------------------------
DRAFT_MARK_WIDTH = 1.0  # inches: the DRAFT mark beside the footer
DRAFT_COLOUR = "#A4161A"  # 7.6:1 on white


@dataclass(frozen=True)
class Frame:
    """Where content may go on a slide, in design inches scaled to the template's size."""

    scale: float
    top: float
    bottom: float
    left: float = 0.45
    right: float = DESIGN_WIDTH - 0.45
    measure: TextMeasure = field(default_factory=TextMeasure)

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def emu(self, inches: float) -> Emu:
        return _emu(inches, self.scale)

    def pt(self, points: float) -> Pt:
        return Pt(round(points * self.scale, 1))


def _emu(inches: float, scale: float) -> Emu:
    """Design inches on a template ``scale`` times the design's size, in EMU."""
    return Emu(round(inches * scale * EMU_PER_INCH))


def theme_fonts(prs: PresentationType) -> tuple[str, str]:
    """The template's theme fonts (headings, body) by name; Calibri where none is named."""
    from pptx.opc.constants import RELATIONSHIP_TYPE
    from pptx.oxml import parse_xml

    try:
        part = prs.slide_masters[0].part.part_related_by(RELATIONSHIP_TYPE.THEME)
    except KeyError:
        return "Calibri", "Calibri"
    root = parse_xml(part.blob)
    fonts = []
    for kind in ("majorFont", "minorFont"):
        found = root.xpath(f"//a:{kind}/a:latin/@typeface")
        fonts.append(str(found[0]) if found else "Calibri")
    return fonts[0], fonts[1]


# -- low-level shape helpers --------------------------------------------------------------
@lru_cache(maxsize=256)  # a deck has a few colours, written thousands of times
def _rgb(colour: str) -> RGBColor:
    red, green, blue = bytes.fromhex(colour.lstrip("#"))
    return RGBColor(red, green, blue)


def set_alt_text(shape: object, text: str) -> None:
    """Alt text (``descr``) for a chart, picture or shape, read by screen readers."""
    element = shape._element  # type: ignore[attr-defined]
    element.xpath("./*[1]/p:cNvPr")[0].set("descr", text)


def _add_text(
    slide: Slide,
    frame: Frame,
    box: tuple[float, float, float, float],
    paragraphs: Sequence[tuple[str, float, dict[str, object]]],
    *,
    anchor: MSO_ANCHOR = MSO_ANCHOR.TOP,
    outline: tuple[str, float] | None = None,
) -> None:
    """A text box of paragraphs ``(text, size_pt, {"bold": .., "colour": .., "align": ..})``:
    wrapped, not resized to its text, padded on every side. Written as XML and parsed once:
    the text box python-pptx's ``add_textbox`` and text frame would make (tested).
    ``outline`` (colour, width in points) draws its border."""
    x, y, w, h = box
    pad = frame.emu(CELL_PAD)
    shapes: Any = slide.shapes
    number = shapes._next_shape_id
    _add_shape_xml(slide,
        f'<p:sp><p:nvSpPr><p:cNvPr id="{number}" name="TextBox {number - 1}"/>'
        '<p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr><p:spPr><a:xfrm>'
        f'<a:off x="{frame.emu(x)}" y="{frame.emu(y)}"/>'
        f'<a:ext cx="{frame.emu(w)}" cy="{frame.emu(h)}"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/>'
        + (_outline_xml(outline[0], int(frame.pt(outline[1]))) if outline else "")
        + "</p:spPr>"
        f'<p:txBody><a:bodyPr wrap="square" anchor="{MSO_ANCHOR.to_xml(anchor)}" '
        f'lIns="{pad}" rIns="{pad}" tIns="{pad}" bIns="{pad}"><a:noAutofit/></a:bodyPr>'
        "<a:lstStyle/>"
        + "".join(_paragraph_xml(frame, text, size, style) for text, size, style in paragraphs)
        + "</p:txBody></p:sp>"
    )  # fmt: skip


def _outline_xml(colour: str, width: int) -> str:
    """A shape's border: ``width`` EMU in ``colour``."""
    return f'<a:ln w="{width}"><a:solidFill><a:srgbClr val="{_rgb(colour)}"/></a:solidFill></a:ln>'


def _parsed(xml: str) -> Any:
    """An element from XML in the slide's namespaces (declared on a wrapper, so the element
    carries no declarations of its own into the slide)."""
    return parse_xml(f"<p:sp {nsdecls('a', 'p')}>{xml}</p:sp>")[0]


def _paragraph_xml(frame: Frame, text: str, size: float, style: dict[str, object]) -> str:
    """One paragraph of one run: size, bold, colour and (if given) alignment."""
    head = _run_head(frame.scale, size, bool(style.get("bold")), str(style.get("colour", BLACK)),
                     style.get("align"))  # fmt: skip
    return f"{head}{_t_xml(text)}</a:r></a:p>"


@lru_cache(maxsize=1024)  # a deck's runs come in a few styles, written thousands of times
def _run_head(scale: float, size: float, bold: bool, colour: str, align: Any) -> str:
    """A paragraph's XML up to its run's text: alignment (if given), size, bold, colour."""
    ppr = f'<a:pPr algn="{PP_ALIGN.to_xml(align)}"/>' if align is not None else ""
    return (
        f'<a:p>{ppr}<a:r><a:rPr sz="{_centipoints(scale, size)}" b="{"1" if bold else "0"}">'
        f'<a:solidFill><a:srgbClr val="{_rgb(colour)}"/></a:solidFill></a:rPr>'
    )


@lru_cache(maxsize=256)
def _centipoints(scale: float, size: float) -> int:
    """A font size in a run's XML: hundredths of a point, scaled to the template."""
    return int(Pt(round(size * scale, 1)).centipoints)


def _t_xml(text: str) -> str:
    """An ``a:t`` element of the text, written as lxml writes it (an empty one closed)."""
    return f"<a:t>{_xml_text(text)}</a:t>" if text else "<a:t/>"


def _xml_text(text: str) -> str:
    """Text for an ``a:t`` element: escaped, control characters as python-pptx writes them."""
    return escape(_CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text))


_CONTROL = re.compile(r"([\x00-\x08\x0B-\x1F])")
# Text python-pptx writes as more than one run or paragraph (line breaks, control characters).
_NEEDS_PPTX_TEXT = re.compile(r"[\x00-\x1F]")


Cell = tuple[str, dict[str, object]]


@dataclass(frozen=True)
class Column:
    heading: str
    width: float  # design inches
    size: float = 11


def _add_table(
    slide: Slide,
    frame: Frame,
    top: float,
    columns: Sequence[Column],
    rows: Sequence[Sequence[tuple[str, dict[str, object]]]],
    heights: Sequence[float],
    header_height: float,
    description: str,
) -> None:
    """A table with a header row; cell styles may set ``bold``, ``colour`` and ``fill``.

    The rows are written as one piece of XML and parsed once: a deck has hundreds of cells,
    and styling each through python-pptx's objects costs more than the rest of the deck. The
    XML is what python-pptx writes when a cell is styled through its objects (a test holds
    the two to the same XML).
    """
    widths = [frame.emu(column.width) for column in columns]
    xml = [_row_xml(frame, header_height,
                    [(c.heading, 11.0, {"bold": True, "colour": "#FFFFFF", "fill": BLACK})
                     for c in columns])]  # fmt: skip
    for row, height in zip(rows, heights, strict=True):
        cells = []
        for c, (text, style) in enumerate(row):
            given = style.get("size", columns[c].size)
            size = float(given) if isinstance(given, int | float) else columns[c].size
            cells.append((text, size, style))
        xml.append(_row_xml(frame, height, cells, span=bool(row[0][1].get("span"))))
    shapes: Any = slide.shapes
    number = shapes._next_shape_id
    grid = "".join(f'<a:gridCol w="{width}"/>' for width in widths)
    _add_shape_xml(slide,
        f'<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id="{number}" name="Table {number - 1}" '
        f'descr="{_attribute(description)}"/><p:cNvGraphicFramePr>'
        '<a:graphicFrameLocks noGrp="1"/></p:cNvGraphicFramePr><p:nvPr/></p:nvGraphicFramePr>'
        f'<p:xfrm><a:off x="{frame.emu(frame.left)}" y="{frame.emu(top)}"/>'
        f'<a:ext cx="{sum(widths)}" cy="{frame.emu(header_height + sum(heights))}"/></p:xfrm>'
        f'<a:graphic><a:graphicData uri="{_TABLE_URI}"><a:tbl><a:tblPr firstRow="1">'
        f"<a:tableStyleId>{_TABLE_STYLE}</a:tableStyleId></a:tblPr><a:tblGrid>{grid}"
        f"</a:tblGrid>{''.join(xml)}</a:tbl></a:graphicData></a:graphic></p:graphicFrame>"
    )  # fmt: skip


_TABLE_URI = "http://schemas.openxmlformats.org/drawingml/2006/table"
_TABLE_STYLE = "{5C22544A-7EE6-4342-B048-85BDC9FD1C3A}"  # python-pptx's (Medium Style 2)
_ATTRIBUTE_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_NOT_XML = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F]")


def _attribute(text: str) -> str:
    """Text for an XML attribute's value, as lxml writes it (line ends and tabs as character
    references); characters XML cannot hold are left out."""
    return escape(_NOT_XML.sub("", text), _ATTRIBUTE_ENTITIES)


# Shapes written as XML wait, as text, with their slide's part: they become elements of the
# slide when anything reads or adds to its shapes through python-pptx (placed_shapes), and
# the deck's bytes take them as text (saved_bytes), without parsing and writing them again.
_PENDING = "_kpitools_shapes"


def _add_shape_xml(slide: Slide, xml: str) -> None:
    """Add a shape, written as XML in the slide's namespaces, on top of the slide's others."""
    slide.part.__dict__.setdefault(_PENDING, []).append(xml)


def placed_shapes(slide: Slide) -> Slide:
    """The slide with the shapes written as XML among its elements (before python-pptx reads
    or adds to its shapes)."""
    pending = slide.part.__dict__.pop(_PENDING, None)
    if pending:
        shapes: Any = slide.shapes
        shapes._spTree.extend(list(_parsed_shapes("".join(pending))))
    return slide


def _pending_xml(part: Any) -> bytes:
    """The shapes a slide's part holds as text, as they will be written in its XML."""
    return "".join(part.__dict__.get(_PENDING, ())).encode("utf-8")


def _parsed_shapes(xml: str) -> Any:
    """Shapes from XML in the slide's namespaces (declared on a wrapper, so the shapes carry
    no declarations of their own into the slide)."""
    return parse_xml(f"<p:spTree {nsdecls('a', 'p', 'r')}>{xml}</p:spTree>")


def _row_xml(
    frame: Frame, height: float, cells: Sequence[tuple[str, float, dict[str, object]]],
    span: bool = False,
) -> str:  # fmt: skip
    """One table row's XML: a span row's first cell reaches across the others."""
    out = [f'<a:tr h="{frame.emu(height)}">']
    for c, (text, size, style) in enumerate(cells):
        merge = "" if not span else f' gridSpan="{len(cells)}"' if c == 0 else ' hMerge="1"'
        out.append(f"<a:tc{merge}>{_cell_xml(frame, text, size, style)}</a:tc>")
    out.append("</a:tr>")
    return "".join(out)


def _cell_xml(frame: Frame, text: str, size: float, style: dict[str, object]) -> str:
    """A table cell's text body and properties: wrapped text, one paragraph a line, the
    cell padding on every side, and the fill (or none)."""
    if "\n" in text:
        paragraphs = "".join(_paragraph_xml(frame, line, size, style) for line in text.split("\n"))
    else:
        paragraphs = _paragraph_xml(frame, text, size, style)
    return (
        f'<a:txBody><a:bodyPr wrap="square"/><a:lstStyle/>{paragraphs}</a:txBody>'
        f"{_cell_properties(frame.scale, style.get('fill'))}"
    )


@lru_cache(maxsize=256)  # a few fills in a deck, on hundreds of cells
def _cell_properties(scale: float, fill: object) -> str:
    """A table cell's properties: the cell padding on every side, and the fill (or none)."""
    pad = _emu(CELL_PAD, scale)
    fill_xml = (
        f'<a:solidFill><a:srgbClr val="{_rgb(str(fill))}"/></a:solidFill>'
        if fill
        else "<a:noFill/>"
    )
    return f'<a:tcPr marL="{pad}" marR="{pad}" marT="{pad}" marB="{pad}">{fill_xml}</a:tcPr>'


def _row_height(frame: Frame, cells: Sequence[Cell], columns: Sequence[Column]) -> float:
    """The height a table row needs: its tallest cell, measured at the cell's own size."""
    if cells and cells[0][1].get("span"):
        text, style = cells[0]
        size = style.get("size", columns[0].size)
        width = sum(c.width for c in columns)
        size = float(size) if isinstance(size, int | float) else columns[0].size
        return frame.measure.height(text, width, size, bool(style.get("bold")))
    heights = []
    for (text, style), column in zip(cells, columns, strict=True):
        size = style.get("size", column.size)
        size = float(size) if isinstance(size, int | float) else column.size
        heights.append(frame.measure.height(text, column.width, size, bool(style.get("bold"))))
    return max(heights)


def _heading_room(size: float) -> float:
    """The height a one-line bold heading takes above the text of a box."""
    return size * LINE_SPACING / 72


def _paginate(heights: Sequence[float], available: float) -> list[list[int]]:
    """Split row indexes into pages whose rows fit the available height."""
    pages: list[list[int]] = [[]]
    used = 0.0
    for i, height in enumerate(heights):
        if pages[-1] and used + height > available:
            pages.append([])
            used = 0.0
        pages[-1].append(i)
        used += height
    return pages


# -- the deck ------------------------------------------------------------------------------
class DeckBuilder:
    """Builds CPR decks on a council template, one at a time (:func:`deck_bytes` empties a
    builder whose deck is saved and keeps it for the next deck)."""

    def __init__(self, config: CouncilConfig):
        # Taken before the files are read: a file changed while it is read is read again.
        self.key = self.key_of(config)
        self.config = config
        self.palette = config.palette
        self.template = template_path(config)
        try:
            self.prs: PresentationType = Presentation(str(self.template))
        except Exception as err:  # python-pptx raises several types for a bad file
            raise KpiToolsError(f"template {self.template} cannot be opened: {err}") from None
        self.layout = self._layout(config.layouts.content)
        self.layout_titles = [
            ph
            for ph in self.layout.iter_cloneable_placeholders()
            if ph.placeholder_format.type in (1, 3)
        ]
        self._remove_existing_slides()
        width = int(self.prs.slide_width or 0) / EMU_PER_INCH
        height = int(self.prs.slide_height or 1) / EMU_PER_INCH
        if abs(width / height - 16 / 9) > 0.02:
            raise KpiToolsError(
                f"template {self.template.name} is {width:.2f} x {height:.2f} in; "
                "the CPR needs a 16:9 template"
            )
        self.scale = width / DESIGN_WIDTH
        self.frame = self._content_frame()
        self._title_width = self.title_band[2]
        # The first slide, its title empty: (element, the title's index, its relations).
        self._prototype: tuple[Any, int, list[tuple[str, Any]]] | None = None
        self._prototype_max_id = 0
        self._first = 0  # the service's first slide's index (add_cpr)
        self.exception_slides: dict[str, int] = {}  # where each exception's comment is

    @staticmethod
    def key_of(config: CouncilConfig) -> tuple[Any, ...]:
        """What a builder is for: its configuration (by identity), its template file and its
        logo as they are now (an edited template or logo is read again)."""
        return (id(config), *(_file_state(path) for path in (template_path(config), config.logo)))

    def empty(self) -> None:
        """Remove every slide (and with them the parts only slides use): the builder then
        makes the bytes a new one on the same template makes, for the next deck. The first
        slide's copy (its title empty) is kept: its relations are to the layout and the logo,
        which the next deck's first slide brings back under the same names; a first slide
        made through python-pptx's objects instead makes the copy anew (tested)."""
        # The slides are this builder's own, each named by one relationship: dropped without
        # python-pptx's count of each relationship's uses.
        listed: Any = self.prs.slides._sldIdLst
        rels = self.prs.part.rels
        for slide_id in list(listed):
            rels.pop(slide_id.rId)
            listed.remove(slide_id)
        self.__dict__.pop("report", None)

    def _layout(self, name: str) -> Any:
        for layout in self.prs.slide_layouts:
            if layout.name == name:
                placeholders: list[Any] = list(layout.placeholders)
                if not any(ph.placeholder_format.type in (1, 3) for ph in placeholders):
                    raise KpiToolsError(f"template layout '{name}' has no title placeholder")
                return layout
        names = ", ".join(f"'{layout.name}'" for layout in self.prs.slide_layouts)
        raise KpiToolsError(
            f"template {self.template.name} has no layout named '{name}' "
            f"(it has {names}); set layouts.content in the council configuration"
        )

    def _remove_existing_slides(self) -> None:
        """A template may carry sample slides: the deck starts empty."""
        slide_ids = self.prs.slides._sldIdLst
        for slide_id in list(slide_ids):
            self.prs.part.drop_rel(slide_id.rId)
            slide_ids.remove(slide_id)

    def _content_frame(self) -> Frame:
        """The title band (from the layout's title placeholder, kept on the slide) and the
        content area below it."""
        title = next(ph for ph in self.layout.placeholders if ph.placeholder_format.type in (1, 3))
        inches = [int(v or 0) / EMU_PER_INCH / self.scale
                  for v in (title.left, title.top, title.width, title.height)]  # fmt: skip
        left, top, width, height = inches
        if width < 4 or height < 0.6 or top < TOP_MARGIN or top + height > 1.6:
            left, top, width, height = 0.45, 0.25, DESIGN_WIDTH - 0.9, 0.85
        self.title_band = (left, top, width, height)
        heading_font, body_font = theme_fonts(self.prs)
        self.title_measure = TextMeasure(heading_font)
        return Frame(
            scale=self.scale,
            top=max(1.25, top + height + 0.1),
            bottom=6.85,
            measure=TextMeasure(body_font),
        )

    # -- slides ---------------------------------------------------------------------------
    def new_slide(self, title: str) -> Slide:
        """A slide on the content layout with its title (fitted to the title band) and the
        council's logo.

        The first slide is made through python-pptx's objects; every later one is a copy of
        it as it was before its title was written, related to the same parts in the same
        order, with the title's paragraph written as XML: the same slide (a test holds the two
        to the same bytes) without python-pptx's search of the layout and its property churn
        for each.
        """
        if self._prototype is None:
            return self._new_slide_by_objects(title)
        text, size = self._fitted_title(title, self._title_width, self.title_band[3])
        if not text or _NEEDS_PPTX_TEXT.search(text):
            return self._new_slide_by_objects(title)
        from pptx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
        from pptx.parts.slide import SlidePart

        element, title_index, relations = self._prototype
        copy = deepcopy(element)
        presentation = self.prs.part
        part = SlidePart(presentation._next_slide_partname, CONTENT_TYPE.PML_SLIDE,
                         presentation.package, copy)  # fmt: skip
        for reltype, target in relations:
            part.relate_to(target, reltype)
        slides: Any = self.prs.slides
        listed = slides._sldIdLst
        # The id python-pptx's add_sldId gives (one more than the highest, from 256): the
        # deck's slides are all this builder's, numbered from 256 in order.
        listed._add_sldId(id=256 + len(listed),
                          rId=presentation.relate_to(part, RELATIONSHIP_TYPE.SLIDE))  # fmt: skip
        copy.cSld.spTree[title_index].txBody.append(_parsed(
            f'<a:p><a:pPr algn="l"/><a:r><a:rPr sz="{_centipoints(self.scale, size)}" b="1"/>'
            f"<a:t>{escape(text)}</a:t></a:r></a:p>"
        ))  # fmt: skip
        slide: Slide = part.slide
        # Turbo mode, its highest shape id the first slide's (python-pptx would search the
        # copy's ids for it).
        shapes: Any = slide.shapes
        shapes._cached_max_shape_id = self._prototype_max_id
        return slide

    def _new_slide_by_objects(self, title: str) -> Slide:
        # python-pptx's add_slide, cloning only the layout's title placeholder (the others
        # would be removed again): the same slide, without a search of its shapes for each.
        slides: Any = self.prs.slides
        if not len(slides._sldIdLst):
            # A deck's first slide made here (its title needs python-pptx's text) places the
            # logo anew: the copy kept from an earlier deck, related to that deck's logo,
            # is made again from this slide (else the file would hold the logo twice).
            self._prototype = None
        added: tuple[str, Slide] = slides.part.add_slide(self.layout)
        rid, slide = added
        # Each new shape's id one more than the last (python-pptx's "turbo" mode): the ids
        # its search of every id on the slide would give, as only this builder adds shapes.
        slide.shapes.turbo_add_enabled = True
        for placeholder in self.layout_titles:
            slide.shapes.clone_placeholder(placeholder)
        slides._sldIdLst.add_sldId(rid)
        heading: Any = slide.shapes.title  # the layout has one (checked when picked)
        left, top, width, height = self.title_band
        if self.config.logo is not None:
            picture = slide.shapes.add_picture(
                str(self.config.logo), Emu(0), self.frame.emu(0.3), height=self.frame.emu(0.6)
            )
            # Right-aligned at the slide margin, whatever the logo's proportions.
            picture.left = Emu(self.frame.emu(DESIGN_WIDTH - 0.45) - picture.width)
            set_alt_text(picture, f"{self.config.council} logo")
            logo_left = picture.left / EMU_PER_INCH / self.scale
            width = min(width, logo_left - 0.2 - left)
        self._title_width = width
        # Every side set: a placeholder given only a width would lose its top and height.
        heading.left, heading.top = self.frame.emu(left), self.frame.emu(top)
        heading.width, heading.height = self.frame.emu(width), self.frame.emu(height)
        text_frame = heading.text_frame
        text_frame.word_wrap = True
        text_frame.auto_size = MSO_AUTO_SIZE.NONE
        text_frame.vertical_anchor = MSO_ANCHOR.MIDDLE
        for margin in ("margin_left", "margin_right", "margin_top", "margin_bottom"):
            setattr(text_frame, margin, self.frame.emu(CELL_PAD))
        if self._prototype is None:
            # The slide as it stands, its title empty: what every later slide starts from.
            index = list(slide.shapes._spTree).index(heading._element)
            element = deepcopy(slide._element)
            for paragraph in element.cSld.spTree[index].txBody.p_lst:
                element.cSld.spTree[index].txBody.remove(paragraph)
            relations = [(rel.reltype, rel.target_part) for rel in slide.part.rels.values()]
            self._prototype = (element, index, relations)
            self._prototype_max_id = element.cSld.spTree.max_shape_id
        text, size = self._fitted_title(title, width, height)
        heading.text = text
        for paragraph in text_frame.paragraphs:
            paragraph.alignment = PP_ALIGN.LEFT
            for run in paragraph.runs:
                run.font.size = self.frame.pt(size)
                run.font.bold = True
        return slide

    def _fitted_title(self, title: str, width: float, height: float) -> tuple[str, float]:
        """The title and its size: the largest size that keeps it on one line, else on two
        lines within the band, else shortened at a word boundary at the smallest size."""
        measure = self.title_measure
        for size in TITLE_SIZES:
            if len(measure.lines(title, width, size, bold=True)) == 1:
                return title, size
        for size in (*TITLE_SIZES[1:], TITLE_MIN_SIZE):
            if measure.fits(title, width, size, height, bold=True):
                return title, size
        return measure.fit(title, width, TITLE_MIN_SIZE, height, bold=True), TITLE_MIN_SIZE

    def build(self, report: Cpr, *, place: bool = True) -> PresentationType:
        """Add the CPR's slides for ``report``: one deck at a time. With ``place``
        false, shapes written as XML stay text with their slides (for ``saved_bytes`` alone:
        python-pptx would not see them)."""
        self.add_cpr(report)
        self._set_properties()
        if place:
            for slide in self.prs.slides:
                placed_shapes(slide)
        return self.prs

    @property
    def slide_number(self) -> int:
        """The last slide's number among the service's slides (as its footer numbers it)."""
        return len(self.prs.slides._sldIdLst) - self._first

    def add_cpr(self, report: Cpr, *, pack: str = "") -> None:
        """Add one service's CPR slides, each with its footer (and a DRAFT mark until the
        Director has approved the report); ``pack`` names the pack they are part of."""
        self.report = report
        self.palette = self.config.palette  # as the configuration stands now
        first = self._first = len(self.prs.slides)
        self.exception_slides = {}
        add_infographic_slide(self)
        add_whats_good_slide(self)
        add_exception_slides(self)
        add_improvement_plan_slide(self)
        add_contract_slide(self)
        add_scorecard_slides(self)
        self._add_footers(list(self.prs.slides)[first:], pack)

    def _add_footers(self, slides: list[Slide], pack: str) -> None:
        report = self.report
        total = len(slides)
        draft = not report.signoff.approved
        for number, slide in enumerate(slides, start=1):
            text = (
                f"{report.council} · {report.service} · CPR {report.period_words} · "
                f"Report date {report.report_date:%d %B %Y}"
                + (f" · Run {report.run_id}" if report.run_id else "")
                + f" · Slide {number} of {total}"
                + (f" · {pack}" if pack else "")
            )
            text = f"{report.signoff_text} · {text}" if draft else text
            if report.provisional:
                text = f"{report.provisional.upper()} · {text}"
            width = self.frame.width - (DRAFT_MARK_WIDTH + 0.1 if draft else 0)
            _add_text(
                slide,
                self.frame,
                (self.frame.left, 6.98, width, 0.36),
                [(text, 8 if draft else 9, {"colour": MUTED})],
            )
            if draft:
                _add_text(
                    slide,
                    self.frame,
                    (self.frame.right - DRAFT_MARK_WIDTH, 6.96, DRAFT_MARK_WIDTH, 0.36),
                    [
                        (
                            "DRAFT",
                            12,
                            {"bold": True, "colour": DRAFT_COLOUR, "align": PP_ALIGN.CENTER},
                        )
                    ],
                    anchor=MSO_ANCHOR.MIDDLE,
                    outline=(DRAFT_COLOUR, 1.5),
                )

    def _set_properties(self) -> None:
        """Document properties from the report, never from the clock."""
        report = self.report
        set_properties(self.prs, report.title, report.council,
                       f"Corporate Performance Report {report.period_words}",
                       "CPR; performance", report.report_date)  # fmt: skip

    def rag_fill(self, rag: str) -> dict[str, object]:
        fill = self.palette[rag]
        return {"fill": fill, "colour": text_colour_on(fill), "bold": True}


def add_infographic_slide(builder: DeckBuilder) -> None:
    """Slide 1: the service at a glance."""
    report, frame = builder.report, builder.frame
    slide = builder.new_slide(f"{report.service}: at a glance, {report.period_words}")
    top = frame.top
    # Left column: RAG counts as a native chart and as words.
    left_w = 4.1
    chart_h = 2.45
    _add_rag_chart(builder, slide, (frame.left, top, left_w, chart_h))
    counts = " · ".join(f"{n} {rag_label(rag)}" for rag, n in report.counts.items() if n)
    total = sum(report.counts.values())
    _add_text(
        slide,
        frame,
        (frame.left, top + chart_h + 0.05, left_w, 0.62),
        [
            (
                f"{total} measure{'' if total == 1 else 's'}: {counts}"
                if total
                else "No measures reported",
                11,
                {"bold": True},
            )
        ],
    )
    # Director's summary under the counts.
    summary_top = top + chart_h + 0.75
    summary_h = frame.bottom - summary_top
    who = f"Director's summary{f' ({report.director})' if report.director else ''}"
    summary = report.summary_comment or (
        f"{DRAFTED}{report.summary_draft}" if report.summary_draft else "Summary awaited."
    )
    body = frame.measure.fit(
        summary, left_w, 11, summary_h - _heading_room(12), "(see the HTML report)"
    )
    _add_text(
        slide,
        frame,
        (frame.left, summary_top, left_w, summary_h),
        [(who, 12, {"bold": True}), (body, 11, {})],
    )
    # Right: headline tiles, then successes and areas for development.
    right_x = frame.left + left_w + 0.3
    right_w = frame.right - right_x
    tiles_h = _add_tiles(builder, slide, (right_x, top, right_w))
    lists_top = top + tiles_h + 0.15
    half = (right_w - 0.2) / 2
    lists_h = frame.bottom - lists_top
    for offset, heading, items, empty, more in (
        (0.0, "Successes", report.successes, report.successes_empty, "(see slide 2)"),
        (
            half + 0.2,
            "Areas for development",
            report.areas_for_development,
            report.exceptions_empty,
            "(see slide 3)",
        ),
    ):
        text = "\n".join(f"• {item}" for item in items) or empty
        text = frame.measure.fit(text, half, 11, lists_h - _heading_room(12), more)
        _add_text(
            slide,
            frame,
            (right_x + offset, lists_top, half, lists_h),
            [(heading, 12, {"bold": True}), (text, 11, {})],
        )


def _add_rag_chart(
    builder: DeckBuilder, slide: Slide, box: tuple[float, float, float, float]
) -> None:
    report, frame, palette = builder.report, builder.frame, builder.palette
    rags = list(report.counts)
    data = CategoryChartData()
    data.categories = [r.capitalize() for r in rags]
    data.add_series("Measures", [report.counts[r] for r in rags])
    x, y, w, h = box
    graphic: Any = placed_shapes(slide).shapes.add_chart(  # a frame holding the chart
        XL_CHART_TYPE.COLUMN_CLUSTERED,
        frame.emu(x),
        frame.emu(y),
        frame.emu(w),
        frame.emu(h),
        data,  # type: ignore[arg-type]
    )
    # Styled as XML: the chart python-pptx's chart objects make styled so (tested).
    part = graphic.chart_part
    part._element = parse_xml(_rag_chart_xml(
        [r.capitalize() for r in rags], [report.counts[r] for r in rags],
        [palette[r] for r in rags], frame.scale, part._element.externalData.rId,
    ))  # fmt: skip
    counts = ", ".join(f"{report.counts[r]} {r}" for r in rags)
    set_alt_text(
        graphic, f"Column chart of measures by RAG rating for {report.period_words}: {counts}."
    )


def _rag_chart_xml(
    categories: list[str], counts: list[int], fills: list[str], scale: float, workbook: str
) -> str:
    """The RAG column chart's part: one series of counts, each column filled in its RAG
    colour with a black border, its count above it; no legend, title, gridlines or value
    axis; text at 10 pt, the counts at 11 pt bold (scaled to the template). ``workbook`` is
    the relationship to the chart's data."""
    n = len(categories)
    points = "".join(
        f'<c:dPt><c:idx val="{i}"/><c:spPr><a:solidFill><a:srgbClr val="{_rgb(fill)}"/>'
        f"</a:solidFill>{_outline_xml(BLACK, int(Pt(0.75)))}</c:spPr></c:dPt>"
        for i, fill in enumerate(fills)
    )
    names = "".join(
        f'<c:pt idx="{i}"><c:v>{escape(name)}</c:v></c:pt>' for i, name in enumerate(categories)
    )
    values = "".join(f'<c:pt idx="{i}"><c:v>{count}</c:v></c:pt>' for i, count in enumerate(counts))
    return (
        f"<c:chartSpace {nsdecls('c', 'a', 'r')}>"
        '<c:date1904 val="0"/><c:chart><c:autoTitleDeleted val="1"/><c:plotArea><c:barChart>'
        '<c:barDir val="col"/><c:grouping val="clustered"/><c:varyColors val="0"/><c:ser>'
        '<c:idx val="0"/><c:order val="0"/><c:tx><c:strRef><c:f>Sheet1!$B$1</c:f><c:strCache>'
        '<c:ptCount val="1"/><c:pt idx="0"><c:v>Measures</c:v></c:pt></c:strCache></c:strRef>'
        f"</c:tx>{points}<c:cat><c:strRef><c:f>Sheet1!$A$2:$A${n + 1}</c:f><c:strCache>"
        f'<c:ptCount val="{n}"/>{names}</c:strCache></c:strRef></c:cat><c:val><c:numRef>'
        f"<c:f>Sheet1!$B$2:$B${n + 1}</c:f><c:numCache><c:formatCode>General</c:formatCode>"
        f'<c:ptCount val="{n}"/>{values}</c:numCache></c:numRef></c:val></c:ser><c:dLbls>'
        "<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr>"
        f'<a:defRPr sz="{_centipoints(scale, 11)}" b="1"/></a:pPr></a:p></c:txPr>'
        '<c:dLblPos val="outEnd"/><c:showLegendKey val="0"/><c:showVal val="1"/>'
        '<c:showCatName val="0"/><c:showSerName val="0"/><c:showPercent val="0"/>'
        '<c:showBubbleSize val="0"/><c:showLeaderLines val="1"/></c:dLbls>'
        '<c:gapWidth val="40"/><c:axId val="-2068027336"/><c:axId val="-2113994440"/>'
        '</c:barChart><c:catAx><c:axId val="-2068027336"/><c:scaling>'
        '<c:orientation val="minMax"/></c:scaling><c:delete val="0"/><c:axPos val="b"/>'
        '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="-2113994440"/><c:crosses val="autoZero"/><c:auto val="1"/>'
        '<c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        '<c:valAx><c:axId val="-2113994440"/><c:scaling><c:min val="0.0"/></c:scaling>'
        '<c:delete/><c:axPos val="l"/><c:majorTickMark val="out"/><c:minorTickMark val="none"/>'
        '<c:tickLblPos val="nextTo"/><c:crossAx val="-2068027336"/><c:crosses val="autoZero"/>'
        '</c:valAx></c:plotArea><c:dispBlanksAs val="gap"/></c:chart><c:txPr><a:bodyPr/>'
        f'<a:lstStyle/><a:p><a:pPr><a:defRPr sz="{_centipoints(scale, 10)}"/></a:pPr>'
        '<a:endParaRPr lang="en-US"/></a:p></c:txPr>'
        f'<c:externalData r:id="{workbook}"><c:autoUpdate val="0"/></c:externalData>'
        "</c:chartSpace>"
    )


QUARTILE_W = 1.05  # inches of a tile kept for its quartile marker


def _add_tiles(builder: DeckBuilder, slide: Slide, area: tuple[float, float, float]) -> float:
    """Headline measure tiles in rows of three; returns the height used."""
    report, frame = builder.report, builder.frame
    x0, y0, width = area
    tiles = report.headlines
    if not tiles:
        return 0.0
    per_row, gap, tile_h = 3, 0.15, 1.55
    tile_w = (width - gap * (per_row - 1)) / per_row
    for i, line in enumerate(tiles):
        row, col = divmod(i, per_row)
        x = x0 + col * (tile_w + gap)
        y = y0 + row * (tile_h + gap)
        colour = builder.palette[line.rag]
        target = line.target_text
        title = _tile_title(frame.measure, line, tile_w - 0.08)
        _add_tile(
            slide,
            frame,
            (x, y, tile_w, tile_h),
            colour if line.rag != "white" else BLACK,
            f"{line.title}: {line.value_text}, {target}, "
            f"rated {line.rag}, {direction_words(line.direction, line.change_pct)}"
            + (
                f"; {line.headline_benchmark.quartile_text}, {line.headline_benchmark.period}."
                if line.headline_benchmark is not None
                else "."
            ),
        )
        inner = tile_w - 0.08
        _add_text(slide, frame, (x + 0.04, y + 0.02, inner, 0.5), [(title, 10, {"bold": True})])
        marker = line.headline_benchmark
        value_w = inner - QUARTILE_W
        beside = marker is not None and frame.measure.fits(
            line.tile_value, value_w, 20, 0.5, bold=True
        )
        if not beside:
            value_w = inner
        value = frame.measure.shortened(line.tile_value, value_w, 20, 1, bold=True)
        _add_text(slide, frame, (x + 0.04, y + 0.5, value_w, 0.5), [(value, 20, {"bold": True})])
        if marker is not None and beside:
            # "Quartile 4" and the peer group, in two lines at most, beside the figure.
            group = frame.measure.shortened(marker.peer_group, QUARTILE_W, 8, 2)
            _add_text(
                slide,
                frame,
                (x + 0.04 + value_w, y + 0.44, QUARTILE_W, 0.56),
                [
                    (f"Quartile {marker.quartile} of", 9, {"bold": True, "align": PP_ALIGN.RIGHT}),
                    (group, 8, {"colour": MUTED, "align": PP_ALIGN.RIGHT}),
                ],
            )
        rag_text = f"{rag_label(line.rag).upper()}  {line.direction_text}"
        detail = f"{target} · {line.qualifiers}" if line.qualifiers else target
        if marker is not None and not beside:
            detail = f"Q{marker.quartile} {marker.peer_group} · {detail}"
        _add_text(
            slide,
            frame,
            (x + 0.04, y + 0.98, inner, 0.55),
            [
                (
                    frame.measure.shortened(rag_text, inner, 10, 1, bold=True),
                    10,
                    {"bold": True, "colour": colour if line.rag not in ("white",) else BLACK},
                ),
                (frame.measure.shortened(detail, inner, 9, 1), 9, {"colour": MUTED}),
            ],
        )
    rows = math.ceil(len(tiles) / per_row)
    return rows * tile_h + (rows - 1) * gap


def _add_tile(
    slide: Slide,
    frame: Frame,
    box: tuple[float, float, float, float],
    border: str,
    description: str,
) -> None:
    """A headline tile's rounded rectangle: white, a 2.25 pt border in ``border``, no shadow,
    described for screen readers. Written as XML: the shape python-pptx's ``add_shape`` and
    its fill, line and shadow objects make (tested)."""
    x, y, w, h = box
    shapes: Any = slide.shapes
    number = shapes._next_shape_id
    _add_shape_xml(slide,
        f'<p:sp><p:nvSpPr><p:cNvPr id="{number}" name="Rounded Rectangle {number - 1}" '
        f'descr="{_attribute(description)}"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:spPr>'
        f'<a:xfrm><a:off x="{frame.emu(x)}" y="{frame.emu(y)}"/>'
        f'<a:ext cx="{frame.emu(w)}" cy="{frame.emu(h)}"/></a:xfrm><a:prstGeom prst="roundRect">'
        '<a:avLst><a:gd name="adj" fmla="val 8000"/></a:avLst></a:prstGeom><a:solidFill>'
        f'<a:srgbClr val="FFFFFF"/></a:solidFill>{_outline_xml(border, int(Pt(2.25)))}'
        "<a:effectLst/></p:spPr><p:style><a:lnRef idx=\"1\"><a:schemeClr val=\"accent1\"/>"
        '</a:lnRef><a:fillRef idx="3"><a:schemeClr val="accent1"/></a:fillRef>'
        '<a:effectRef idx="2"><a:schemeClr val="accent1"/></a:effectRef><a:fontRef idx="minor">'
        '<a:schemeClr val="lt1"/></a:fontRef></p:style><p:txBody><a:bodyPr rtlCol="0" '
        'anchor="ctr"/><a:lstStyle/><a:p><a:pPr algn="ctr"/></a:p></p:txBody></p:sp>'
    )  # fmt: skip


def _tile_title(measure: TextMeasure, line: MeasureLine, width: float) -> str:
    """A tile's title in at most two lines: the title, else the measure's short title, else
    the title at a smaller size or shortened at a word boundary (the alt text has it whole)."""
    for text in (line.title, line.short_title):
        if text and len(measure.lines(text, width, 10, bold=True)) <= 2:
            return text
    return measure.shortened(line.short_title or line.title, width, 10, 2, bold=True)


def _add_intro(slide: Slide, frame: Frame, text: str, size: float, max_height: float) -> float:
    """A comment across the top of the content area; returns where the content goes next."""
    if not text:
        return frame.top
    text = frame.measure.fit(text, frame.width, size, max_height, "(see the HTML report)")
    height = frame.measure.height(text, frame.width, size)
    _add_text(slide, frame, (frame.left, frame.top, frame.width, height), [(text, size, {})])
    return frame.top + height + 0.1


def _add_notice(
    slide: Slide, frame: Frame, top: float, text: str, size: float = 14, height: float = 0.6
) -> float:
    """A bold line (or two) where a slide has nothing to list; returns where content goes
    next."""
    needed = max(height, frame.measure.height(text, frame.width, size, bold=True))
    box = (frame.left, top, frame.width, needed)
    _add_text(slide, frame, box, [(text, size, {"bold": True})])
    return top + needed + 0.05


def _add_more(slide: Slide, frame: Frame, text: str) -> None:
    """A note at the foot of the content area: what did not fit on the slide."""
    box = (frame.left, frame.bottom - 0.38, frame.width, 0.38)
    _add_text(slide, frame, box, [(text, 11, {"colour": MUTED})])


@dataclass(frozen=True)
class TableSlide:
    """One table of the deck and how it goes on slides.

    Attributes:
        title: the slide title.
        columns: the table's columns.
        rows: cells per row, each ``(text, style)``.
        describe: alt text for the rows shown, from (first, last, total), 1-based.
        empty: the notice shown when there are no rows.
        intro: a comment shown above the table (and above the notice).
        continued: rows that do not fit go on follow-on slides ("(2 of 3)") when True;
            otherwise they are cut and ``more`` says where the rest is.
        more: the note for ``n`` rows not shown (when not ``continued``).
        hidden: rows left out before the deck (counted in the ``more`` note).
    """

    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]
    describe: Callable[[int, int, int], str]
    empty: str
    intro: str = ""
    intro_size: float = 12
    intro_height: float = 0.8
    empty_size: float = 14
    empty_height: float = 0.6
    continued: bool = False
    more: Callable[[int], str] = field(default=lambda n: f"And {n} more rows.")
    hidden: int = 0
    caption: str = ""
    #: What an empty slide shows under its notice, so that it never holds a lone sentence
    #: (the measures closest to target, the exceptions without an action, ...).
    context: TableSlide | None = None


MORE_NOTE_HEIGHT = 0.4


def add_table_slides(builder: DeckBuilder, spec: TableSlide) -> dict[int, int]:
    """Put a table on one slide (or follow-on slides), with its intro, notice or note.
    Returns, for follow-on slides, each row's slide (by index; numbered as the service's
    footers number them)."""
    frame = builder.frame
    if not spec.rows:
        slide = builder.new_slide(spec.title)
        top = _add_intro(slide, frame, spec.intro, spec.intro_size, spec.intro_height)
        top = _add_notice(slide, frame, top, spec.empty, spec.empty_size, spec.empty_height)
        if spec.context is not None and spec.context.rows:
            _add_table_part(slide, frame, top + 0.1, spec.context)
        return {}
    heights = [_row_height(frame, row, spec.columns) for row in spec.rows]
    header = _row_height(frame, [(c.heading, {"bold": True}) for c in spec.columns], spec.columns)
    if spec.continued:
        pages = _paginate_groups(spec.rows, heights, frame.height - header)
        on_slide: dict[int, int] = {}
        for number, page in enumerate(pages, start=1):
            suffix = f" ({number} of {len(pages)})" if len(pages) > 1 else ""
            slide = builder.new_slide(spec.title + suffix)
            on_slide.update(dict.fromkeys((i for i in page if i >= 0), builder.slide_number))
            rows = [_continued(spec.rows[-i - 1]) if i < 0 else spec.rows[i] for i in page]
            row_heights = [heights[-i - 1] if i < 0 else heights[i] for i in page]
            shown = [i for i in page if i >= 0]
            _add_table(
                slide, frame, frame.top, spec.columns,
                [[(text, dict(style)) for text, style in row] for row in rows],
                row_heights, header, spec.describe(shown[0] + 1, shown[-1] + 1, len(spec.rows)),
            )  # fmt: skip
        return on_slide
    slide = builder.new_slide(spec.title)
    top = _add_intro(slide, frame, spec.intro, spec.intro_size, spec.intro_height)
    _add_table_part(slide, frame, top, spec)
    return {}


def _add_table_part(slide: Slide, frame: Frame, top: float, spec: TableSlide) -> None:
    """The spec's caption and as many rows as fit below ``top``, with a note for the rest."""
    if spec.caption:
        height = frame.measure.height(spec.caption, frame.width, 12, bold=True)
        _add_text(
            slide, frame, (frame.left, top, frame.width, height),
            [(spec.caption, 12, {"bold": True})],
        )  # fmt: skip
        top += height
    heights = [_row_height(frame, row, spec.columns) for row in spec.rows]
    header = _row_height(frame, [(c.heading, {"bold": True}) for c in spec.columns], spec.columns)
    available = frame.bottom - top - header
    keep = _paginate(heights, available)[0]
    if spec.hidden or len(keep) < len(heights):
        # A note will say what is not shown: leave room for it.
        keep = _paginate(heights, available - MORE_NOTE_HEIGHT)[0]
    if sum(heights[i] for i in keep) > available:
        keep = []  # not even one row fits: the note says where they are
    if keep:
        _add_rows(slide, frame, top, spec, keep, heights, header)
    more = spec.hidden + len(heights) - len(keep)
    if more:
        _add_more(slide, frame, spec.more(more))


def _is_group(row: Sequence[Cell]) -> bool:
    return bool(row and row[0][1].get("span"))


def _continued(row: Sequence[Cell]) -> list[Cell]:
    """A group's heading row repeated at the top of a follow-on slide."""
    (text, style), *rest = row
    return [(f"{text} (continued)", style), *rest]


def _paginate_groups(
    rows: Sequence[Sequence[Cell]], heights: Sequence[float], available: float
) -> list[list[int]]:
    """Pages of row indexes for a table whose heading rows (``span``) group the rows under
    them: a heading never ends a page, and a page that starts inside a group repeats its
    heading, given as ``-(index + 1)`` of the heading row."""
    pages: list[list[int]] = [[]]
    used = 0.0
    group = None  # index of the current group's heading row
    for i, height in enumerate(heights):
        if _is_group(rows[i]):
            group = i
            following = heights[i + 1] if i + 1 < len(heights) else 0.0
            needed = height + following
        else:
            needed = height
        if pages[-1] and used + needed > available:
            pages.append([])
            used = 0.0
            if group is not None and group != i:
                pages[-1].append(-(group + 1))
                used += heights[group]
        pages[-1].append(i)
        used += height
    return pages


def _add_rows(
    slide: Slide,
    frame: Frame,
    top: float,
    spec: TableSlide,
    page: list[int],
    heights: Sequence[float],
    header: float,
) -> None:
    _add_table(
        slide,
        frame,
        top,
        spec.columns,
        [[(text, dict(style)) for text, style in spec.rows[i]] for i in page],
        [heights[i] for i in page],
        header,
        spec.describe(page[0] + 1, page[-1] + 1, len(spec.rows)),
    )


def add_whats_good_slide(builder: DeckBuilder) -> None:
    """Slide 2: measures on or above target, or clearly improving."""
    report = builder.report
    trend = len(report.whats_good[0].trend) if report.whats_good else 6
    columns = [
        Column("Measure", 3.9),
        Column("Polarity", 1.55, 10),
        Column("Value", 1.25),
        Column("Target", 1.75, 10),
        Column("RAG", 1.15),
        Column("Direction", 1.45, 10),
        Column(f"Trend (last {trend} {report.period_noun}{'s' if trend != 1 else ''})", 1.38, 10),
    ]
    rows: list[list[Cell]] = [
        [
            (
                f"{line.title}\n{line.measure_id}"
                + (f"\n† {line.restatement}" if line.restatement else ""),
                {},
            ),
            (POLARITY_WORDS[line.polarity], {}),
            (line.value_text, {"bold": True}),
            (line.target_text, {}),
            (rag_label(line.rag), builder.rag_fill(line.rag)),
            (line.direction_text, {}),
            (sparkline([v for _, v in line.trend]), {"size": 14}),
        ]
        for line in report.whats_good
    ]
    add_table_slides(
        builder,
        TableSlide(
            title=f"{report.service}: what's good",
            columns=columns,
            rows=rows,
            describe=lambda first, last, total: (
                f"Table of {last - first + 1} measures on target or improving but not yet on "
                "target, with value, target, RAG rating, direction of travel and recent trend."
            ),
            empty=report.whats_good_empty,
            context=closest_to_target(
                builder, report, report.closest_to_target, "Closest to target"
            ),
            intro=report.whats_good_comment
            or (f"{DRAFTED}{report.whats_good_draft}" if report.whats_good_draft else ""),
            caption=report.whats_good_caption,
            more=report.whats_good_more_than,
            hidden=report.whats_good_more,
        ),
    )


EXCEPTION_COLUMNS = [
    Column("Measure", 2.55, 10),
    Column("Value / target", 1.6, 10),
    Column("Variance", 1.0, 10),
    Column("RAG / direction / SPC", 1.35, 9),
    Column("Why it is an exception", 2.05, 9),
    Column("Director's comment", 3.88, 9),
]
MAX_COMMENT_HEIGHT = 3.0  # inches: a longer comment is cut, the HTML report has it whole


def _exception_cells(builder: DeckBuilder, line: MeasureLine) -> list[Cell]:
    comment = line.comment or (f"{DRAFTED}{line.draft}" if line.draft else COMMENT_AWAITED)
    comment = builder.frame.measure.fit(
        comment, EXCEPTION_COLUMNS[5].width, EXCEPTION_COLUMNS[5].size, MAX_COMMENT_HEIGHT,
        "(full comment in the HTML report)",
    )  # fmt: skip
    value = line.value_text
    direction = line.direction_text
    return [
        (f"{line.title}\n{line.measure_id}", {}),
        (f"{value}\n{line.target_text}", {}),
        (line.variance_text, {}),
        (f"{rag_label(line.rag)}\n{direction}{_spc_lines(line)}", builder.rag_fill(line.rag)),
        (_why(line), {}),
        (comment, {"colour": MUTED} if not line.comment else {}),
    ]


def _spc_lines(line: MeasureLine) -> str:
    """The variation and assurance beside the RAG: ``SPC: concern (low)``, ``Hit and miss``."""
    if not line.variation:
        return ""
    words = VARIATION_SHORT[Variation(line.variation)].lower()
    if line.spc_side and line.variation != Variation.COMMON_CAUSE.value:
        words += f" ({line.spc_side})"
    text = f"\nSPC: {words}"
    if line.assurance:
        text += f"\n{ASSURANCE_SHORT[Assurance(line.assurance)]}"
    return text


def _why(line: MeasureLine) -> str:
    """The reasons, each month's RAG and what to know about the figures."""
    parts = [line.reason_text]
    if line.months:
        parts.append(f"By month: {month_strip(line.months)}")
    if line.back_on_track:
        # The slide's short form: the HTML report says how far the forecast looks.
        parts.append(f"Forecast: {mid_sentence(line.back_on_track.split(' (')[0])}")
    if line.data_text:
        parts.append(f"Data: {line.data_text}")
    parts.extend(f"Committee: {decision.text}" for decision in line.decisions)
    return "\n".join(parts)


def add_exception_slides(builder: DeckBuilder) -> None:
    """Slide 3 (and follow-ons): every exception with the Director's comment."""
    report = builder.report
    on_slide = add_table_slides(
        builder,
        TableSlide(
            title=f"{report.service}: measures needing attention",
            columns=EXCEPTION_COLUMNS,
            rows=[_exception_cells(builder, line) for line in report.exceptions],
            describe=lambda first, last, total: (
                f"Table of exception measures {first} to {last} of {total}, with value, "
                "target, variance, RAG rating, direction, reasons and the Director's comment."
            ),
            empty=report.exceptions_empty,
            context=closest_to_target(
                builder, report, report.nearest_margin, "On target by the smallest margin"
            ),
            continued=True,
        ),
    )
    # Where each exception's comment is, for the appendix to point to.
    builder.exception_slides = {
        line.measure_id: on_slide[i] for i, line in enumerate(report.exceptions) if i in on_slide
    }


SCORECARD_COLUMNS = [
    Column("Measure", 3.3, 10),
    Column("Value", 1.45, 10),
    Column("Target", 1.6, 9),
    Column("Variance", 1.75, 9),
    Column("RAG", 1.05, 10),
    Column("Direction", 1.3, 9),
    Column("Comment and notes", 1.98, 9),
]
GROUP_FILL = "#E8EAEB"
MAX_NOTE_HEIGHT = 1.2  # inches: a longer comment is cut, the HTML report has it whole


def scorecard_rows(builder: DeckBuilder, report: Cpr) -> list[list[Cell]]:
    """The full scorecard's rows, grouped by the council's categories in order; a category
    with no measures yet is shown as to be confirmed."""
    rows: list[list[Cell]] = []
    blank: list[Cell] = [("", {}) for _ in SCORECARD_COLUMNS[1:]]
    for category in report.categories:
        lines = report.in_category(category)
        heading = {"bold": True, "fill": GROUP_FILL, "span": True, "size": 11}
        rows.append([(category, heading), *blank])
        if not lines:
            note = {"colour": MUTED, "span": True}
            rows.append([("To be confirmed: no measures in this category yet.", note), *blank])
        rows += [_scorecard_cells(builder, line) for line in lines]
    return rows


def _scorecard_cells(builder: DeckBuilder, line: MeasureLine) -> list[Cell]:
    # An exception's comment is on its own slide: the appendix points to it, not repeats it.
    slide = builder.exception_slides.get(line.measure_id)
    comment = f"Exception: comment on slide {slide}" if slide and line.comment else line.comment
    notes = [x for x in (comment, line.data_text, "" if line.include else "monitored only")
             if x]  # fmt: skip
    text = builder.frame.measure.fit(
        "; ".join(notes), SCORECARD_COLUMNS[6].width, SCORECARD_COLUMNS[6].size,
        MAX_NOTE_HEIGHT, "(HTML report)",
    )  # fmt: skip
    return [
        (f"{line.title}\n{line.measure_id}", {}),
        (line.value_text, {"bold": True}),
        (line.target_text, {}),
        (line.variance_text, {}),
        (rag_label(line.rag), builder.rag_fill(line.rag)),
        (line.direction_text, {}),
        (text, {}),
    ]


def add_scorecard_slides(builder: DeckBuilder) -> None:
    """The appendix: every measure of the service, grouped by category."""
    report = builder.report
    add_table_slides(
        builder,
        TableSlide(
            title=f"{report.service}: full scorecard (appendix)",
            columns=SCORECARD_COLUMNS,
            rows=scorecard_rows(builder, report),
            describe=lambda first, last, total: (
                f"Table of the full scorecard for {report.period_words}, rows {first} to "
                f"{last} of {total}, grouped by category: value, target, variance, RAG "
                "rating, direction of travel and comments."
            ),
            empty="No measures are reported for this service.",
            continued=True,
        ),
    )


def closest_to_target(builder: DeckBuilder, report: Cpr, lines: Sequence[MeasureLine],
                      caption: str) -> TableSlide:  # fmt: skip
    """Context for an empty slide: measures with their value, target and variance."""
    columns = [Column("Measure", 4.6), Column("Value", 1.8), Column("Target", 2.0, 10),
               Column("Variance", 2.4, 10), Column("RAG / direction", 1.63, 10)]  # fmt: skip
    rows: list[list[Cell]] = [
        [
            (f"{line.title}\n{line.measure_id}", {}),
            (line.value_text, {"bold": True}),
            (line.target_text, {}),
            (line.variance_text, {}),
            (f"{rag_label(line.rag)}\n{line.direction_text}", builder.rag_fill(line.rag)),
        ]
        for line in lines
    ]
    return TableSlide(
        title="",
        columns=columns,
        rows=rows,
        describe=lambda first, last, total: (
            f"Table of {last - first + 1} measures: {caption.lower()}, with value, target, "
            "variance, RAG rating and direction."
        ),
        empty="",
        caption=caption,
        more=lambda n: f"And {n} more: see the full scorecard (appendix).",
    )


ACTION_COLUMNS = [
    Column("Ref", 1.0, 12),
    Column("Action", 4.3, 12),
    Column("Owner", 2.2, 12),
    Column("Due", 1.3, 12),
    Column("Status", 1.4, 12),
    Column("Measures", 2.23, 11),
]


def add_contract_slide(builder: DeckBuilder) -> None:
    """For a service with contract KPIs: each KPI's months in the period with its
    abatement points, and the period's points and service credit."""
    report = builder.report
    contract = report.contract
    if contract is None:
        return
    months = contract.period_months
    short = len(months) > 3
    month_width = 6.0 / max(len(months), 1)
    columns = [
        Column("Contract KPI", 4.2, 10),
        Column("Points", 0.9, 10),
        *(Column(period_words(m), month_width, 9 if not short else 8) for m in months),
        Column("Period points", 1.33, 10),
    ]
    rows: list[list[Cell]] = []
    for kpi in contract.kpis:
        cells: list[Cell] = [(f"{kpi.title}\n{kpi.measure_id}", {}), (f"{kpi.points:,.0f}", {})]
        by_month = {m: (level, factor, points) for m, level, factor, points in kpi.months}
        for month in months:
            if month in by_month:
                level, factor, points = by_month[month]
                rag = CONTRACT_LEVELS[level][0]
                cells.append((contract_cell(level, factor, points, short=short),
                              builder.rag_fill(rag)))  # fmt: skip
            else:
                cells.append(("–", {}))
        cells.append((f"{kpi.abatement:,.0f}", {"bold": True}))
        rows.append(cells)
    credit = (
        f", {pounds(contract.credit)} in service credits ({pounds(contract.credit_per_point)} "
        "a point)"
        if contract.credit_per_point
        else ""
    )
    add_table_slides(
        builder,
        TableSlide(
            title=f"{report.service}: contract performance",
            columns=columns,
            rows=rows,
            describe=lambda first, last, total: (
                f"Table of contract KPIs {first} to {last} of {total}: each month's level "
                "(at TSL, at MSL only, below MSL, not available, mitigated, pending) and "
                "abatement points, and the points in the period."
            ),
            empty="No contract KPI has figures for the period.",
            intro=f"{report.period_words}: {contract.abatement:,.0f} abatement points{credit}. "
            "Below TSL or no figure: the KPI's points, x1.5 in the second consecutive month, "
            "x2 from the third; none when mitigated.",
            intro_size=12,
            intro_height=0.8,
            continued=True,
        ),
    )


def add_improvement_plan_slide(builder: DeckBuilder) -> None:
    """Slide 4: the approach and the actions, overdue ones marked."""
    report = builder.report
    add_table_slides(
        builder,
        TableSlide(
            title=f"{report.service}: performance improvement plan",
            columns=ACTION_COLUMNS,
            rows=[_action_cells(builder, action) for action in report.actions]
            + [_decision_cells(builder, decision) for decision in report.decisions],
            describe=lambda first, last, total: (
                f"Table of {last - first + 1} improvement actions and committee decisions "
                "with owner, due date, status and the measures they are meant to move."
            ),
            empty="No improvement actions recorded for this service.",
            context=closest_to_target(
                builder, report, report.without_action, "Exceptions with no improvement action"
            )
            if report.without_action
            else closest_to_target(
                builder, report, report.nearest_margin, "On target by the smallest margin"
            ),
            intro=report.approach_comment,
            intro_size=14,
            intro_height=1.2,
            more=lambda n: f"And {n} more actions: see the HTML report.",
        ),
    )


def _action_cells(builder: DeckBuilder, action: ActionLine) -> list[Cell]:
    status = ACTION_STATUS_WORDS[action.status]
    style: dict[str, object] = builder.rag_fill("red") if action.overdue else {}
    text = action.action + (f"\n{action.note}" if action.note else "")
    return [
        (action.action_id, {}),
        (text, {}),
        (action.owner, {}),
        (f"{action.due:%d %b %Y}" if action.due else "–", {}),
        (status, style),
        (" ".join(action.measures) or "–", {}),
    ]


def _decision_cells(builder: DeckBuilder, decision: Decision) -> list[Cell]:
    """A committee's open follow-up decision as a row of the improvement plan."""
    due = decision.due(builder.report.report_date)
    return [
        ("Committee", {}),
        (decision.text, {}),
        (decision.committee or "Committee", {}),
        (f"{decision.report_back:%d %b %Y}" if decision.report_back else "–", {}),
        ("Report back due" if due else "Open", builder.rag_fill("red") if due else {}),
        (decision.measure_id, {}),
    ]


def check_template(config: CouncilConfig) -> None:
    """Open the configured template and find its layout, before any report is built.

    A template found good is not opened again while its file and the layouts asked of it
    stay the same (a run of many councils mostly shares one).

    Raises:
        KpiToolsError: the template cannot be opened, is not 16:9, or lacks the layout.
    """
    path = template_path(config)
    try:
        stat = path.stat()
        key = f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0{config.layouts}"
    except OSError:
        key = ""
    if key and key in _GOOD_TEMPLATES:
        return
    DeckBuilder(config)
    if key:
        _GOOD_TEMPLATES.add(key)


_GOOD_TEMPLATES: set[str] = set()


def core_property(text: str) -> str:
    """Text for a document property (title, author, subject): at most 255 characters, as
    the file format allows, cut with an ellipsis."""
    return text if len(text) <= 255 else text[:254] + "…"


def set_properties(
    prs: PresentationType, title: str, author: str, subject: str, keywords: str, day: dt.date
) -> None:
    """A deck's document properties, each within what the format holds, dated ``day`` (its
    report date), never the clock."""
    props = prs.core_properties
    stamp = dt.datetime.combine(day, dt.time(0, 0))
    props.title = core_property(title)
    props.author = props.last_modified_by = core_property(author)
    props.subject = core_property(subject)
    props.keywords = keywords
    props.revision = 1
    props.created = props.modified = props.last_printed = stamp


# -- saving --------------------------------------------------------------------------------
def build_deck(report: Cpr) -> PresentationType:
    """The CPR as a python-pptx presentation (not yet saved), on the council's template."""
    return DeckBuilder(report.config).build(report)


def deck_bytes(report: Cpr) -> bytes:
    """The saved deck, byte-identical for the same report.

    A builder whose deck has been saved is emptied of its slides and kept for the next deck
    on the same template and configuration (:func:`_spare_builder`): the template is opened
    and measured once a process, not once a deck (a test holds a kept builder's decks to a
    new builder's bytes)."""
    stamp = dt.datetime.combine(report.report_date, dt.time(0, 0))
    builder = _spare_builder(report.config)
    blob = saved_bytes(builder.build(report, place=False), stamp)
    builder.empty()
    _SPARE.setdefault(builder.key, []).append(builder)
    return blob


#: Emptied builders by their key (see DeckBuilder.key), each taken by one deck at a time.
_SPARE: dict[tuple[Any, ...], list[DeckBuilder]] = {}


def _file_state(path: Path | None) -> tuple[Any, ...]:
    """A file as it is now: its full name, the file it is (device and inode), its times of
    change (of its bytes, and of the file itself: a file copied over another with its old
    modification time kept changes the latter) and its size; only the name for a file that
    cannot be read."""
    if path is None:
        return ("",)
    try:
        full = path.resolve()
        found = full.stat()
    except OSError:
        return (str(path),)
    return (str(full), found.st_dev, found.st_ino, found.st_mtime_ns, found.st_ctime_ns,
            found.st_size)  # fmt: skip


def _spare_builder(config: CouncilConfig) -> DeckBuilder:
    """An emptied builder for this configuration object while its template and logo files
    are as they were, else a new one (a builder that failed is never kept: it is not given
    back)."""
    key = DeckBuilder.key_of(config)
    try:
        builder = _SPARE.get(key, []).pop()
    except IndexError:
        builder = None
    if builder is not None and builder.config is config:
        return builder
    if len(_SPARE) > 8:  # configurations come and go in a long session: keep the latest
        _SPARE.clear()
    return DeckBuilder(config)


def saved_bytes(prs: PresentationType, stamp: dt.datetime) -> bytes:
    """A presentation as the bytes of its file, every date in it ``stamp``.

    python-pptx's package writer hands its members to a collector and they are zipped once,
    dated: the same bytes as saving the file and writing it again with fixed dates (tested),
    in half the time. Should python-pptx's writer change shape, the file is saved and
    rewritten.
    """
    members: list[tuple[str, bytes]] = []
    package = prs.part.package
    # A slide's shapes written as XML go in as text, last in its shape tree (placed_shapes
    # would put them there): the same bytes as placing them and writing the slide (tested).
    parts = tuple(package.iter_parts())
    waiting = {str(part.partname): _pending_xml(part) for part in parts
               if part.__dict__.get(_PENDING)}  # fmt: skip

    class _Members:
        def write(self, pack_uri: Any, blob: bytes) -> None:
            shapes = waiting.get(str(pack_uri))
            if shapes:
                end = blob.rindex(b"</p:spTree>")
                blob = blob[:end] + shapes + blob[end:]
            members.append((pack_uri.membername, blob))

    try:
        from pptx.opc.serialized import PackageWriter

        writer: Any = PackageWriter("", package._rels, parts)
        collector = _Members()
        writer._write_content_types_stream(collector)
        writer._write_pkg_rels(collector)
        # Each part and its relationships (PackageWriter._write_parts, with each part's
        # relationships written once a process for the same relationships).
        for part in parts:
            collector.write(part.partname, part.blob)
            if part._rels:
                collector.write(part.partname.rels_uri, _rels_xml(part))
    except (ImportError, AttributeError, TypeError):
        for slide in prs.slides:
            placed_shapes(slide)
        buffer = io.BytesIO()
        prs.save(buffer)
        return reproducible_zip(buffer.getvalue(), stamp)
    return zip_members(members, stamp)


_RELS_XML: dict[tuple[Any, ...], bytes] = {}


def _rels_xml(part: Any) -> bytes:
    """A part's relationships as python-pptx writes them: built and written once for the
    same relationships from the same part name (a template's layouts and master, a deck's
    slides), which decide every byte of it."""
    rels = part.rels
    key = (str(part.partname), *(
        (rel.rId, rel.reltype, rel.is_external,
         rel.target_ref if rel.is_external else str(rel.target_partname))
        for rel in rels.values()
    ))  # fmt: skip
    xml = _RELS_XML.get(key)
    if xml is None:
        if len(_RELS_XML) > 4096:
            _RELS_XML.clear()
        xml = _RELS_XML[key] = rels.xml
    return xml


def write_deck(report: Cpr, path: str | Path) -> None:
    """Write the deck to ``path`` atomically (a temporary file renamed into place)."""
    write_atomic(Path(path), deck_bytes(report))
