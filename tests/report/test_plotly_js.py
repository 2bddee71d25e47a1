"""plotly.js in a page: built with a place for it, put in once, where the page's head has it."""

from __future__ import annotations

import nbformat
import pytest

from kpitools.report.export import export_html
from kpitools.report.plotly_js import PLACE, plotly_js, with_plotly_js


def test_plotly_js_goes_in_the_first_place_only():
    page = f"<head><script>{PLACE}</script></head><p>{PLACE}</p>".encode()
    assert with_plotly_js(page) == (
        f"<head><script>{plotly_js()}</script></head><p>{PLACE}</p>".encode()
    )
    with pytest.raises(ValueError, match=r"no place for plotly\.js"):
        with_plotly_js(b"<head></head>")


def test_a_page_has_one_place_for_plotly_js_whatever_its_text_says():
    """Text from the data (a title, a cell's markdown) cannot make a second place: its ``<`` is
    escaped, or it comes after the head."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"Note {PLACE}")])
    built = export_html(notebook, title=f"Finance {PLACE}", footer=f"Council {PLACE}",
                        plotly_js_text=PLACE)  # fmt: skip
    whole = export_html(notebook, title=f"Finance {PLACE}", footer=f"Council {PLACE}")
    assert with_plotly_js(built.encode("utf-8")) == whole.encode("utf-8")
    assert whole.count("plotly.js v") == 1
