"""The board pack: every service's CPR in one deck (and one HTML page) for the boards.

Management Board, Leadership Board and Scrutiny get one pack: a cover, a corporate summary
(every service's RAG counts and exceptions, with the movement since the quarter before and
where each report stands in sign-off), a month-by-measure RAG dashboard like the committees'
own (measures in rows, the last 13 months as columns, RAG as colour and symbol), then each
service's CPR slides after a section heading. Each service's slides are built from the same
:class:`~kpitools.report.content.Cpr` as its own deck.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

import pandas as pd
from pptx.slide import Slide

from kpitools.core.dataset import Dataset
from kpitools.core.model import RAG
from kpitools.core.naming import PACK_NAME
from kpitools.core.periods import Granularity
from kpitools.core.scorecard import rate
from kpitools.report.content import Cpr
from kpitools.report.deck import (
    Cell,
    Column,
    DeckBuilder,
    TableSlide,
    _add_text,
    add_table_slides,
    saved_bytes,
    set_properties,
)
from kpitools.report.styles import report_css
from kpitools.report.words import POLARITY_WORDS, RAG_SYMBOLS, period_words, rag_label

DASHBOARD_MONTHS = 13
AUDIENCE = "Management Board · Leadership Board · Scrutiny"


@dataclass(frozen=True)
class PackService:
    """One service in the pack."""

    report: Cpr
    previous: dict[str, int] | None  # the quarter before's RAG counts; None without one
    previous_label: str
    signoff: str  # where the report stands, in words


@dataclass(frozen=True)
class DashboardRow:
    service: str
    measure_id: str
    title: str
    target: str
    polarity: str
    cells: tuple[str, ...]  # the RAG for each month of ``BoardPack.months`` ('' if none)


@dataclass(frozen=True)
class BoardPack:
    council: str
    period: str
    period_words: str
    report_date: dt.date
    services: tuple[PackService, ...]
    left_out: tuple[tuple[str, str], ...]  # (service, why) not in the pack
    months: tuple[str, ...]  # labels of the dashboard's months, oldest first
    dashboard: tuple[DashboardRow, ...]

    @property
    def title(self) -> str:
        return f"{self.council}: Corporate Performance Report, {self.period_words}"


def build_pack(
    dataset: Dataset,
    period: str,
    reports: list[Cpr],
    signoffs: dict[str, str],
    left_out: tuple[tuple[str, str], ...] = (),
) -> BoardPack:
    """The pack's content for ``period`` from the services' built reports."""
    calendar = dataset.calendar
    current = calendar.parse(period)
    last = calendar.last_month(current)
    months = list(pd.period_range(last - DASHBOARD_MONTHS + 1, last, freq="M"))
    services = [r.service for r in reports]
    previous_counts, previous_label = _previous(dataset, current, services)
    rated = rate(dataset, by=Granularity.MONTH, services=services, spc=False) if services else None
    where: dict[tuple[str, pd.Period], str] = {}
    if rated is not None:
        for measure_id, label, rag in zip(
            rated["measure_id"], rated["period"], rated["rag"], strict=True
        ):
            end = calendar.last_month(calendar.parse(label))
            if months[0] <= end <= last:
                where[(str(measure_id), end)] = str(rag)
    rows = []
    for report in reports:
        for line in report.all_lines:
            rows.append(
                DashboardRow(
                    service=report.service,
                    measure_id=line.measure_id,
                    title=line.title,
                    target=line.target_text.removeprefix("Target "),
                    polarity=POLARITY_WORDS.get(line.polarity, line.polarity),
                    cells=tuple(where.get((line.measure_id, m), "") for m in months),
                )
            )
    first = reports[0] if reports else None
    return BoardPack(
        council=dataset.config.council,
        period=period,
        period_words=period_words(period),
        report_date=first.report_date if first else last.end_time.date(),
        services=tuple(
            PackService(
                r,
                previous_counts.get(r.service),
                previous_label,
                signoffs.get(r.service, r.signoff_text),
            )
            for r in reports
        ),
        left_out=left_out,
        months=tuple(m.strftime("%b %y") for m in months),
        dashboard=tuple(rows),
    )


def _previous(
    dataset: Dataset, current: pd.Period, services: list[str]
) -> tuple[dict[str, dict[str, int]], str]:
    """Each service's RAG counts for the period before (same length), and its label."""
    calendar = dataset.calendar
    before = current - 1
    label = calendar.label(before)
    if not services or not dataset.covers(before):
        return {}, label
    rows = rate(dataset, period=label, services=services, carry_forward=True)
    rows = rows[rows["include"]]
    counts = {
        str(service): {rag.value: int((group["rag"] == rag.value).sum()) for rag in RAG}
        for service, group in rows.groupby("service", sort=False)
    }
    return counts, label


def movement(service: PackService) -> str:
    """``red 3 → 2, green 4 → 6`` against the quarter before; '' without one."""
    if service.previous is None:
        return "–"
    now = service.report.counts
    parts = [
        f"{rag} {service.previous.get(rag, 0)} → {now.get(rag, 0)}"
        for rag in ("red", "amber", "green")
        if service.previous.get(rag, 0) != now.get(rag, 0)
    ]
    return ", ".join(parts) or "no change"


# -- the deck --------------------------------------------------------------------------------
SUMMARY_COLUMNS = (
    [Column("Service", 2.3, 10)]
    + [Column(rag_label(r.value), 0.78, 9) for r in RAG]
    + [
        Column("Exceptions", 0.95, 10),
        Column("Since last quarter", 2.1, 9),
        Column("Sign-off", 2.42, 9),
    ]
)


def _month_columns(pack: BoardPack) -> list[Column]:
    width = 0.5
    return [
        Column("Measure", 3.05, 8),
        Column("Target", 0.95, 8),
        Column("Polarity", 0.92, 8),
        *(Column(m, width, 7) for m in pack.months),
    ]


def pack_deck_bytes(pack: BoardPack) -> bytes:
    """The board pack as a saved deck, byte-identical for the same pack."""
    if not pack.services:
        raise ValueError("a board pack needs at least one service's report")
    config = pack.services[0].report.config
    builder = DeckBuilder(config)
    builder.report = pack.services[0].report
    _cover(builder, pack)
    _summary(builder, pack)
    _dashboard(builder, pack)
    for number, service in enumerate(pack.services, start=1):
        _section(builder, pack, service, number)
        builder.add_cpr(service.report, pack=f"{PACK_NAME.replace('-', ' ').title()}")
    set_properties(builder.prs, f"{pack.title}: board pack", pack.council,
                   f"Board pack {pack.period_words}", "CPR; board pack; performance",
                   pack.report_date)  # fmt: skip
    return saved_bytes(builder.prs, dt.datetime.combine(pack.report_date, dt.time(0, 0)))


def _cover(builder: DeckBuilder, pack: BoardPack) -> None:
    frame = builder.frame
    slide = builder.new_slide(pack.title)
    approved = sum(1 for s in pack.services if s.report.signoff.approved)
    lines: list[tuple[str, float, dict[str, object]]] = [
        (f"Board pack for {AUDIENCE}", 20, {"bold": True}),
        (f"Report date {pack.report_date:%-d %B %Y}", 14, {}),
        (
            f"{len(pack.services)} services; {approved} of {len(pack.services)} reports approved "
            "by their Directors",
            14,
            {},
        ),
        ("Contents: corporate summary; RAG dashboard by month; each service's report.", 12, {}),
    ]
    if pack.left_out:
        names = "; ".join(f"{s} ({why})" for s, why in pack.left_out)
        lines.append((f"Not in this pack: {names}", 12, {}))
    _add_text(slide, frame, (frame.left, frame.top + 0.4, frame.width, 4.5), lines)
    _footer(builder, slide, pack)


def _summary(builder: DeckBuilder, pack: BoardPack) -> None:
    first = len(builder.prs.slides)
    rows: list[list[Cell]] = []
    for service in pack.services:
        counts = service.report.counts
        cells: list[Cell] = [(service.report.service, {})]
        for rag in RAG:
            n = counts.get(rag.value, 0)
            cells.append((str(n), builder.rag_fill(rag.value) if n else {}))
        cells += [
            (str(len(service.report.exceptions)), {}),
            (movement(service), {}),
            (service.signoff, {}),
        ]
        rows.append(cells)
    previous = pack.services[0].previous_label if pack.services else ""
    add_table_slides(
        builder,
        TableSlide(
            title=f"Corporate summary, {pack.period_words}",
            columns=SUMMARY_COLUMNS,
            rows=rows,
            describe=lambda a, b, n: (
                f"Table of services {a} to {b} of {n}: measures by RAG rating, exceptions, "
                f"the change in RAG counts since {previous} and sign-off."
            ),
            empty="No service reports in this pack.",
            continued=True,
        ),
    )
    for slide in list(builder.prs.slides)[first:]:
        _footer(builder, slide, pack)


def _dashboard(builder: DeckBuilder, pack: BoardPack) -> None:
    first = len(builder.prs.slides)
    rows: list[list[Cell]] = []
    current = ""
    for row in pack.dashboard:
        if row.service != current:
            current = row.service
            rows.append(
                [(row.service, {"bold": True, "span": True, "fill": "#E8EAEB"})]
                + [("", {}) for _ in range(2 + len(pack.months))]
            )
        cells: list[Cell] = [
            (f"{row.title} ({row.measure_id})", {}),
            (row.target, {}),
            (row.polarity, {}),
        ]
        for rag in row.cells:
            cells.append((RAG_SYMBOLS.get(rag, ""), builder.rag_fill(rag)) if rag else ("–", {}))
        rows.append(cells)
    legend = " · ".join(rag_label(r.value) for r in RAG)
    add_table_slides(
        builder,
        TableSlide(
            title=f"RAG by month, {pack.months[0]} to {pack.months[-1]}",
            columns=_month_columns(pack),
            rows=rows,
            describe=lambda a, b, n: (
                f"Table of measures {a} to {b} of {n}: target, polarity and RAG rating for each "
                f"month from {pack.months[0]} to {pack.months[-1]}, as symbol and colour "
                f"({legend}); a dash where a measure has no figure of its own that month."
            ),
            empty="No measures.",
            continued=True,
        ),
    )
    for slide in list(builder.prs.slides)[first:]:
        _footer(builder, slide, pack, f"Key: {legend}; – no figure that month")


def _section(builder: DeckBuilder, pack: BoardPack, service: PackService, number: int) -> None:
    frame = builder.frame
    report = service.report
    slide = builder.new_slide(f"{number}. {report.service}")
    people = [
        p
        for p in (
            f"Director: {report.director}" if report.director else "",
            f"Cabinet member: {report.cabinet_member}" if report.cabinet_member else "",
        )
        if p
    ]
    lines: list[tuple[str, float, dict[str, object]]] = [
        (" · ".join(people) or report.service, 16, {}),
        (service.signoff, 14, {}),
    ]
    if report.provisional:
        lines.append((report.provisional, 14, {"bold": True}))
    _add_text(slide, frame, (frame.left, frame.top + 0.4, frame.width, 3), lines)
    _footer(builder, slide, pack)


def _footer(builder: DeckBuilder, slide: Slide, pack: BoardPack, extra: str = "") -> None:
    frame = builder.frame
    text = f"{pack.council} · Board pack {pack.period_words} · Report date " + (
        f"{pack.report_date:%d %B %Y}" + (f" · {extra}" if extra else "")
    )
    _add_text(
        slide,
        frame,
        (frame.left, 6.98, frame.width, 0.36),
        [(text, 9, {"colour": "#505A5F"})],
    )


# -- the HTML page ---------------------------------------------------------------------------
def pack_html(pack: BoardPack, links: dict[str, str]) -> str:
    """The board pack as one accessible page: the summary and dashboard as tables, then each
    service's report (its sections as the HTML report has them), ``links`` to each service's
    own report (service -> relative URL)."""
    from kpitools.report import fragments

    palette = pack.services[0].report.palette if pack.services else {}
    head = "".join(f'<th scope="col">{fragments.rag_badge(r.value, palette)}</th>' for r in RAG)
    body = []
    for s in pack.services:
        counts = "".join(f"<td>{s.report.counts.get(r.value, 0)}</td>" for r in RAG)
        name = escape(s.report.service)
        link = links.get(s.report.service)
        cell = f'<a href="{escape(link)}">{name}</a>' if link else name
        body.append(
            f'<tr><th scope="row">{cell}</th>{counts}'
            f"<td>{len(s.report.exceptions)}</td><td>{escape(movement(s))}</td>"
            f"<td>{escape(s.signoff)}</td></tr>"
        )
    previous = pack.services[0].previous_label if pack.services else ""
    summary = (
        f'<table class="data"><caption>Measures by RAG rating, exceptions, the change since '
        f"{escape(previous)} and sign-off, by service, {escape(pack.period_words)}</caption>"
        f'<thead><tr><th scope="col">Service</th>{head}<th scope="col">Exceptions</th>'
        f'<th scope="col">Since last quarter</th><th scope="col">Sign-off</th></tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
    month_head = "".join(f'<th scope="col">{escape(m)}</th>' for m in pack.months)
    lines = []
    current = ""
    for row in pack.dashboard:
        if row.service != current:
            current = row.service
            lines.append(
                f'<tr><th scope="rowgroup" colspan="{3 + len(pack.months)}">'
                f"{escape(row.service)}</th></tr>"
            )
        cells = "".join(
            f"<td>{fragments.rag_badge(rag, palette)}</td>" if rag else "<td>–</td>"
            for rag in row.cells
        )
        lines.append(
            f'<tr><th scope="row">{escape(row.title)} '
            f'<span class="muted">({escape(row.measure_id)})</span></th>'
            f"<td>{escape(row.target)}</td><td>{escape(row.polarity)}</td>{cells}</tr>"
        )
    dashboard = (
        f'<div class="scroll" tabindex="0" role="region" aria-label="RAG by month">'
        f'<table class="data dashboard"><caption>RAG rating by month, {escape(pack.months[0])}'
        f" to {escape(pack.months[-1])}, every measure (a dash: no figure of its own that "
        f'month)</caption><thead><tr><th scope="col">Measure</th><th scope="col">Target</th>'
        f'<th scope="col">Polarity</th>{month_head}</tr></thead>'
        f"<tbody>{''.join(lines)}</tbody></table></div>"
    )
    sections = []
    for number, s in enumerate(pack.services, start=1):
        report = s.report
        people = [
            f"Director: {report.director}" if report.director else "",
            f"Cabinet member: {report.cabinet_member}" if report.cabinet_member else "",
            s.signoff,
            report.provisional,
        ]
        lead = " · ".join(escape(p) for p in people if p)
        sections.append(
            f'<section aria-labelledby="service-{number}"><h2 id="service-{number}">{number}. '
            f"{escape(report.service)}</h2><p>{lead}</p>"
            f"<h3>At a glance</h3>{fragments.summary(report)}"
            f"<h3>What's good</h3>{fragments.whats_good(report)}"
            f"<h3>Measures needing attention</h3>{fragments.exceptions(report)}"
            f"<h3>Performance improvement plan</h3>{fragments.improvement_plan(report)}"
            "</section>"
        )
    left = (
        "<p>Not in this pack: "
        + "; ".join(f"{escape(s)} ({escape(w)})" for s, w in pack.left_out)
        + "</p>"
        if pack.left_out
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(pack.title)}: board pack</title>"
        f"<style>{report_css()}</style></head><body>"
        '<a class="skip-link" href="#main">Skip to main content</a><main id="main">'
        f"<h1>{escape(pack.title)}</h1><p>Board pack for {escape(AUDIENCE)} · Report date "
        f"{pack.report_date:%-d %B %Y}</p>{left}"
        f"<h2>Corporate summary</h2>{summary}<h2>RAG by month</h2>{dashboard}"
        f"{''.join(sections)}</main><footer><p>{escape(pack.council)} · Board pack "
        f"{escape(pack.period_words)}</p></footer></body></html>\n"
    )
