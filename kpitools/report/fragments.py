"""The CPR's sections as HTML fragments, for the notebook and the HTML report.

Every piece of text from the data (titles, comments, names) is escaped here: a comment that
holds ``<script>`` shows as text. RAG is always a symbol and a word as well as a colour, and
every table has a caption and header cells.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape

import pandas as pd

from kpitools.core.colours import SPC_COLOURS, text_colour_on
from kpitools.core.spc import (
    ASSURANCE_SHORT,
    RULE_WORDS,
    VARIATION_SHORT,
    Assurance,
    Rule,
    Variation,
)
from kpitools.core.workflow import PROMPTS
from kpitools.report.content import Cpr, MeasureLine
from kpitools.report.drafts import DRAFTED
from kpitools.report.matrix import MatrixRow
from kpitools.report.words import (
    ACTION_STATUS_WORDS,
    COMMENT_AWAITED,
    CONTRACT_LEVELS,
    POLARITY_WORDS,
    contract_cell,
    month_word,
    month_year,
    pounds,
    rag_label,
    sparkline,
)


class Fragment(str):
    """HTML that Jupyter displays as HTML (and prints as its source elsewhere)."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return str(self)


def heading(text: str, level: int = 3) -> Fragment:
    """A heading of the report (a section the notebook shows only when it has content)."""
    return Fragment(f"<h{level}>{_text(text)}</h{level}>")


def _text(value: object) -> str:
    """Escaped text, paragraphs kept (CSS ``white-space: pre-line`` shows line breaks)."""
    return escape(str(value))


REPORT_BACK_DUE = "Report back due"
# Where a page points its reader for what a section does not list (a deck names its slides).
WHATS_GOOD_PLACE = "see What's good"
EXCEPTIONS_PLACE = "see Measures needing attention"


def _drafted(text: str) -> str:
    """kpitools' drafted words, marked as such until a person writes or accepts them."""
    return f'<span class="drafted"><strong>{_text(DRAFTED.strip())}</strong> {_text(text)}</span>'


def _commentary(line: MeasureLine) -> str:
    """The Director's words on an exception: a report card of the committees' prompts
    answered (question, answer), and any free comment."""
    questions = {prompt.label: prompt.question for prompt in PROMPTS}
    card = "".join(
        f'<dt>{_text(questions.get(label, label))}</dt><dd class="comment">{_text(text)}</dd>'
        for label, text in line.commentary
        if label in questions
    )
    free = "".join(
        f'<p class="comment">{_text(text)}</p>'
        for label, text in line.commentary
        if label not in questions
    )
    return (f'<dl class="report-card">{card}</dl>' if card else "") + free


def _comment(text: str) -> str:
    """A person's comment as a paragraph (line breaks kept by CSS), or nothing."""
    return f'<p class="comment">{_text(text)}</p>' if text else ""


def rag_badge(rag: str, palette: dict[str, str]) -> str:
    fill = palette[rag]
    border = f"1px solid {_border(rag, palette)}"
    return (
        f'<span class="rag rag-{escape(rag)}" style="background:{fill};'
        f'color:{text_colour_on(fill)};border:{border}">{escape(rag_label(rag))}</span>'
    )


def _border(rag: str, palette: dict[str, str]) -> str:
    """A RAG colour for a border; 'white' is drawn in black so it stays visible."""
    return "#0B0C0C" if rag == "white" else palette[rag]


def _table_row(row: Sequence[str]) -> str:
    """A row of escaped cells, its first heading the row (the others joined in one piece: a
    chart's table has hundreds of cells)."""
    head = f'<th scope="row">{row[0]}</th>' if row else ""
    rest = "<td>" + "</td><td>".join(row[1:]) + "</td>" if len(row) > 1 else ""
    return f"<tr>{head}{rest}</tr>"


def data_table(
    caption: str, head: Sequence[str], rows: Iterable[Sequence[str]], css: str = ""
) -> str:
    """A table whose first column heads its row; cells are HTML already escaped."""
    header = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    body = "".join(map(_table_row, rows))
    caption_html = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (
        f'<table class="data {css}">{caption_html}'
        f"<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
    )


def _measure_cell(line: MeasureLine) -> str:
    return _measure_cell_of(line.title, line.measure_id)


def title(report: Cpr) -> Fragment:
    """The report's heading and who it is for."""
    people = [f"Director: {report.director}"] if report.director else []
    if report.cabinet_member:
        people.append(f"Cabinet member: {report.cabinet_member}")
    details = [report.council, *people, f"Report date {report.report_date:%d %B %Y}"]
    provisional = (
        f'<p class="provisional"><strong>{_text(report.provisional)}</strong>: the '
        f"{report.period_noun} is not over, or not all its figures are in; these are not its "
        "final figures.</p>"
        if report.provisional
        else ""
    )
    signoff = (
        f'<p class="signoff">{_text(report.signoff.text)}</p>'
        if report.signoff.approved
        else f'<p class="draft">{_text(report.signoff_text)}</p>'
    )
    return Fragment(
        f'<header class="report-header"><h1>{_text(report.title)}</h1>'
        f"<p>{' · '.join(_text(d) for d in details)}</p>{provisional}{signoff}</header>"
    )


def summary(report: Cpr) -> Fragment:
    """Slide 1: RAG counts, headline measures, successes and areas for development."""
    palette = report.palette
    counts = "".join(
        f"<li>{rag_badge(rag, palette)} <strong>{n}</strong></li>"
        for rag, n in report.counts.items()
    )
    tiles = "".join(
        f'<li class="tile" style="border-color:{_border(line.rag, palette)}">'
        f"<h4>{_text(line.title)}</h4>"
        f'<p class="tile-value">{_text(line.tile_value)}</p>'
        f"<p>{rag_badge(line.rag, palette)} {_text(line.direction_text)}</p>"
        f'<p class="muted">{_text(line.target_text)}'
        f"{' · ' + _text(line.qualifiers) if line.qualifiers else ''}</p>"
        f"{_quartile_marker(line)}</li>"
        for line in report.headlines
    )
    successes = "".join(f"<li>{_text(s)}</li>" for s in report.successes) or (
        f"<li>{_text(report.successes_none(WHATS_GOOD_PLACE))}</li>"
    )
    areas = "".join(f"<li>{_text(a)}</li>" for a in report.areas_for_development) or (
        f"<li>{_text(report.exceptions_empty)}</li>"
    )
    director = f" ({_text(report.director)})" if report.director else ""
    comment = (
        _text(report.summary_comment)
        if report.summary_comment
        else _drafted(report.summary_draft)
        if report.summary_draft
        else "Summary awaited."
    )
    return Fragment(
        '<section class="summary">'
        f'<h3>Measures by RAG rating</h3><ul class="counts">{counts}</ul>'
        f'<h3>Headline measures</h3><ul class="tiles">{tiles}</ul>'
        f'<div class="columns"><div><h3>Successes</h3><ul>{successes}</ul></div>'
        f"<div><h3>Areas for development</h3><ul>{areas}</ul></div></div>"
        f'<h3>Director\'s summary{director}</h3><p class="comment">{comment}</p>'
        "</section>"
    )


def whats_good(report: Cpr) -> Fragment:
    """Slide 2: measures on or above target, or improving."""
    palette = report.palette
    intro = (
        _comment(report.whats_good_comment)
        if report.whats_good_comment
        else f'<p class="comment">{_drafted(report.whats_good_draft)}</p>'
        if report.whats_good_draft
        else ""
    )
    if not report.whats_good:
        return Fragment(
            intro
            + f"<p>{_text(report.whats_good_none(EXCEPTIONS_PLACE))}</p>"
            + _context(report, report.closest_to_target, "Closest to target")
        )
    rows = [
        (
            _measure_cell(line),
            _text(POLARITY_WORDS[line.polarity]),
            _text(line.value_text),
            _text(line.target_text),
            rag_badge(line.rag, palette),
            _text(line.direction_text),
            f'<span aria-hidden="true">{_text(sparkline([v for _, v in line.trend]))}</span>'
            f'<span class="visually-hidden">{_text(_trend_words(line))}</span>',
        )
        for line in report.whats_good
    ]
    more = f"<p>{_text(report.whats_good_more_text)}</p>" if report.whats_good_more else ""
    return Fragment(
        intro
        + data_table(
            report.whats_good_caption,
            ["Measure", "Polarity", "Value", "Target", "RAG", "Direction", "Trend"],
            rows,
        )
        + more
    )


def _trend_words(line: MeasureLine) -> str:
    values = [(p, v) for p, v in line.trend if not math.isnan(v)]
    if len(values) < 2:
        return "Not enough quarters for a trend."
    return ", ".join(f"{p}: {line.show(v)}" for p, v in values)


def _months(line: MeasureLine, palette: dict[str, str]) -> str:
    """Each month's RAG, so a failed month is never hidden inside its quarter."""
    items = "".join(
        f"<li>{_text(month_word(month))} {rag_badge(rag, palette)}</li>"
        for month, rag in line.months
    )
    return f'<ul class="months">{items}</ul>'


def _spc_paragraph(line: MeasureLine) -> str:
    """Real change or noise: the exception's variation and assurance, with the rules."""
    if not line.variation:
        return ""
    words = [RULE_WORDS[Rule(r)] for r in line.spc_rules] or ["no special cause"]
    if line.assurance:
        words.append(line.assurance_text.lower())
    return (
        f"<p><strong>Real change or noise (SPC):</strong> "
        f"{variation_badge(line.variation, line.spc_side)}: {_text('; '.join(words))}.</p>"
    )


def exceptions(report: Cpr) -> Fragment:
    """Slide 3: every exception measure with the Director's comment."""
    palette = report.palette
    if not report.exceptions:
        return Fragment(
            f"<p>{_text(report.exceptions_empty)}</p>"
            + _context(report, report.nearest_margin, "On target by the smallest margin")
        )
    items = []
    for line in report.exceptions:
        comment = (
            _commentary(line)
            + (f'<p class="muted">{_text(line.comment_author)}</p>' if line.comment_author else "")
            if line.comment
            else f'<p class="comment">{_drafted(line.draft)}</p>'
            if line.draft
            else f'<p class="comment awaited">{COMMENT_AWAITED}</p>'
        )
        decisions = "".join(
            f"<li>{_text(decision.text)}"
            + (f" <strong>{REPORT_BACK_DUE}</strong>" if decision.due(report.report_date) else "")
            + "</li>"
            for decision in line.decisions
        )
        head = ["Value", "Target", "Variance", "RAG", "Direction"]
        cells = [
            _text(line.value_text),
            _text(line.target_text),
            _text(line.variance_text),
            rag_badge(line.rag, palette),
            _text(line.direction_text),
        ]
        if line.months:
            head.append("By month")
            cells.append(_months(line, palette))
        facts = data_table(
            f"{line.title}: figures for {report.period_words}", head, [cells], css="facts"
        )
        items.append(
            f'<article class="exception"><h3>{_text(line.title)} '
            f'<span class="muted">({_text(line.measure_id)})</span></h3>{facts}'
            f"<p><strong>Why it is an exception:</strong> {_text(line.reason_text)}</p>"
            + _spc_paragraph(line)
            + (
                f"<p><strong>Forecast:</strong> {_text(line.back_on_track)} "
                f"({_text(line.forecast_method)}; a forecast, not a commitment).</p>"
                if line.back_on_track
                else ""
            )
            + (
                f"<p><strong>About the figures:</strong> {_text(line.data_text)}</p>"
                if line.data_text
                else ""
            )
            + f"<h4>Director's comment</h4>{comment}"
            + (f"<h4>Committee follow-up</h4><ul>{decisions}</ul>" if decisions else "")
            + "</article>"
        )
    return Fragment("".join(items))


def improvement_plan(report: Cpr) -> Fragment:
    """Slide 4: the approach and the actions, overdue ones marked."""
    intro = _comment(report.approach_comment)
    if not report.actions and not report.decisions:
        context = (
            _context(report, report.without_action, "Exceptions with no improvement action")
            if report.without_action
            else _context(report, report.nearest_margin, "On target by the smallest margin")
        )
        return Fragment(
            intro + "<p>No improvement actions recorded for this service.</p>" + context
        )
    rows = [
        (
            _text(action.action_id),
            _text(action.action)
            + (f'<br><span class="muted">{_text(action.note)}</span>' if action.note else ""),
            _text(action.owner),
            _text(f"{action.due:%d %b %Y}" if action.due else "–"),
            f'<strong class="overdue">{ACTION_STATUS_WORDS["overdue"]}</strong>'
            if action.overdue
            else _text(ACTION_STATUS_WORDS[action.status]),
            _text(" ".join(action.measures) or "–"),
        )
        for action in report.actions
    ] + [
        (
            "Committee",
            _text(decision.text),
            _text(decision.committee or "Committee"),
            _text(f"{decision.report_back:%d %b %Y}" if decision.report_back else "–"),
            f'<strong class="overdue">{REPORT_BACK_DUE}</strong>'
            if decision.due(report.report_date)
            else "Open",
            _text(decision.measure_id),
        )
        for decision in report.decisions
    ]
    return Fragment(
        intro
        + data_table(
            f"Improvement actions for {report.service}",
            ["Ref", "Action", "Owner", "Due", "Status", "Measures"],
            rows,
        )
    )


def scorecard(report: Cpr) -> Fragment:
    """Every measure of the service for the period, monitored-only ones included, grouped by
    the council's categories in order (a category with no measures yet: to be confirmed)."""
    palette = report.palette
    head = ["Measure", "Period", "Value", "Target", "Variance", "RAG", "Direction",
            "Exception", "Comment and notes"]  # fmt: skip
    parts = []
    for category in report.categories:
        lines = report.in_category(category)
        parts.append(f"<h3>{_text(category)}</h3>")
        if not lines:
            parts.append("<p>To be confirmed: no measures in this category yet.</p>")
            continue
        rows = []
        for line in lines:
            period = f"{line.value_period}, latest available" if line.earlier else line.period
            notes = "; ".join(
                x
                for x in (line.comment, line.data_text, "" if line.include else "monitored only")
                if x
            )
            rows.append(
                (
                    _measure_cell(line),
                    _text(period),
                    _text(line.value_text),
                    _text(line.target_text if line.has_target else "–"),
                    _text(line.variance_text),
                    rag_badge(line.rag, palette),
                    _text(line.direction_text),
                    _text(", ".join(r.replace("_", " ") for r in line.reasons) or "–"),
                    _text(notes or "–"),
                )
            )
        parts.append(
            data_table(
                f"{category}: full scorecard for {report.service}, {report.period_words}",
                head,
                rows,
                css="scorecard",
            )
        )
    return Fragment("".join(parts))


def _context(report: Cpr, lines: tuple[MeasureLine, ...], caption: str) -> str:
    """What an empty section shows instead of a lone sentence."""
    if not lines:
        return ""
    rows = [
        (
            _measure_cell(line),
            _text(line.value_text),
            _text(line.target_text),
            _text(line.variance_text),
            rag_badge(line.rag, report.palette),
            _text(line.direction_text),
        )
        for line in lines
    ]
    return data_table(
        f"{caption}, {report.period_words}",
        ["Measure", "Value", "Target", "Variance", "RAG", "Direction"],
        rows,
    )


def changes(report: Cpr) -> Fragment:
    """The section on figures restated since the report was last published: its heading
    and a table, or nothing when no figure changed."""
    if not report.changes:
        return Fragment("")
    rows = [
        (_measure_cell(line), _text(line.restatement), rag_badge(line.rag, report.palette))
        for line in report.changes
    ]
    return Fragment(
        "<h2>Changes since the last report</h2>"
        + data_table(
            f"Figures restated since {report.service}'s report for {report.period_words} was "
            "last published",
            ["Measure", "What changed", "RAG now"],
            rows,
        )
    )


def data_notes(report: Cpr) -> Fragment:
    """Where the quarter's data is late, missing, provisional or restated, and the notes that
    came with the figures; a quarter is said to be complete only when nothing is."""
    notes = ([report.provisional] if report.provisional else []) + list(report.data_notes)
    if not notes:
        return Fragment("<p>Every figure for the quarter was supplied in full, with no notes.</p>")
    items = "".join(f"<li>{_text(note)}</li>" for note in notes)
    return Fragment(f"<ul>{items}</ul>")


#: A symbol for each side of a special cause and for common cause (never colour alone).
SIDE_SYMBOLS = {"high": "▲", "low": "▼", "": "●"}
ASSURANCE_SYMBOLS = {"consistently_met": "✓", "consistently_missed": "✗", "hit_and_miss": "?"}


def variation_badge(variation: str, side: str) -> str:
    """The variation as symbol and words in its Making Data Count colour."""
    if not variation:
        return '<span class="muted">– no figure</span>'
    words = VARIATION_SHORT[Variation(variation)]
    if side and variation != "common_cause":
        words += f" ({side})"
    symbol = SIDE_SYMBOLS[side if variation != "common_cause" else ""]
    return (
        f'<span class="spc" style="color:{SPC_COLOURS[variation]}">'
        f'<span aria-hidden="true">{symbol}</span> {escape(words)}</span>'
    )


def assurance_badge(assurance: str) -> str:
    """The assurance as symbol and words; a dash where there is none."""
    if not assurance:
        return '<span class="muted">– none</span>'
    symbol = ASSURANCE_SYMBOLS[assurance]
    return (
        f'<span class="spc"><span aria-hidden="true">{symbol}</span> '
        f"{escape(ASSURANCE_SHORT[Assurance(assurance)])}</span>"
    )


def matrix_table(
    rows: Sequence[MatrixRow], palette: dict[str, str], caption: str, with_service: bool = False
) -> str:
    """The SPC summary matrix: one row per measure, what needs attention first."""
    head = ["Measure", *(["Service"] if with_service else []), "Latest value", "RAG",
            "Variation", "Assurance"]  # fmt: skip
    body = [
        (
            _measure_cell_of(row.title, row.measure_id),
            *([_text(row.service)] if with_service else []),
            f'{_text(row.value)}<br><span class="muted">{_text(row.period)}</span>',
            rag_badge(row.rag, palette),
            variation_badge(row.variation, row.side),
            assurance_badge(row.assurance),
        )
        for row in rows
    ]
    return data_table(caption, head, body, css="matrix")


MATRIX_KEY = (
    "Variation: is the latest figure a real change or noise (statistical process control, "
    "XmR chart)? ▲/▼ special cause, high or low: improvement or concern by the measure's "
    "polarity; ● common cause: no signal. Assurance: can the target be relied on? ✓ the "
    "process limits all meet it, ✗ they all miss it, ? hit and miss; – no target, no "
    "direction or fewer than 13 points."
)


def spc_matrix(report: Cpr) -> Fragment:
    """Every measure of the service on one page: variation and assurance beside RAG and the
    latest value, what needs attention first."""
    table = matrix_table(
        report.matrix,
        report.palette,
        f"Summary matrix for {report.service}, {report.period_words}: what needs attention first",
    )
    return Fragment(f'{table}<p class="muted">{escape(MATRIX_KEY)}</p>')


def _quartile_marker(line: MeasureLine) -> str:
    """A headline tile's benchmark: its quartile among the first peer group that has one."""
    position = line.headline_benchmark
    if position is None:
        return ""
    return (
        f'<p class="quartile"><strong>Quartile {position.quartile}</strong> of '
        f"{_text(position.peer_group)}, {_text(position.period)} (1 is best)</p>"
    )


BENCHMARK_KEY = (
    "Rank 1 is the best value among the council and the peers that reported, by the measure's "
    "polarity; quartile 1 is the best quarter of them, quartile 4 the worst."
)


def benchmarks(report: Cpr) -> Fragment:
    """How the service's measures compare with similar councils: each measure's latest
    benchmark per peer group, missing or partial peer data said."""
    rows = []
    for line in report.all_lines:
        for p in line.benchmarks:
            rows.append(
                (
                    _measure_cell(line),
                    _text(p.peer_group),
                    _text(p.period),
                    _text(line.show(p.value) or "no figure"),
                    _text(line.show(p.peer_median) or "–"),
                    _text(f"{p.rank} of {p.ranked}" if p.rank else "–"),
                    f"<strong>{p.quartile}</strong>" if p.quartile else "–",
                    _text(f"{p.peers} of {p.peers_in_group}"),
                    _text(p.note or "–"),
                )
            )
    if not rows:
        return Fragment(
            f"<p>No benchmarks are held for {_text(report.service)}'s measures "
            "(benchmarks.csv).</p>"
        )
    table = data_table(
        f"Benchmarks for {report.service}: the latest peer comparison by {report.period_words}",
        ["Measure", "Peer group", "Period", "Our value", "Peer median", "Rank", "Quartile",
         "Peers reported", "Notes"],
        rows,
    )  # fmt: skip
    return Fragment(f'{table}<p class="muted">{escape(BENCHMARK_KEY)}</p>')


CONTRACT_KEY = (
    "A KPI below its TSL (at MSL only, or below MSL) or with no figure attracts its abatement "
    "points: x1.5 in the second consecutive month, x2 from the third. A mitigated month "
    "attracts none and ends the run; a pending month is judged when its figure comes."
)


def contract(report: Cpr) -> Fragment:
    """Contract performance: each contract KPI's months in the period with its points, and
    the monthly summary (KPIs at each level, points, service credit) for the last year."""
    c = report.contract
    if c is None:
        return Fragment("")
    credit = (
        f", {pounds(c.credit)} in service credits at {pounds(c.credit_per_point)} a point"
        if c.credit_per_point
        else " (no service credit rate is set for this service)"
    )
    lead = (
        f"<p>{_text(report.period_words)}: <strong>{c.abatement:,.0f} abatement points</strong>"
        f"{_text(credit)}.</p>"
    )
    head = ["KPI", "Points", *(month_word(m) for m in c.period_months), "Period points"]
    kpi_rows = [
        (
            _measure_cell_of(k.title, k.measure_id),
            f"{k.points:,.0f}",
            *(_text(contract_cell(level, factor, points)) for _, level, factor, points in k.months),
            f"<strong>{k.abatement:,.0f}</strong>",
        )
        for k in c.kpis
    ]
    kpis = data_table(
        f"Abatement points by contract KPI, {report.period_words}", head, kpi_rows, css="contract"
    )
    levels = list(CONTRACT_LEVELS)
    month_rows = [
        (
            _text(month_year(m.month)),
            *(str(getattr(m, level)) for level in levels),
            f"{m.abatement:,.0f}",
            _text(pounds(m.credit)) if c.credit_per_point else "–",
        )
        for m in c.months
    ]
    summary = data_table(
        f"Contract summary by month for {report.service}: KPIs at each level, abatement "
        "points and service credit",
        ["Month", *(CONTRACT_LEVELS[level][1] for level in levels), "Abatement points",
         "Service credit"],
        month_rows,
    )  # fmt: skip
    return Fragment(f'{lead}{kpis}{summary}<p class="muted">{escape(CONTRACT_KEY)}</p>')


def _measure_cell_of(title: str, measure_id: str) -> str:
    """A measure's title with its id beneath, muted."""
    return f'{_text(title)}<br><span class="muted">{_text(measure_id)}</span>'


def target_review(report: Cpr) -> Fragment:
    """Targets to look at again: beaten by a wide margin quarter after quarter (consider a
    more ambitious target), or missed quarter after quarter (review the target, the measure
    or the resources)."""
    if not report.target_reviews:
        return Fragment(
            "<p>No target has been beaten by a wide margin, or missed, for "
            f"{report.config.target_review_quarters} quarters running.</p>"
        )
    rows = [
        (
            _measure_cell(line),
            f"<strong>{_text(line.target_review.split(': ', 1)[0])}</strong>",
            _text(line.target_review.split(": ", 1)[1]),
            _text(line.value_text),
            _text(line.target_text),
        )
        for line in report.target_reviews
    ]
    return Fragment(
        data_table(
            f"Targets to review for {report.service}, {report.period_words}",
            ["Measure", "Flag", "Why", "Latest value", "Target"],
            rows,
        )
    )


def frame_table(frame: pd.DataFrame, caption: str) -> Fragment:
    """A DataFrame as an accessible table: a caption, header cells, its first column heading
    each row, every value escaped (numbers to six significant figures, '–' for none)."""
    head = [str(c) for c in frame.columns]
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    return Fragment(data_table(caption, head, rows))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else escape(f"{value:,.6g}")
    if value is None or value is pd.NA:
        return "–"
    return escape(str(value))
