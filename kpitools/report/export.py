"""The HTML report: the executed CPR notebook through nbconvert, code hidden.

One self-contained file that works offline: plotly.js is embedded exactly once in the page
head (no CDN; or, when asked, loaded from a file beside the reports), the page has a
language, a title, landmarks and a skip link, and text that came from the data was escaped
when the notebook displayed it. Every output an analyst's added cell makes is part of the
page: plotly figures (drawn with the page's plotly.js, with a caption and their data as a
table), images, tables (DataFrames), markdown and printed text. The exporter returns text and
never writes files (the runner does).
"""

from __future__ import annotations

import copy
import math
from functools import cache
from typing import Any

import nbformat
from jinja2 import pass_context
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor
from traitlets.config import Config

from kpitools.report.plotly_js import plotly_js
from kpitools.report.styles import TEMPLATES, report_css

NOTEBOOK_ONLY_TAG = "notebook-only"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
DISPLAY_PRIORITY = ["text/html", "text/markdown", "image/svg+xml", "image/png", "image/jpeg",
                    "text/plain"]  # fmt: skip
"""What the page shows of an output, best first (plotly figures are made HTML first)."""
_MOST_POINTS = 200


class PlotlyFigures(Preprocessor):
    """A plotly figure an analyst's cell showed (``fig.show()``, or ``fig`` last in a cell)
    becomes an accessible figure drawn with the page's single plotly.js: a fixed element id
    (from its place in the notebook), its title as the caption, its data as a table."""

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> tuple[Any, Any]:
        for number, output in enumerate(cell.get("outputs", [])):
            data = output.get("data", {})
            if PLOTLY_MIME in data and "text/html" not in data:
                data["text/html"] = analyst_chart(data[PLOTLY_MIME], f"cell-{index}-{number}")
        return cell, resources


def analyst_chart(figure: dict[str, Any], place: str) -> str:
    """An analyst's plotly figure as the report's accessible ``<figure>``."""
    from kpitools.report.charts import Chart

    figure = dict(figure)
    figure.pop("config", None)
    layout = figure.get("layout", {})
    title = layout.get("title", "")
    title = title.get("text", "") if isinstance(title, dict) else str(title)
    head, rows = _figure_table(figure.get("data", []))
    chart = Chart(
        figure=figure,
        chart_id=f"analyst-chart-{place}",
        caption=title or "Chart added by an analyst (it has no title)",
        table_head=head,
        table_rows=rows,
    )
    return chart.to_html()


def _figure_table(traces: list[Any]) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """A figure's x-y data as rows (series, x, y); charts too large say so in one row."""
    rows: list[tuple[str, ...]] = []
    for number, trace in enumerate(traces, start=1):
        name = str(trace.get("name") or f"Series {number}")
        xs, ys = trace.get("x"), trace.get("y")
        if not isinstance(xs, list) or not isinstance(ys, list):
            rows.append((name, "", "data not shown as x and y values"))
            continue
        for x, y in list(zip(xs, ys, strict=False))[:_MOST_POINTS]:
            rows.append((name, _cell(x), _cell(y)))
        if len(xs) > _MOST_POINTS:
            rows.append((name, "", f"{len(xs) - _MOST_POINTS} more values not listed"))
    return ("Series", "x", "y"), tuple(rows)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no value"
    return (
        f"{value:,}"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else str(value)
    )


class _Copied(nbformat.NotebookNode):
    """A notebook that is the exporter's own copy already (:func:`_for_page`): nbconvert's
    deep copy of every output of it is spared."""

    def __deepcopy__(self, memo: Any) -> _Copied:
        return self


class _PageExporter(HTMLExporter):
    """nbconvert's HTML exporter without its last pass, which parses the whole page again
    (plotly.js included) to give images a default alt text and JupyterLab's cell wrappers a
    tab stop: the CPR template writes every image's alt text itself and has no such
    wrappers, so the page is the template's output as it stands."""

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self._rendered: dict[tuple[str, str], str] = {}

    def from_notebook_node(  # type: ignore[override]
        self, nb: nbformat.NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        resources = self._init_resources(resources)
        self.register_filter("highlight_code", lambda text, *args, **kwargs: text)
        self.register_filter(
            "filter_data_type",
            WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                  resources=resources),
        )  # fmt: skip
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    @pass_context
    def markdown2html(self, context: Any, source: str) -> str:
        """nbconvert's markdown filter, each text rendered once per process (a CPR's headings
        and notes read the same in every report); a cell with attachments every time."""
        if context.get("cell", {}).get("attachments"):
            return str(super().markdown2html(context, source))
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        rendered = self._rendered.get((source, path))
        if rendered is None:
            if len(self._rendered) > 4096:
                self._rendered.clear()
            rendered = str(super().markdown2html(context, source))
            self._rendered[(source, path)] = rendered
        return rendered

    def _preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        # The exporter copied the notebook already: the preprocessors work on that copy
        # (nbconvert copies it a second time here), and it is validated once at the end.
        _, nb = nbformat.validator.normalize(nb)
        for preprocessor in self._preprocessors:
            nb, resources = preprocessor(nb, resources)
        self._validate_preprocessor(nb, "the CPR exporter's preprocessors")
        return nb, resources


@cache
def _exporter() -> HTMLExporter:
    """One exporter per process: its templates are compiled once."""
    config = Config({"NbConvertBase": {"display_data_priority": DISPLAY_PRIORITY}})
    exporter = _PageExporter(
        config=config,
        template_name="cpr",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    # Cells tagged "notebook-only" (notes for analysts) stay out of the published report.
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={NOTEBOOK_ONLY_TAG}), enabled=True
    )
    exporter.register_preprocessor(PlotlyFigures(), enabled=True)
    return exporter


def export_html(
    notebook: nbformat.NotebookNode,
    *,
    title: str,
    footer: str,
    lang: str = "en-GB",
    plotly_src: str = "",
    plotly_js_text: str | None = None,
) -> str:
    """Render an executed CPR notebook as the report web page.

    Args:
        notebook: the executed notebook.
        title: the page title (``<title>``).
        footer: the footer line (council, report date, run id).
        lang: the page language.
        plotly_src: where the page loads plotly.js from (a relative path such as
            ``../plotly.min.js``); by default the page holds it.
        plotly_js_text: what the page holds where plotly.js goes, if not plotly.js itself
            (:data:`~kpitools.report.plotly_js.PLACE`, for plotly.js to be put in later).
    """
    from kpitools._version import __version__

    exporter = _exporter()
    # What the page holds where plotly.js goes: nothing when it loads it from a file.
    held = "" if plotly_src else (plotly_js() if plotly_js_text is None else plotly_js_text)
    resources = {
        "kpitools": {
            "title": title,
            "footer": footer,
            "lang": lang,
            "css": report_css(),
            "plotly_js": held,
            "plotly_src": plotly_src,
            "version": __version__,
        }
    }
    body, _ = exporter.from_notebook_node(_for_page(notebook), resources=resources)
    return body


def _for_page(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook without what the page never shows: a chart's plotly figure where the
    output carries the chart's page HTML too (a CPR chart; an analyst's figure keeps it,
    and becomes a chart on the page). The exporter copies and checks the notebook it is
    given, output by output: the figures' data is most of it. The notebook itself is left
    as it is."""
    convert: Any = nbformat.from_dict
    cells = []
    for cell in notebook.get("cells", []):
        # Each cell, output and mapping the exporter's steps may change is copied (their
        # text, which none changes, is shared): the exporter's copy of the notebook.
        copied = {**cell, "metadata": copy.deepcopy(cell.get("metadata", {}))}
        if "attachments" in cell:
            copied["attachments"] = copy.deepcopy(cell["attachments"])
        if "outputs" in cell:
            copied["outputs"] = [_output_copy(o) for o in cell["outputs"]]
        cells.append(convert(copied))
    rest = {k: copy.deepcopy(v) for k, v in notebook.items() if k != "cells"}
    return _Copied({**convert(rest), "cells": cells})


def _output_copy(output: Any) -> Any:
    """An output for the page: its data without a CPR chart's plotly figure (the page draws
    the chart from its HTML), its other mappings copied."""
    copied = {k: copy.deepcopy(v) if isinstance(v, dict | list) else v
              for k, v in output.items() if k != "data"}  # fmt: skip
    if "data" in output:
        twice = _shown_twice(output)
        copied["data"] = {k: v for k, v in output["data"].items()
                          if not (twice and k == PLOTLY_MIME)}  # fmt: skip
    return copied


def _shown_twice(output: Any) -> bool:
    data = output.get("data", {})
    return PLOTLY_MIME in data and "text/html" in data
