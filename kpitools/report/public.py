"""Public performance pages: what a council publishes to residents.

A static site of the measures marked ``public`` in the data dictionary, from published reports
only: an index of the services and one page per service, in plain words, each measure with its
latest figure, target, rating (symbol and words, never colour alone), direction of travel and a
chart of its recent periods with the figures as a table. Nothing internal goes on it: no
comment marked ``internal``, no officer's name (comments are shown without their author; lead
officers and data owners are left out), no run ids. The same reports give the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from kpitools.core.dataset import Dataset, rows_of
from kpitools.core.model import Section
from kpitools.core.naming import slugify
from kpitools.report.content import Cpr, MeasureLine
from kpitools.report.words import RAG_SYMBOLS, direction_words, period_words

#: What each rating means, in plain words.
RATING_WORDS = {
    "green": "on target",
    "amber": "close to target",
    "red": "off target",
    "blue": "better than target",
    "white": "no target set",
    "grey": "not rated",
}
CSS = """
body { font-family: Arial, Helvetica, sans-serif; color: #0B0C0C; line-height: 1.5;
       margin: 0 auto; max-width: 48rem; padding: 1rem 1.25rem 3rem; }
a { color: #1D70B8; } a:focus { outline: 3px solid #FFDD00; background: #FFDD00; color: #0B0C0C; }
.skip-link { position: absolute; left: -999rem; } .skip-link:focus { position: static; }
h1 { font-size: 2rem; } h2 { font-size: 1.4rem; margin-top: 2.5rem; border-top: 2px solid #0B0C0C;
     padding-top: 0.75rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dl.facts dt { font-weight: bold; } dl.facts dd { margin: 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; min-width: 22rem; }
th, td { border-bottom: 1px solid #B1B4B6; padding: 0.3rem 0.6rem; text-align: left; }
caption { text-align: left; font-weight: bold; }
.muted { color: #505A5F; }
"""


@dataclass(frozen=True)
class PublicService:
    report: Cpr
    slug: str
    lines: tuple[MeasureLine, ...]  # the public measures, in the data dictionary's order
    summary: str  # the Director's summary, '' when none or internal
    comments: dict[str, str]  # measure id -> the (not internal) comment on it


def public_services(dataset: Dataset, reports: list[Cpr]) -> list[PublicService]:
    """The public part of each published report."""
    measures = dataset.measures
    public = set(measures.index[measures["public"]]) if "public" in measures else set()
    found = []
    for report in reports:
        lines = tuple(x for x in report.all_lines if x.measure_id in public)
        summary, comments = _public_comments(dataset, report)
        found.append(PublicService(report, slugify(report.service), lines, summary, comments))
    return found


def _public_comments(dataset: Dataset, report: Cpr) -> tuple[str, dict[str, str]]:
    frame = dataset.comments
    if frame.empty:
        return "", {}
    calendar = dataset.calendar
    summary: list[str] = []
    comments: dict[str, list[str]] = {}
    for row in rows_of(frame[frame["service"] == report.service]):
        if row.quarter is None or calendar.label(row.quarter) != report.quarter:
            continue
        if getattr(row, "internal", False):
            continue
        if not row.measure_id and row.section == Section.SUMMARY.value:
            summary.append(row.comment)
        elif row.measure_id and row.section == Section.EXCEPTION.value:
            comments.setdefault(row.measure_id, []).append(row.comment)
    return "\n\n".join(summary), {m: "\n\n".join(t) for m, t in comments.items()}


def public_pages(council: str, period: str, services: list[PublicService]) -> dict[str, str]:
    """The site's pages: ``index.html`` and ``<service>.html``, as HTML text."""
    words = period_words(period)
    pages = {f"{s.slug}.html": _service_page(council, words, s) for s in services}
    items = []
    for s in services:
        counts: dict[str, int] = {}
        for line in s.lines:
            counts[line.rag] = counts.get(line.rag, 0) + 1
        summary = ", ".join(f"{n} {RATING_WORDS.get(rag, rag)}" for rag, n in counts.items())
        measures = f"{len(s.lines)} measure{'s' if len(s.lines) != 1 else ''}"
        items.append(f'<li><a href="{escape(s.slug)}.html">{escape(s.report.service)}</a>: '
                     f"{measures}{': ' + escape(summary) if summary else ''}</li>")  # fmt: skip
    body = (
        f"<h1>{escape(council)}: how we are doing, {escape(words)}</h1>"
        f"<p>Our performance for {escape(words)}, service by service: how each measure "
        "compares with its target, and whether it is getting better or worse.</p>"
        + (f"<ul>{''.join(items)}</ul>" if items else "<p>Nothing has been published yet.</p>")
    )
    pages["index.html"] = _page(f"How we are doing, {words} - {council}", body, council)
    return pages


def _service_page(council: str, words: str, service: PublicService) -> str:
    report = service.report
    parts = [
        f"<h1>{escape(report.service)}: how we are doing, {escape(words)}</h1>",
        '<p><a href="index.html">All services</a></p>',
    ]
    if service.summary:
        parts.append(f"<p>{escape(service.summary)}</p>")
    if not service.lines:
        parts.append("<p>No measures of this service are published.</p>")
    for n, line in enumerate(service.lines, start=1):
        parts.append(_measure(line, n, service.comments.get(line.measure_id, "")))
    return _page(f"{report.service}: how we are doing, {words} - {council}", "".join(parts),
                 council)  # fmt: skip


def _measure(line: MeasureLine, n: int, comment: str) -> str:
    rating = RATING_WORDS.get(line.rag, line.rag)
    symbol = RAG_SYMBOLS.get(line.rag, "")
    value = line.value_text if line.available else "not available"
    better = {"up": "Higher is better.", "down": "Lower is better."}.get(line.polarity, "")
    facts = [
        ("Latest", f"{value} ({line.value_period or line.period})"),
        ("Target", line.target_text.removeprefix("Target ")),
        ("Rating", f"{symbol} {rating}".strip()),
        ("Compared with last time", direction_words(line.direction, line.change_pct)),
    ]
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    chart = _chart(line, n)
    note = f"<h3>What we are doing</h3><p>{escape(comment)}</p>" if comment else ""
    return (
        f'<section aria-labelledby="m{n}"><h2 id="m{n}">{escape(line.title)}</h2>'
        + (f"<p>{escape(better)}</p>" if better else "")
        + f'<dl class="facts">{dl}</dl>{chart}{note}</section>'
    )


def _chart(line: MeasureLine, n: int) -> str:
    """The recent periods as bars (an SVG with a text alternative) and as a table."""
    points = [(p, v) for p, v in line.trend]
    known = [v for _, v in points if not math.isnan(v)]
    if len(known) < 2:
        return ""
    top = max(max(known), 0.0) or 1.0
    width, height, gap = 60, 120, 12  # one bar's width, the bars' height, the gap
    bars = []
    for i, (period, value) in enumerate(points):
        x = i * (width + gap)
        if math.isnan(value):
            continue
        h = max(1.0, height * max(value, 0.0) / top)
        bars.append(f'<rect x="{x}" y="{height - h:.1f}" width="{width}" height="{h:.1f}" '
                    f'fill="#1D70B8"><title>{escape(period)}: {escape(line.show(value))}'
                    "</title></rect>")  # fmt: skip
        bars.append(f'<text x="{x + width / 2}" y="{height + 16}" text-anchor="middle" '
                    f'font-size="11">{escape(period)}</text>')  # fmt: skip
        label = max(height - h - 4, 10)
        bars.append(f'<text x="{x + width / 2}" y="{label:.1f}" text-anchor="middle" '
                    f'font-size="11">{escape(line.show(value))}</text>')  # fmt: skip
    first, last = points[0][0], points[-1][0]
    alt = (f"{line.title}, {first} to {last}: "
           + "; ".join(f"{p} {line.show(v) if not math.isnan(v) else 'no figure'}"
                       for p, v in points))  # fmt: skip
    svg = (
        f'<svg role="img" aria-labelledby="c{n}" viewBox="0 0 {len(points) * (width + gap)} '
        f'{height + 24}" width="100%" style="max-width:{len(points) * (width + gap)}px">'
        f'<title id="c{n}">{escape(alt)}</title>{"".join(bars)}</svg>'
    )
    rows = "".join(
        f'<tr><th scope="row">{escape(p)}</th>'
        f"<td>{escape(line.show(v)) if not math.isnan(v) else 'no figure'}</td></tr>"
        for p, v in points
    )
    table = (f'<table><caption>{escape(line.title)}: recent figures</caption><thead><tr>'
             f'<th scope="col">Period</th><th scope="col">Value</th></tr></thead>'
             f"<tbody>{rows}</tbody></table>")  # fmt: skip
    return f"<figure>{svg}</figure>{table}"


def _page(title: str, body: str, council: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        '<a class="skip-link" href="#main">Skip to main content</a>'
        f'<main id="main">{body}</main><footer><p class="muted">{escape(council)}</p></footer>'
        "</body></html>\n"
    )
