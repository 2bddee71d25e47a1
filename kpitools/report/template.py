"""The default 16:9 slide template that ships with kpitools.

``python -m kpitools.report.template`` (or ``make template``) rebuilds
``kpitools/report/templates/cpr-16x9.pptx`` from python-pptx's own default template: the slide is
widened to 16:9, placeholders are moved to match, and the title sits in a band at the top so
the content area is as tall as possible. A council's own template replaces it through
``template:`` in ``params/council.yaml``.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

from kpitools.core.config import CouncilConfig
from kpitools.core.files import reproducible_zip, write_atomic

DEFAULT_TEMPLATE = Path(__file__).resolve().parent / "templates" / "cpr-16x9.pptx"
WIDE = int(13.333 * 914400)  # EMU: 13.333 inches, 16:9 at the default height
STAMP = dt.datetime(2024, 1, 1)


def template_path(config: CouncilConfig) -> Path:
    """The council's own template, or the default one."""
    return config.template or DEFAULT_TEMPLATE


def make_default_template() -> bytes:
    """The default template's bytes (the same every time)."""
    from pptx import Presentation  # loaded only to make the template
    from pptx.util import Emu, Inches

    prs = Presentation()
    scale = WIDE / prs.slide_width
    prs.slide_width = Emu(int(WIDE))
    holders = [*prs.slide_master.placeholders]
    for layout in prs.slide_layouts:
        holders += list(layout.placeholders)
    for shape in holders:
        if shape.left is not None:
            shape.left = Emu(round(shape.left * scale))
            shape.width = Emu(round(shape.width * scale))
    title_only = next(layout for layout in prs.slide_layouts if layout.name == "Title Only")
    for shape in [*title_only.placeholders, *prs.slide_master.placeholders]:
        if shape.placeholder_format.type == 1:  # title: a band across the top
            shape.left, shape.top = Inches(0.45), Inches(0.25)
            shape.width, shape.height = Inches(11.0), Inches(0.85)
    # Titles left-aligned, as reports read; the master's title style holds the alignment.
    namespace = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
    title_style = prs.slide_master.element.find(
        ".//{http://schemas.openxmlformats.org/presentationml/2006/main}titleStyle"
    )
    title_style.find(f"{namespace}lvl1pPr").set("algn", "l")
    props = prs.core_properties
    props.title = "kpitools CPR template"
    props.author = props.last_modified_by = "kpitools"
    props.created = props.modified = props.last_printed = STAMP
    props.revision = 1
    buffer = io.BytesIO()
    prs.save(buffer)
    return reproducible_zip(buffer.getvalue(), STAMP)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_TEMPLATE
    write_atomic(target, make_default_template())
