"""The HTML report: the executed CPR notebook through nbconvert, code hidden.

One self-contained file that works offline: plotly.js is embedded exactly once in the page
head (no CDN), the page has a language, a title, landmarks and a skip link, and text that came
from the data was escaped when the notebook displayed it. The exporter returns text and never
writes files (the runner does).
"""

from __future__ import annotations

from functools import cache

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from kpitools.report.fragments import TEMPLATES, report_css

NOTEBOOK_ONLY_TAG = "notebook-only"


@cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


@cache
def _exporter() -> HTMLExporter:
    """One exporter per process: its templates are compiled once."""
    exporter = HTMLExporter(
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
    return exporter


def export_html(
    notebook: nbformat.NotebookNode, *, title: str, footer: str, lang: str = "en-GB"
) -> str:
    """Render an executed CPR notebook as the report web page.

    Args:
        notebook: the executed notebook.
        title: the page title (``<title>``).
        footer: the footer line (council, report date, run id).
        lang: the page language.
    """
    from kpitools._version import __version__

    exporter = _exporter()
    resources = {
        "kpitools": {
            "title": title,
            "footer": footer,
            "lang": lang,
            "css": report_css(),
            "plotly_js": _plotly_js(),
            "version": __version__,
        }
    }
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    return body
