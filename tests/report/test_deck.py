"""The PowerPoint deck: reopened with python-pptx, and opened in LibreOffice."""

import io
import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.util import Emu

import kpitools
from kpitools.report.content import build_cpr
from kpitools.report.deck import deck_bytes
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, convert_to_pdf, require

INCH = 914400


@pytest.fixture(scope="module")
def config():
    return kpitools.load_config(COUNCIL_CONFIG)


@pytest.fixture(scope="module")
def look(config):
    """The example council's look (logo, colours, template) for data of other services."""
    return config.model_copy(update={"services": {}})


@pytest.fixture(scope="module")
def example(config):
    return kpitools.load(EXAMPLE, config=config)


def save_deck(report, path: Path) -> Presentation:
    path.write_bytes(deck_bytes(report))
    return Presentation(str(path))


def slide_texts(slide) -> str:
    parts = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            parts.append(shape.text_frame.text)
        if shape.has_table:
            parts += [cell.text for row in shape.table.rows for cell in row.cells]
    return "\n".join(parts)


def table_of(slide):
    tables = [s.table for s in slide.shapes if s.has_table]
    assert len(tables) == 1
    return tables[0]


def test_four_slides_with_the_right_measures(example, tmp_path):
    report = build_cpr(example, "Finance", "2024/25 Q1")
    deck = save_deck(report, tmp_path / "finance.pptx")
    slides = list(deck.slides)
    assert [s.shapes.title.text for s in slides] == [
        "Finance: at a glance, 2024/25 Q1",
        "Finance: what's good",
        "Finance: measures needing attention",
        "Finance: performance improvement plan",
        "Finance: full scorecard (appendix) (1 of 2)",
        "Finance: full scorecard (appendix) (2 of 2)",
    ]
    assert deck.slide_width / deck.slide_height == pytest.approx(16 / 9, rel=0.01)
    # Slide 3 lists exactly the scorecard's exceptions for the service and quarter.
    scorecard = kpitools.rate(example, period="2024/25 Q1")
    finance = scorecard[(scorecard["service"] == "Finance") & scorecard["include"]]
    expected = set(finance.loc[finance["exception"], "measure_id"])
    rows = list(table_of(slides[2]).rows)[1:]
    shown = {row.cells[0].text.split("\n")[-1] for row in rows}
    assert shown == expected == {"FIN_KPI_01", "FIN_KPI_02", "FIN_KPI_03", "FIN_KPI_04",
                                 "FIN_KPI_05", "FIN_FN_01"}  # fmt: skip
    # Slide 2: on or above target, or improving, and not an exception.
    good_rows = list(table_of(slides[1]).rows)[1:]
    good = {row.cells[0].text.split("\n")[-1] for row in good_rows}
    assert good and not good & expected
    assert good <= set(finance.loc[finance["rag"].isin(["green", "amber"]), "measure_id"])
    # The Director's comment, and kpitools' drafts (marked) where none is written yet.
    text = slide_texts(slides[2])
    assert "more residents on payment arrangements" in text
    assert text.count("Drafted by kpitools: ") == 4
    assert "Drafted by kpitools: Forecast outturn as a share of budget rose from" in text
    # Variance told by polarity: savings 90.4% against 100% (bigger is better).
    assert "9.6 points worse than target" in text
    # The appendix lists every measure once, grouped by the council's categories in order.
    appendix = [row.cells[0].text for s in slides[4:] for row in list(table_of(s).rows)[1:]]
    headings = [t for t in appendix if "\n" not in t]
    assert headings == ["Service performance", "Customer", "Workforce", "Finance",
                        "Finance (continued)"]  # fmt: skip
    listed = [t.split("\n")[-1] for t in appendix if "\n" in t]
    assert sorted(listed) == sorted(scorecard.loc[scorecard["service"] == "Finance", "measure_id"])


def test_infographic_has_native_chart_counts_as_text_and_tiles(example, tmp_path):
    report = build_cpr(example, "Children's Services", "2024/25 Q1")
    slide = save_deck(report, tmp_path / "chs.pptx").slides[0]
    charts = [s for s in slide.shapes if s.has_chart]
    assert len(charts) == 1
    series = charts[0].chart.plots[0].series[0]
    assert list(series.values) == [0, 4, 7, 0, 0, 0]
    assert list(charts[0].chart.plots[0].categories) == ["Green", "Amber", "Red", "Blue",
                                                         "White", "Grey"]  # fmt: skip
    text = slide_texts(slide)
    assert "11 measures: 4 ◆ amber · 7 ▲ red" in text
    assert "▲ RED  ↓ worsening" in text  # RAG as a word and a symbol on the tiles
    assert "Successes" in text and "Areas for development" in text
    assert "Assessment timeliness has fallen" in text


def test_every_chart_and_picture_has_alt_text(example, tmp_path):
    report = build_cpr(example, "Children's Services", "2024/25 Q1")
    deck = save_deck(report, tmp_path / "chs.pptx")
    seen = 0
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_chart or shape.shape_type == 13 or shape.has_table:  # 13: picture
                descr = shape._element.xpath("./*[1]/p:cNvPr")[0].get("descr")
                assert descr and len(descr) > 10, shape.name
                seen += 1
    assert seen >= 8  # chart, logo on each slide, tables


def test_same_report_same_bytes(example):
    report = build_cpr(example, "ICT & Digital", "2024/25 Q1", run_id="r1")
    first = deck_bytes(report)
    again = deck_bytes(build_cpr(example, "ICT & Digital", "2024/25 Q1", run_id="r1"))
    assert first == again
    with zipfile.ZipFile(io.BytesIO(first)) as package:
        core = package.read("docProps/core.xml").decode()
        assert {i.date_time for i in package.infolist()} == {(2024, 6, 30, 0, 0, 0)}
    assert "2024-06-30T00:00:00Z" in core  # document dates are the report date, not now()


def many_exceptions(make_data):
    """A service with 25 red measures, long titles and comments of every length."""
    measures = ["measure_id,service,title,polarity,unit,target"]
    values = ["measure_id,period,value"]
    comments = ["service,quarter,measure_id,section,author,comment"]
    for i in range(25):
        title = f"Measure {i} " + "with a long descriptive title " * (i % 4)
        measures.append(f"X{i:02d},Overflow,{title.strip()},up,percent,90")
        values.append(f"X{i:02d},2024-06,{50 + i}")
        text = ("Why, impact, forecast and recovery date. " * (i * 7 % 60)).strip()
        if i == 3:
            text = "An exceptionally long comment. " * 400
        if text and i % 5:
            comments.append(f'Overflow,2024/25 Q1,X{i:02d},,Director,"{text}"')
    return make_data(
        measures="\n".join(measures) + "\n",
        values="\n".join(values) + "\n",
        comments="\n".join(comments) + "\n",
    )


def test_twenty_five_exceptions_continue_on_follow_on_slides(make_data, look, tmp_path):
    dataset = kpitools.load(many_exceptions(make_data), config=look)
    report = build_cpr(dataset, "Overflow", "2024/25 Q1")
    assert len(report.exceptions) == 25
    deck = save_deck(report, tmp_path / "overflow.pptx")
    titles = [s.shapes.title.text for s in deck.slides]
    follow_ons = [t for t in titles if "measures needing attention" in t]
    assert len(follow_ons) >= 3
    assert follow_ons[-1].endswith(f"({len(follow_ons)} of {len(follow_ons)})")
    appendix = [t for t in titles if "full scorecard" in t]
    assert len(titles) == 3 + len(follow_ons) + len(appendix)
    listed = []
    bottom_limit = 6.9 * INCH
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_table:
                height = sum(row.height for row in shape.table.rows)
                assert shape.top + height <= bottom_limit, slide.shapes.title.text
            if shape.has_table and "attention" in slide.shapes.title.text:
                listed += [r.cells[0].text.split("\n")[-1] for r in list(shape.table.rows)[1:]]
    assert sorted(listed) == [f"X{i:02d}" for i in range(25)]
    assert "(full comment in the HTML report)" in "".join(slide_texts(s) for s in deck.slides)
    # The appendix points to the slide where each exception's comment is, rather than
    # repeating it; an exception without a comment says nothing of one.
    on_slide = {}
    notes = {}
    for number, slide in enumerate(deck.slides, start=1):
        title = slide.shapes.title.text
        for shape in slide.shapes:
            if shape.has_table and "attention" in title:
                for row in list(shape.table.rows)[1:]:
                    on_slide[row.cells[0].text.split("\n")[-1]] = number
            if shape.has_table and "full scorecard" in title:
                for row in list(shape.table.rows)[1:]:
                    notes[row.cells[0].text.split("\n")[-1]] = row.cells[6].text
    commented = {line.measure_id for line in report.exceptions if line.comment}
    assert 10 < len(commented) < 25 and len(set(on_slide.values())) >= 3
    for measure_id, slide_number in on_slide.items():
        expected = f"Exception: comment on slide {slide_number}"
        assert (expected in notes[measure_id]) == (measure_id in commented), measure_id
    assert not any("Why, impact" in note for note in notes.values())


def words_outside_content(pdf: Path, tmp_path: Path) -> list[str]:
    """Words LibreOffice placed below the content area or off the page (in points)."""
    pdftotext = require("pdftotext")
    bbox = tmp_path / "bbox.html"
    subprocess.run([pdftotext, "-bbox", str(pdf), str(bbox)], check=True)
    text = bbox.read_text(encoding="utf-8")
    bad = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', text, re.S):
        width, height = float(page.group(1)), float(page.group(2))
        footer_top = height * 6.95 / 7.5
        for word in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
            page.group(3),
        ):
            x0, y0, x1, y1 = (float(word.group(i)) for i in range(1, 5))
            in_content = y1 <= height * 6.9 / 7.5
            in_footer = y0 >= footer_top and y1 <= height
            if x1 > width or x0 < 0 or not (in_content or in_footer):
                bad.append(f"{word.group(5)}@({x0:.0f},{y0:.0f})")
    return bad


@pytest.mark.slow
def test_libreoffice_opens_decks_and_nothing_spills(make_data, example, look, tmp_path):
    overflow = build_cpr(
        kpitools.load(many_exceptions(make_data), config=look), "Overflow", "2024/25 Q1"
    )
    decks = {"overflow": overflow}
    for service in example.services:
        decks[service] = build_cpr(example, service, "2024/25 Q1")
    for name, report in decks.items():
        pptx = tmp_path / f"{report.slug}.pptx"
        slides = len(save_deck(report, pptx).slides)
        pdf = convert_to_pdf(pptx, tmp_path)
        info = subprocess.run([require("pdfinfo"), str(pdf)], capture_output=True, text=True,
                              check=True).stdout  # fmt: skip
        assert re.search(rf"^Pages:\s+{slides}$", info, re.M), name
        assert words_outside_content(pdf, tmp_path) == [], name


def test_hostile_comment_stays_text_in_the_deck(make_data, look, tmp_path):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes" \u202e'
    data = make_data(
        measures="measure_id,service,title,polarity,unit,target\n"
        "H1,Hostile,<b>Bold</b> title,up,percent,90\n",
        values="measure_id,period,value\nH1,2024-06,50\n",
        comments="service,quarter,measure_id,section,author,comment\n"
        f'Hostile,2024/25 Q1,H1,,Director,"{hostile.replace(chr(34), chr(34) * 2)}"\n',
    )
    report = build_cpr(kpitools.load(data, config=look), "Hostile", "2024/25 Q1")
    deck = save_deck(report, tmp_path / "hostile.pptx")
    text = slide_texts(deck.slides[2])
    assert hostile in text
    assert "<b>Bold</b> title" in text


def test_second_council_template_and_settings(make_data, tmp_path):
    """Nothing is hard-wired to the example: another council's template, layout and colours."""
    from kpitools.report.template import make_default_template

    template = tmp_path / "other.pptx"
    template.write_bytes(make_default_template())
    prs = Presentation(str(template))
    layout = next(x for x in prs.slide_layouts if x.name == "Title Only")
    layout._element.cSld.set("name", "Eastshire Report Slide")
    prs.slide_width, prs.slide_height = Emu(10 * INCH), Emu(int(5.625 * INCH))
    prs.save(str(template))
    (tmp_path / "eastshire.yaml").write_text(
        "council: Eastshire County Council\n"
        "template: other.pptx\n"
        "layouts:\n  content: Eastshire Report Slide\n"
        "rag_colours:\n  green: '#005A30'\n  red: '#942514'\n"
        "services:\n  Finance:\n    director: Chief Finance Officer\n"
        "    headline: [FIN_KPI_04, FIN_KPI_01]\n",
        encoding="utf-8",
    )
    other = kpitools.load_config(tmp_path / "eastshire.yaml")
    report = build_cpr(kpitools.load(EXAMPLE, config=other), "Finance", "2024/25 Q1")
    assert [h.measure_id for h in report.headlines] == ["FIN_KPI_04", "FIN_KPI_01"]
    deck = save_deck(report, tmp_path / "finance.pptx")
    assert deck.slide_width == 10 * INCH
    assert {s.slide_layout.name for s in deck.slides} == {"Eastshire Report Slide"}
    footer = slide_texts(deck.slides[0])
    assert "Eastshire County Council · Finance · CPR 2024/25 Q1" in footer
    chart = next(s for s in deck.slides[0].shapes if s.has_chart).chart
    point_colours = [str(p.format.fill.fore_color.rgb) for p in chart.plots[0].series[0].points]
    assert point_colours[0] == "005A30" and point_colours[2] == "942514"


def test_missing_layout_is_a_clear_error(tmp_path):
    (tmp_path / "c.yaml").write_text("council: X\nlayouts:\n  content: No Such Layout\n")
    config = kpitools.load_config(tmp_path / "c.yaml")
    from kpitools.report.deck import check_template

    with pytest.raises(kpitools.KpiToolsError, match="no layout named 'No Such Layout'"):
        check_template(config)


def test_whats_good_says_how_many_it_does_not_show(example, tmp_path):
    report = build_cpr(example, "Waste & Environment", "2024/25 Q1")
    slide = save_deck(report, tmp_path / "waste.pptx").slides[1]
    shown = len(list(table_of(slide).rows)) - 1
    qualifying = len(report.on_target) + len(report.improving)
    note = next(t for t in slide_texts(slide).split("\n") if t.startswith("And "))
    assert (
        note == f"And {qualifying - shown} more measures on target or improving: see the "
        "full scorecard (appendix)."
    )


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ("Plain", {}),
        ("Two\nlines & <markup>", {"bold": True, "colour": "#FFFFFF", "fill": "#0B0C0C"}),
        ("Bell\x07 and tab\tkept", {"colour": "#505A5F", "align": "center"}),
        ("", {"fill": "#E8EAEB"}),
    ],
)
def test_table_cells_are_written_as_python_pptx_writes_them(text, style):
    """The deck writes table rows as XML text (fast); python-pptx's objects styling the same
    cell (slow) give the same XML."""
    from lxml import etree
    from pptx.enum.text import PP_ALIGN

    from kpitools.report.deck import CELL_PAD, Frame, _cell_xml, _parsed, _rgb
    from kpitools.report.textfit import TextMeasure

    if style.get("align") == "center":
        style = {**style, "align": PP_ALIGN.CENTER}
    frame = Frame(scale=1.0, top=1.25, bottom=6.85, measure=TextMeasure())
    shape = (
        Presentation()
        .slides.add_slide(Presentation().slide_layouts[6])
        .shapes.add_table(1, 1, 0, 0, INCH, INCH)
    )
    cell = shape.table.cell(0, 0)
    cell.text = ""
    cell.text_frame.word_wrap = True
    for margin in ("margin_left", "margin_right", "margin_top", "margin_bottom"):
        setattr(cell, margin, frame.emu(CELL_PAD))
    for i, line in enumerate(text.split("\n")):
        paragraph = cell.text_frame.paragraphs[0] if i == 0 else cell.text_frame.add_paragraph()
        run = paragraph.add_run()
        run.text = line
        run.font.size = frame.pt(10)
        run.font.bold = bool(style.get("bold"))
        run.font.color.rgb = _rgb(str(style.get("colour", "#0B0C0C")))
        if "align" in style:
            paragraph.alignment = style["align"]
    if style.get("fill"):
        cell.fill.solid()
        cell.fill.fore_color.rgb = _rgb(str(style["fill"]))
    else:
        cell.fill.background()
    slow = etree.tostring(cell._tc, encoding="unicode")
    fast = _parsed(f"<a:tc>{_cell_xml(frame, text, 10, style)}</a:tc>")
    assert _canonical(etree.tostring(fast, encoding="unicode")) == _canonical(slow)


def _canonical(xml: str) -> str:
    """XML without namespace declarations; an empty text element written one way."""
    return re.sub(r' xmlns:\w+="[^"]+"', "", xml).replace("<a:t></a:t>", "<a:t/>")


def test_a_deck_is_zipped_once_with_the_bytes_of_saving_and_rewriting_it(example, monkeypatch):
    import datetime as dt

    from kpitools.core.files import reproducible_zip
    from kpitools.report.deck import build_deck, saved_bytes

    stamp = dt.datetime(2024, 7, 19)
    for service in ("Finance", "Waste & Environment"):
        report = build_cpr(example, service, "2024/25 Q1")
        buffer = io.BytesIO()
        build_deck(report).save(buffer)
        rewritten = reproducible_zip(buffer.getvalue(), stamp)
        prs = build_deck(report)
        # The members come from python-pptx's writer, not from a saved file.
        monkeypatch.setattr(type(prs), "save", lambda *_: pytest.fail("saved and rewritten"))
        assert saved_bytes(prs, stamp) == rewritten
        monkeypatch.undo()
        with zipfile.ZipFile(io.BytesIO(rewritten)) as deck:
            assert {info.date_time for info in deck.infolist()} == {(2024, 7, 19, 0, 0, 0)}
            core = deck.read("docProps/core.xml").decode()
            assert "2024-07-19T00:00:00Z</dcterms:modified>" in core


@pytest.mark.parametrize("logo", [True, False])
def test_slides_copied_from_the_first_are_the_slides_python_pptx_makes(example, logo):
    """Every slide after the first is a copy of it with its own title: the deck is the same
    bytes as one whose every slide is made through python-pptx's objects."""
    import dataclasses

    from kpitools.report import deck

    report = build_cpr(example, "Waste & Environment", "2024/25 Q1")
    if not logo:
        report = dataclasses.replace(report, config=report.config.model_copy(update={"logo": None}))

    class ByObjects(deck.DeckBuilder):
        def new_slide(self, title):
            return self._new_slide_by_objects(title)

    copied = deck.deck_bytes(report)
    stamp = deck.dt.datetime.combine(report.report_date, deck.dt.time(0, 0))
    made = deck.saved_bytes(ByObjects(report.config).build(report), stamp)
    assert len(Presentation(io.BytesIO(copied)).slides) > 4
    assert copied == made


def test_text_boxes_tables_and_tiles_are_the_shapes_python_pptx_makes():
    """Text boxes, tables and headline tiles are written as XML; python-pptx's add_textbox,
    add_table and add_shape, styled through its objects, give the same shapes."""
    import copy

    from lxml import etree
    from pptx.oxml.ns import qn

    from kpitools.report.deck import (
        CELL_PAD,
        Column,
        Frame,
        _add_table,
        _add_text,
        _parsed,
        placed_shapes,
    )
    from kpitools.report.textfit import TextMeasure

    frame = Frame(scale=1.0, top=1.25, bottom=6.85, measure=TextMeasure())
    prs = Presentation()
    fast = prs.slides.add_slide(prs.slide_layouts[6])
    slow = prs.slides.add_slide(prs.slide_layouts[6])
    fast.shapes.turbo_add_enabled = True
    description = 'Table of "quotes" & <b>markup</b>\nover\ttwo lines'
    _add_text(fast, frame, (1, 2, 3, 0.5), [("Text & more", 12, {"bold": True})])
    _add_table(fast, frame, 2.0, [Column("A", 2), Column("B", 3.5)],
               [[("x", {}), ("y", {"fill": "#FF0000"})]], [0.4], 0.5, description)  # fmt: skip

    box = slow.shapes.add_textbox(frame.emu(1), frame.emu(2), frame.emu(3), frame.emu(0.5))
    pad = frame.emu(CELL_PAD)
    placed_shapes(fast)
    box._element.replace(box._element.txBody, _parsed(
        f'<p:txBody><a:bodyPr wrap="square" anchor="t" lIns="{pad}" rIns="{pad}" tIns="{pad}" '
        f'bIns="{pad}"><a:noAutofit/></a:bodyPr><a:lstStyle/>'
        f"{etree.tostring(fast.shapes[0]._element.txBody[2], encoding='unicode')}</p:txBody>"
    ))  # fmt: skip
    shape = slow.shapes.add_table(1, 2, frame.emu(frame.left), frame.emu(2.0),
                                  frame.emu(5.5), frame.emu(0.9))  # fmt: skip
    shape._element.xpath("./*[1]/p:cNvPr")[0].set("descr", description)
    table = shape.table
    table.first_row, table.horz_banding = True, False
    for grid_col, width in zip(table._tbl.tblGrid.gridCol_lst, (2, 3.5), strict=True):
        grid_col.w = frame.emu(width)
    shape.width = Emu(frame.emu(2) + frame.emu(3.5))
    table._tbl.remove(table._tbl.tr_lst[0])
    rows = fast.shapes[1]._element.xpath(".//a:tr")  # the rows are tested alone
    table._tbl.extend(copy.deepcopy(row) for row in rows)

    # A headline tile, and a text box with a border (the DRAFT mark).
    from pptx.enum.shapes import MSO_SHAPE
    from pptx.util import Pt

    from kpitools.report.deck import _add_tile, _rgb

    _add_tile(fast, frame, (1, 1, 2.5, 1.5), "#D4351C", description)
    tile = slow.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, frame.emu(1), frame.emu(1),
                                 frame.emu(2.5), frame.emu(1.5))  # fmt: skip
    tile.adjustments[0] = 0.08
    tile.fill.solid()
    tile.fill.fore_color.rgb = _rgb("#FFFFFF")
    tile.line.color.rgb = _rgb("#D4351C")
    tile.line.width = Pt(2.25)
    tile.shadow.inherit = False
    tile._element.xpath("./*[1]/p:cNvPr")[0].set("descr", description)
    _add_text(fast, frame, (1, 2, 1, 0.5), [("DRAFT", 12, {})], outline=("#A4161A", 1.5))
    placed_shapes(fast)
    mark = slow.shapes.add_textbox(frame.emu(1), frame.emu(2), frame.emu(1), frame.emu(0.5))
    mark._element.replace(mark._element.txBody, copy.deepcopy(fast.shapes[-1]._element.txBody))
    mark.line.color.rgb = _rgb("#A4161A")
    mark.line.width = frame.pt(1.5)

    placed_shapes(fast)
    for made, written in zip(slow.shapes, fast.shapes, strict=True):
        assert etree.tostring(made._element) == etree.tostring(written._element)
    assert fast.shapes[1]._element.find(".//" + qn("p:cNvPr")).get("descr") == description


@pytest.mark.parametrize("scale", [1.0, 0.75])
def test_the_rag_chart_is_the_chart_python_pptx_styles(scale):
    """The RAG column chart is written as XML; python-pptx's chart objects styled the same
    way give the same chart part."""
    from lxml import etree
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION
    from pptx.util import Pt

    from kpitools.report.deck import _rag_chart_xml, _rgb

    names, counts = ["Green", "Amber", "Red", "Blue"], [3, 0, 12, 1]
    fills = ["#00703C", "#B35C00", "#D4351C", "#1D70B8"]
    data = CategoryChartData()
    data.categories = names
    data.add_series("Measures", counts)
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    graphic = slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, 0, 0, INCH, INCH, data)
    chart = graphic.chart
    chart.has_legend = False
    chart.has_title = False
    chart.font.size = Pt(round(10 * scale, 1))
    plot = chart.plots[0]
    plot.gap_width = 40
    plot.vary_by_categories = False
    plot.has_data_labels = True
    plot.data_labels.position = XL_LABEL_POSITION.OUTSIDE_END
    plot.data_labels.font.size = Pt(round(11 * scale, 1))
    plot.data_labels.font.bold = True
    chart.value_axis.has_major_gridlines = False
    chart.value_axis.visible = False
    chart.value_axis.minimum_scale = 0
    for i, fill in enumerate(fills):
        point = plot.series[0].points[i]
        point.format.fill.solid()
        point.format.fill.fore_color.rgb = _rgb(fill)
        point.format.line.color.rgb = _rgb("#0B0C0C")
        point.format.line.width = Pt(0.75)
    made = etree.tostring(graphic.chart_part._element)
    workbook = graphic.chart_part._element.externalData.rId
    assert made == etree.tostring(etree.fromstring(_rag_chart_xml(names, counts, fills, scale,
                                                                  workbook)))  # fmt: skip


@pytest.mark.parametrize("service", ["Finance", "Waste & Environment"])
def test_shapes_written_as_text_are_the_bytes_of_placing_them(example, service):
    """A deck's shapes written as XML go into its file as text; placing them among the
    slide's elements first (as build_deck does for whoever reads the presentation) and
    writing the slides gives the same bytes, text that XML writes in its own way included."""
    import datetime as dt

    from kpitools.report.deck import (
        Column,
        DeckBuilder,
        _add_table,
        _add_text,
        build_deck,
        placed_shapes,
        saved_bytes,
    )

    report = build_cpr(example, service, "2024/25 Q1")
    stamp = dt.datetime.combine(report.report_date, dt.time(0, 0))
    assert deck_bytes(report) == saved_bytes(build_deck(report), stamp)
    tricky = ["", "a & b < c > d", "quotes \" and ' ", "tab\tand\nline", "é 😀 \u2028", "x\x07y"]
    decks = []
    for place in (False, True):
        builder = DeckBuilder(report.config)
        builder.report = report
        slide = builder.new_slide("Text written as XML")
        _add_text(slide, builder.frame, (1, 2, 4, 3), [(t, 11, {}) for t in tricky])
        _add_table(slide, builder.frame, 2.0, [Column(t or "blank", 1.5) for t in tricky[:3]],
                   [[(t, {}) for t in tricky[:3]], [(t, {"fill": "#FFFFFF"}) for t in tricky[3:]]],
                   [0.4, 0.4], 0.4, 'A "table" & more\nover two lines')  # fmt: skip
        if place:
            for each in builder.prs.slides:
                placed_shapes(each)
        decks.append(saved_bytes(builder.prs, stamp))
    assert decks[0] == decks[1]


def test_a_kept_builder_makes_the_bytes_of_a_new_one(example, tmp_path):
    """deck_bytes keeps its builder, emptied, for the next deck: decks of other services
    (more and fewer slides, more and fewer exceptions) made one after another on a kept
    builder are each the bytes a new builder makes; a builder that failed is not kept; an
    edited template is opened again."""
    import dataclasses
    import datetime as dt

    from kpitools.report import deck
    from kpitools.report.template import make_default_template

    def fresh(report):
        stamp = dt.datetime.combine(report.report_date, dt.time(0, 0))
        return deck.saved_bytes(deck.DeckBuilder(report.config).build(report), stamp)

    reports = [build_cpr(example, s, "2024/25 Q1") for s in example.services]
    reports.append(reports[0])
    for report in reports:
        assert deck.deck_bytes(report) == fresh(report), report.service
    kept = deck._SPARE[deck.DeckBuilder.key_of(reports[0].config)]
    assert len(kept) == 1 and not list(kept[0].prs.slides)

    broken = dataclasses.replace(reports[1], exceptions=(None,))  # fails half-way
    with pytest.raises(AttributeError):
        deck.deck_bytes(broken)
    assert not kept  # the half-built deck's builder was not given back
    assert deck.deck_bytes(reports[1]) == fresh(reports[1])

    template = tmp_path / "own.pptx"
    template.write_bytes(make_default_template())
    config = reports[0].config.model_copy(update={"template": template})
    own = dataclasses.replace(reports[0], config=config)
    first = deck.deck_bytes(own)
    prs = Presentation(str(template))
    prs.core_properties.category = "Edited"
    prs.save(str(template))
    os.utime(template, ns=(1, 1))  # a different time, whatever the clock's resolution
    edited = deck.deck_bytes(own)
    assert edited != first and edited == fresh(own)
    assert b"Edited" in zipfile.ZipFile(io.BytesIO(edited)).read("docProps/core.xml")

    from PIL import Image

    logo = tmp_path / "logo.png"
    logo.write_bytes(Path(reports[0].config.logo).read_bytes())
    own = dataclasses.replace(own, config=config.model_copy(update={"logo": logo}))
    assert deck.deck_bytes(own) == deck.deck_bytes(own) == fresh(own)
    Image.new("RGB", (40, 10), "#1D70B8").save(logo)
    os.utime(logo, ns=(2, 2))
    relogo = deck.deck_bytes(own)
    assert relogo == fresh(own)
    pictures = [n for n in zipfile.ZipFile(io.BytesIO(relogo)).namelist() if "media" in n]
    assert any(zipfile.ZipFile(io.BytesIO(relogo)).read(n) == logo.read_bytes() for n in pictures)


def test_relationships_written_once_are_python_pptx_s(example):
    """Each part's relationships, written once for the same relationships, are the bytes
    python-pptx writes for them, the first time and from what was kept; a relationship
    changed is written anew."""
    from kpitools.report import deck

    report = build_cpr(example, "Finance", "2024/25 Q1")
    prs = deck.build_deck(report)
    parts = [p for p in prs.part.package.iter_parts() if p._rels]
    assert len(parts) > 10
    for _ in range(2):
        for part in parts:
            assert deck._rels_xml(part) == part.rels.xml, part.partname
    slide = prs.slides[0].part
    before = deck._rels_xml(slide)
    from pptx.opc.constants import RELATIONSHIP_TYPE

    slide.relate_to("https://example.org/", RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    assert deck._rels_xml(slide) == slide.rels.xml != before


def test_a_kept_builder_whose_first_slide_needs_python_pptx_text_holds_one_logo(example):
    """A kept builder whose next deck's first title needs python-pptx's text (a control
    character) makes that slide through python-pptx's objects, placing the logo anew: the
    copy kept from the earlier deck is made again from it, so the file holds the logo once
    and is the bytes a new builder makes."""
    import datetime as dt

    from kpitools.report import deck

    report = build_cpr(example, "Finance", "2024/25 Q1")
    stamp = dt.datetime.combine(report.report_date, dt.time(0, 0))
    deck.deck_bytes(report)  # a builder kept, with its first slide's copy
    kept = deck._spare_builder(report.config)
    assert kept._prototype is not None

    def made(builder):
        builder.report = report
        for title in ("A title\twith a tab", "A plain title", "Another"):
            builder.new_slide(title)
        builder._set_properties()  # (every deck sets them)
        return deck.saved_bytes(builder.prs, stamp)

    blob = made(kept)
    assert blob == made(deck.DeckBuilder(report.config))
    names = zipfile.ZipFile(io.BytesIO(blob)).namelist()
    assert len(names) == len(set(names))
    assert sum("media" in n for n in names) == 1


def test_kept_builders_follow_their_configuration_and_serve_threads(example):
    """A configuration's colours changed in place reach the next deck of a kept builder; decks
    made on several threads at once are each the bytes a new builder makes."""
    import dataclasses
    import datetime as dt
    from concurrent.futures import ThreadPoolExecutor

    from kpitools.report import deck

    def fresh(report):
        stamp = dt.datetime.combine(report.report_date, dt.time(0, 0))
        return deck.saved_bytes(deck.DeckBuilder(report.config).build(report), stamp)

    config = example.config.model_copy(deep=True)
    reports = [dataclasses.replace(build_cpr(example, s, "2024/25 Q1"), config=config)
               for s in example.services]  # fmt: skip
    before = deck.deck_bytes(reports[0])
    config.rag_colours[next(iter(config.rag_colours))] = "#123456"
    after = deck.deck_bytes(reports[0])
    assert after != before and after == fresh(reports[0])
    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(deck.deck_bytes, reports * 3))
    assert made == [fresh(r) for r in reports * 3]
