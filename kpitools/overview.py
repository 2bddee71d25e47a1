"""The corporate overview page: every service's RAG counts and exceptions, with links.

Pure: summaries in, one HTML page out (same accessibility bar as the reports: language,
title, landmarks, captions, header cells, RAG as symbol and word as well as colour).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from kpitools.cpr import Cpr
from kpitools.html_sections import rag_badge, report_css


@dataclass(frozen=True)
class ServiceSummary:
    """One service's line on the overview."""

    service: str
    slug: str
    status: str  # ok, skipped, failed, not run
    counts: dict[str, int]
    exceptions: tuple[tuple[str, str, str], ...]  # (measure id, title, reasons)
    error: str = ""
    warnings: tuple[str, ...] = field(default=())

    @classmethod
    def from_report(cls, report: Cpr, slug: str, status: str, error: str = "") -> ServiceSummary:
        return cls(
            service=report.service,
            slug=slug,
            status=status,
            counts=dict(report.counts),
            exceptions=tuple((x.measure_id, x.title, x.reason_text) for x in report.exceptions),
            error=error,
            warnings=report.warnings,
        )


STATUS_WORDS = {
    "ok": "✓ Up to date",
    "skipped": "✓ Up to date (unchanged)",
    "failed": "⚠ Failed",
    "not run": "Not run",
}


def render_overview(
    council: str, quarter: str, summaries: list[ServiceSummary], palette: dict[str, str],
    footer: str,
) -> str:  # fmt: skip
    """The overview page's HTML."""
    rags = list(next(iter(summaries)).counts) if summaries else []
    head = "".join(f'<th scope="col">{rag_badge(r, palette)}</th>' for r in rags)
    rows = []
    for s in summaries:
        has_files = s.status in ("ok", "skipped")
        name = (
            f'<a href="{escape(s.slug)}/{escape(s.slug)}.html">{escape(s.service)}</a>'
            if has_files
            else escape(s.service)
        )
        links = (
            f'<a href="{escape(s.slug)}/{escape(s.slug)}.pptx">Slides ({escape(s.service)}, '
            f"PowerPoint)</a>"
            if has_files
            else escape(s.error or "")
        )
        cells = "".join(f"<td>{s.counts.get(r, 0)}</td>" for r in rags)
        rows.append(
            f'<tr><th scope="row">{name}</th>{cells}<td>{len(s.exceptions)}</td>'
            f"<td>{escape(STATUS_WORDS.get(s.status, s.status))}</td><td>{links}</td></tr>"
        )
    table = (
        f'<table class="data"><caption>Measures by RAG rating and exceptions, by service, '
        f'{escape(quarter)}</caption><thead><tr><th scope="col">Service</th>{head}'
        f'<th scope="col">Exceptions</th><th scope="col">Status</th>'
        f'<th scope="col">Slides</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
    sections = []
    for s in summaries:
        if not s.exceptions:
            continue
        items = "".join(
            f"<li><strong>{escape(title)}</strong> ({escape(mid)}): {escape(reasons)}</li>"
            for mid, title, reasons in s.exceptions
        )
        sections.append(f"<h3>{escape(s.service)}</h3><ul>{items}</ul>")
    exceptions = "".join(sections) or "<p>No measures meet the exception criteria.</p>"
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(council)}: Corporate Performance Reports, {escape(quarter)}</title>"
        f"<style>{report_css()}</style></head><body>"
        '<a class="skip-link" href="#main">Skip to main content</a><main id="main">'
        f"<h1>{escape(council)}: Corporate Performance Reports, {escape(quarter)}</h1>"
        f"<h2>Services at a glance</h2>{table}"
        f"<h2>Measures needing attention</h2>{exceptions}"
        f"</main><footer><p>{escape(footer)}</p></footer></body></html>\n"
    )
