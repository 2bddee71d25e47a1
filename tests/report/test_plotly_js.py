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


def test_a_page_leaves_the_notebook_as_it_was_and_is_the_same_each_time():
    """The exporter works on its own copy of the notebook (an analyst's figure made a chart,
    a CPR chart's figure left out, markdown rendered once and then remembered): the notebook
    is unchanged, and the same notebook makes the same page every time."""
    import copy

    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    figure = {"data": [{"type": "bar", "x": ["a", "b"], "y": [1, 2], "name": "Bars"}],
              "layout": {"title": {"text": "An analyst's chart"}}}  # fmt: skip
    mime = "application/vnd.plotly.v1+json"
    cpr_chart = {mime: figure, "text/html": "<figure>CPR</figure>"}
    notebook = new_notebook(cells=[
        new_markdown_cell("## Notes\n\nSome *notes*."),
        new_code_cell("fig", outputs=[new_output("display_data", {mime: figure})]),
        new_code_cell("c", outputs=[new_output("display_data", cpr_chart, metadata={"a": {}})]),
        new_markdown_cell("## Notes\n\nSome *notes*.", metadata={"tags": ["notebook-only"]}),
    ])  # fmt: skip
    before = copy.deepcopy(notebook)
    pages = [export_html(notebook, title="T", footer="F") for _ in range(2)]
    assert notebook == before
    assert pages[0] == pages[1]
    page = pages[0]
    assert page.count("<em>notes</em>") == 1  # the tagged copy is the notebook's alone
    assert "An analyst&#x27;s chart" in page or "An analyst's chart" in page
    assert "<figure>CPR</figure>" in page
