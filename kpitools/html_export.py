"""The HTML report: the executed CPR notebook through nbconvert, code hidden.

One self-contained file that works offline: plotly.js is embedded exactly once in the page
head (no CDN), the page has a language, a title, landmarks and a skip link, and text that came
from the data was escaped when the notebook displayed it. The exporter returns text and never
writes files (the runner does).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

NOTEBOOK_ONLY_TAG = "notebook-only"
TEMPLATES = Path(__file__).resolve().parent / "templates" / "nbconvert"


@cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


@cache
def _css() -> str:
    return (TEMPLATES / "cpr" / "report.css").read_text(encoding="utf-8")


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
    from kpitools import __version__

    exporter = HTMLExporter(
        template_name="cpr",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    resources = {
        "kpitools": {
            "title": title,
            "footer": footer,
            "lang": lang,
            "css": _css(),
            "plotly_js": _plotly_js(),
            "version": __version__,
        }
    }
    # Cells tagged "notebook-only" (notes for analysts) stay out of the published report.
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={NOTEBOOK_ONLY_TAG}), enabled=True
    )
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    return body
