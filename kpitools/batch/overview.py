"""The corporate overview page: every service's RAG counts and exceptions, with links.

Pure: each service's status and the summary its own run wrote in, one HTML page out (same
accessibility bar as the reports: language, title, landmarks, captions, header cells, RAG as
symbol and word as well as colour). A service without a report (failed, not run) shows no
counts: the overview never works figures out for itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from kpitools.batch.status import ServiceStatus
from kpitools.core.model import RAG
from kpitools.report.content import attention_key
from kpitools.report.fragments import MATRIX_KEY, matrix_table, rag_badge
from kpitools.report.styles import report_css
from kpitools.report.summary import ReportSummary

NO_FIGURE = "–"


@dataclass(frozen=True)
class OverviewRow:
    """One service's line on the overview."""

    service: str
    slug: str
    status: ServiceStatus
    summary: ReportSummary | None  # what the service's own run wrote; None without a report
    error: str = ""
    signoff: str = ""  # where the report stands in sign-off, in words


def _category_table(quarter: str, rows: list[OverviewRow], rags: list[str], head: str) -> str:
    """The council's measures by category and RAG rating: the services' own counts added
    up, in the council's order; a category with no measures yet is to be confirmed."""
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        if row.summary is None or not row.status.has_report:
            continue
        for item in row.summary.categories:
            counts = totals.setdefault(item.category, dict.fromkeys(rags, 0))
            for rag in rags:
                counts[rag] += item.counts.get(rag, 0)
    if not totals:
        return ""
    lines = []
    for category, counts in totals.items():
        if sum(counts.values()):
            cells = "".join(f"<td>{counts[r]}</td>" for r in rags)
        else:
            cells = f'<td colspan="{len(rags)}">To be confirmed: no measures yet</td>'
        lines.append(f'<tr><th scope="row">{escape(category)}</th>{cells}</tr>')
    return (
        f'<table class="data"><caption>Measures by category and RAG rating, all services, '
        f'{escape(quarter)}</caption><thead><tr><th scope="col">Category</th>{head}</tr>'
        f"</thead><tbody>{''.join(lines)}</tbody></table>"
    )


def render_overview(
    council: str, quarter: str, rows: list[OverviewRow], palette: dict[str, str], footer: str
) -> str:
    """The overview page's HTML."""
    rags = [r.value for r in RAG]
    head = "".join(f'<th scope="col">{rag_badge(r, palette)}</th>' for r in rags)
    lines = []
    for row in rows:
        shown = row.summary if row.status.has_report else None
        slug = escape(row.slug)
        name = (
            f'<a href="{slug}/{slug}.html">{escape(row.service)}</a>'
            if shown
            else escape(row.service)
        )
        if shown and shown.provisional:
            name += f'<br><span class="muted">{escape(shown.provisional)}</span>'

        links = (
            f'<a href="{slug}/{slug}.pptx">Slides ({escape(row.service)}, PowerPoint)</a>'
            if shown
            else escape(row.error or "")
        )
        if shown:
            cells = "".join(f"<td>{shown.counts.get(r, 0)}</td>" for r in rags)
            exceptions = str(len(shown.exceptions))
        else:
            cells = f"<td>{NO_FIGURE}</td>" * len(rags)
            exceptions = NO_FIGURE
        lines.append(
            f'<tr><th scope="row">{name}</th>{cells}<td>{exceptions}</td>'
            f"<td>{escape(row.status.words)}</td><td>{escape(row.signoff or NO_FIGURE)}</td>"
            f"<td>{links}</td></tr>"
        )
    table = (
        f'<table class="data"><caption>Measures by RAG rating and exceptions, by service, '
        f'{escape(quarter)}</caption><thead><tr><th scope="col">Service</th>{head}'
        f'<th scope="col">Exceptions</th><th scope="col">Status</th><th scope="col">Sign-off</th>'
        f'<th scope="col">Slides</th></tr></thead><tbody>{"".join(lines)}</tbody></table>'
    )
    sections = []
    by_category = _category_table(quarter, rows, rags, head)
    for row in rows:
        if row.summary is None or not row.status.has_report or not row.summary.exceptions:
            continue
        items = "".join(
            f"<li><strong>{escape(x.title)}</strong> ({escape(x.measure_id)}): "
            f"{escape(x.reasons)}</li>"
            for x in row.summary.exceptions
        )
        sections.append(f"<h3>{escape(row.service)}</h3><ul>{items}</ul>")
    exceptions_html = "".join(sections) or "<p>No measures meet the exception criteria.</p>"
    review_items = "".join(
        f"<li><strong>{escape(item.title)}</strong> ({escape(item.measure_id)}, "
        f"{escape(row.service)}): {escape(item.text)}</li>"
        for row in rows
        if row.summary is not None and row.status.has_report
        for item in row.summary.reviews  # the report's own order: more ambitious first
    )
    reviews_html = f"<h2>Targets to review</h2><ul>{review_items}</ul>" if review_items else ""
    matrix = sorted(
        (
            item
            for row in rows
            if row.summary is not None and row.status.has_report
            for item in row.summary.matrix
        ),
        key=attention_key,
    )
    matrix_html = (
        "<h2>Summary matrix: every measure, what needs attention first</h2>"
        + matrix_table(
            matrix,
            palette,
            f"Every measure of the council, {quarter}, by variation, assurance and RAG rating",
            with_service=True,
        )
        + f'<p class="muted">{escape(MATRIX_KEY)}</p>'
        if matrix
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(council)}: Corporate Performance Reports, {escape(quarter)}</title>"
        f"<style>{report_css()}</style></head><body>"
        '<a class="skip-link" href="#main">Skip to main content</a><main id="main">'
        f"<h1>{escape(council)}: Corporate Performance Reports, {escape(quarter)}</h1>"
        f"<h2>Services at a glance</h2>{table}{by_category}"
        f"<h2>Measures needing attention</h2>{exceptions_html}{matrix_html}{reviews_html}"
        f"</main><footer><p>{escape(footer)}</p></footer></body></html>\n"
    )
