"""Interactive charts for the notebook and the HTML report (plotly).

Pure: report content in, a :class:`Chart` out. A chart shows as a native plotly chart in
JupyterLab and as a ``<figure>`` in the HTML report, with fixed element ids (reproducible
output), no plotly.js of its own (the report embeds it once) and a text alternative: a caption
and the chart's data as a table.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from kpitools.core.benchmarks import Position
from kpitools.core.colours import BLACK, SPC_COLOURS
from kpitools.core.spc import VARIATION_SHORT, Variation
from kpitools.report.content import Cpr, MeasureLine
from kpitools.report.fragments import data_table
from kpitools.report.words import CONTRACT_LEVELS, mid_sentence, month_year, pounds, rag_label

FONT = "Arial, Helvetica, sans-serif"
PLOTLY_CONFIG = {"displayModeBar": False, "responsive": True}


@dataclass(frozen=True)
class Chart:
    """A figure (a plain plotly figure dict) with its text alternative."""

    figure: dict[str, Any]
    chart_id: str
    caption: str
    table_head: tuple[str, ...]
    table_rows: tuple[tuple[str, ...], ...]

    def to_html(self) -> str:
        """The chart as an accessible ``<figure>`` (plotly.js must be on the page)."""
        div = plot_div(self.figure, self.chart_id)
        table = data_table("", self.table_head, _escaped(self.table_rows))
        caption_id = f"{self.chart_id}-caption"
        return (
            f'<figure class="chart" aria-labelledby="{caption_id}">'
            f'<figcaption id="{caption_id}">{html.escape(self.caption)}</figcaption>'
            f'<div class="chart-plot" aria-hidden="true">{div}</div>'
            f"<details><summary>Chart data as a table</summary>"
            f"{table}"
            f"</details></figure>"
        )

    def to_figure(self) -> Any:
        """The chart as a ``plotly.graph_objects.Figure``, for an analyst to restyle."""
        import plotly.graph_objects as go

        return go.Figure(self.figure)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "application/vnd.plotly.v1+json": {**self.figure, "config": PLOTLY_CONFIG},
            "text/html": self.to_html(),
            "text/plain": self.caption,
        }


def _escaped(rows: tuple[tuple[str, ...], ...]) -> list[list[str]]:
    """Each cell escaped for HTML, all in one pass (an XmR chart's table has hundreds)."""
    cells = [cell for row in rows for cell in row]
    text = "\x00".join(cells)
    if not cells or text.count("\x00") != len(cells) - 1:  # none, or a cell holds the mark
        return [[html.escape(cell) for cell in row] for row in rows]
    escaped = iter(html.escape(text).split("\x00"))
    return [[next(escaped) for _ in row] for row in rows]


_SCRIPT_SAFE = (("<", "\\u003c"), (">", "\\u003e"), ("/", "\\u002f"))
_CONFIG_JSON = json.dumps(PLOTLY_CONFIG)


def plot_div(figure: dict[str, Any], div_id: str) -> str:
    """A figure as the ``<div>`` and script that draw it with the page's plotly.js: what
    ``plotly.io.to_html(figure, full_html=False, include_plotlyjs=False, div_id=div_id,
    config=PLOTLY_CONFIG)`` writes with plotly's standard-library JSON engine (tested), the
    same bytes whichever JSON engine plotly would pick on the machine, in a fraction of the
    time."""
    layout = figure.get("layout", {})
    height, width = (_css_size(layout.get(side)) for side in ("height", "width"))
    data, layout_json = _script_json(figure.get("data", [])), _script_json(layout)
    return (
        f'<div style="height:{height}; width:{width};">                            '
        f'<div id="{div_id}" class="plotly-graph-div" style="height:100%; width:100%;"></div>'
        "            <script>                window.PLOTLYENV=window.PLOTLYENV || {};"
        f'                                if (document.getElementById("{div_id}")) {{'
        f'                    Plotly.newPlot(                        "{div_id}",'
        f"                        {data},                        {layout_json},"
        f"                        {_CONFIG_JSON}                    )                }};"
        "            </script>        </div>"
    )


def _css_size(value: Any) -> str:
    """A layout's height or width for the div: a number in pixels, a CSS size as it is, the
    whole of the space by default."""
    if value is None:
        return "100%"
    try:
        float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{value}px"


def _plotly_default(value: Any) -> Any:
    """What plotly's JSON encoder makes of a value JSON has no type for (numpy, dates)."""
    from _plotly_utils.utils import PlotlyJSONEncoder  # type: ignore[import-untyped]

    return PlotlyJSONEncoder().default(value)


def _script_json(value: Any) -> str:
    """JSON as plotly writes it into a page's script: compact, ASCII, NaN and infinities as
    null, and ``<``, ``>`` and ``/`` escaped (no ``</script>`` can end the script)."""
    text = json.dumps(value, separators=(",", ":"), default=_plotly_default)
    if "NaN" in text or "Infinity" in text:
        strict = json.loads(text, parse_constant=lambda constant: None)
        text = json.dumps(strict, separators=(",", ":"))
    for unsafe, safe in _SCRIPT_SAFE:
        text = text.replace(unsafe, safe)
    return text


_AXIS = {
    "showline": True,
    "linecolor": BLACK,
    "ticks": "outside",
    "tickcolor": BLACK,
    "showgrid": False,
    "zeroline": False,
    "automargin": True,
}


def _layout(height: int, **axes: Any) -> dict[str, Any]:
    """Plain, high-contrast styling written out (no template), so specs stay small."""
    return {
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
        "font": {"family": FONT, "size": 14, "color": BLACK},
        "paper_bgcolor": "#FFFFFF",
        "plot_bgcolor": "#FFFFFF",
        "showlegend": False,
        "xaxis": {**_AXIS, **axes.get("xaxis", {})},
        "yaxis": {**_AXIS, **axes.get("yaxis", {})},
        "hoverlabel": {"font": {"family": FONT}},
        **{k: v for k, v in axes.items() if k not in ("xaxis", "yaxis")},
    }


def _value_axis(line: MeasureLine) -> dict[str, Any]:
    """The value axis in the measure's unit and scale: ``80%``, ``£110k``, ``12 days``."""
    suffix = {"thousands": "k", "millions": "m"}.get(line.scale, "")
    if line.unit == "percent":
        return {"ticksuffix": "%"}
    if line.unit == "currency":
        return {"tickprefix": "£", "ticksuffix": suffix}
    if line.unit == "days":
        return {"ticksuffix": " days"}
    return {"ticksuffix": suffix} if suffix and line.unit == "count" else {}


_SAFE_ID = re.compile(r"[a-z0-9_-]+")


def _id_part(measure_id: str) -> str:
    """A measure id as part of an element id: as it is when it is plain (``chs_kpi_04``),
    else a hash of it, so text from the data never reaches an attribute or a script."""
    lower = measure_id.lower()
    if _SAFE_ID.fullmatch(lower):
        return lower
    return "m" + hashlib.sha256(measure_id.encode("utf-8")).hexdigest()[:12]


def rag_counts_chart(report: Cpr) -> Chart:
    """Measures by RAG rating: bars in RAG colours, each labelled with its count and word."""
    palette = report.palette
    rags = list(report.counts)
    counts = [report.counts[r] for r in rags]
    figure = {
        "data": [
            {
                "type": "bar",
                "x": [rag_label(r) for r in rags],
                "y": counts,
                "text": [str(c) for c in counts],
                "textposition": "outside",
                "cliponaxis": False,
                "marker": {
                    "color": [palette[r] for r in rags],
                    "line": {"color": BLACK, "width": 1},
                },
                "hovertemplate": "%{x}: %{y} measures<extra></extra>",
            }
        ],
        "layout": _layout(
            320,
            yaxis={
                "title": {"text": "Measures"},
                "rangemode": "tozero",
                "dtick": max(1, max(counts) // 5),
            },
        ),
    }
    total = sum(counts)
    summary = ", ".join(f"{n} {r}" for r, n in zip(rags, counts, strict=True) if n)
    return Chart(
        figure=figure,
        chart_id=f"chart-{report.slug}-rag-counts",
        caption=(
            f"{report.service}, {report.period_words}: {total} measures by RAG rating ({summary})."
        ),
        table_head=("RAG rating", "Measures"),
        table_rows=tuple((rag_label(r), str(n)) for r, n in zip(rags, counts, strict=True)),
    )


def trend_chart(report: Cpr, line: MeasureLine) -> Chart:
    """A measure's recent periods against its target."""
    palette = report.palette
    periods = [p for p, _ in line.trend]
    values = [None if math.isnan(v) else v for _, v in line.trend]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": periods,
            "y": values,
            "mode": "lines+markers",
            "line": {"color": BLACK, "width": 2},
            "marker": {"size": 9, "color": palette[line.rag], "line": {"color": BLACK, "width": 1}},
            "name": line.title,
            "customdata": [line.show(v) if v is not None else "no value" for v in values],
            "hovertemplate": "%{x}: %{customdata}<extra></extra>",
        }
    ]
    target = line.tsl if line.rag_method == "thresholds" else line.target
    if not math.isnan(target):
        data.append(
            {
                "type": "scatter",
                "x": periods,
                "y": [target] * len(periods),
                "mode": "lines",
                "line": {"color": "#505A5F", "dash": "dash", "width": 2},
                "name": f"Target {line.show(target)}",
                "hovertemplate": f"Target {line.show(target)}<extra></extra>",
            }
        )
    first = next((v for v in values if v is not None), None)
    last = values[-1] if values else None
    change = (
        f"from {line.show(first)} in {periods[0]} to {line.show(last)} in {periods[-1]}"
        if first is not None and last is not None
        else "with gaps in the data"
    )
    target_text = f"; target {line.show(target)}" if not math.isnan(target) else ""
    return Chart(
        figure={"data": data, "layout": _layout(260, yaxis=_value_axis(line))},
        chart_id=f"chart-{report.slug}-{_id_part(line.measure_id)}",
        caption=f"{line.title} ({line.measure_id}): {change}{target_text}.",
        table_head=(report.period_noun.capitalize(), "Value"),
        table_rows=tuple(
            (p, line.show(v) if v is not None else "no value")
            for p, v in zip(periods, values, strict=True)
        ),
    )


_SPC_SYMBOLS = {"high": "triangle-up", "low": "triangle-down", "": "circle"}


def xmr_chart(report: Cpr, line: MeasureLine) -> Chart | None:
    """A measure's XmR chart to the report's period: its points coloured and shaped by
    their variation (Making Data Count's colours, a triangle up or down for a special cause
    high or low), the mean, the process limits and the target. None without points."""
    if not line.xmr:
        return None
    periods = [p[0] for p in line.xmr]

    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": periods,
            "y": [p[1] for p in line.xmr],
            "mode": "lines",
            "line": {"color": "#6F777B", "width": 1.5},
            "name": "Value",
            "hoverinfo": "skip",
            "showlegend": False,
        },
        _line_trace(*_held(periods, [p[2] for p in line.xmr]), "Mean", "solid", BLACK),
        _line_trace(*_held(periods, [p[4] for p in line.xmr]), "Upper process limit", "dash",
                    "#505A5F"),
        _line_trace(*_held(periods, [p[3] for p in line.xmr]), "Lower process limit", "dash",
                    "#505A5F"),
    ]  # fmt: skip
    target = line.tsl if line.rag_method == "thresholds" else line.target
    ahead = [f[0] for f in line.forecast]
    if not math.isnan(target):
        data.append(
            # Every period ahead named (the forecast's order on a quarter's or a year's
            # axis, which plotly takes from the first trace that names each period).
            _line_trace(*_held_then(periods, target, ahead), "Target", "dot", "#D4351C")
        )  # fmt: skip
    if line.forecast:
        data.extend(_forecast_traces(line, periods[-1], line.xmr[-1][1]))
    show = _shower(line)
    by_class: dict[str, list[int]] = {}
    for i, point in enumerate(line.xmr):
        by_class.setdefault(point[5], []).append(i)
    for variation in Variation:
        shown = by_class.get(variation.value)
        if not shown:
            continue
        data.append(
            {
                "type": "scatter",
                "x": [periods[i] for i in shown],
                "y": [line.xmr[i][1] for i in shown],
                "mode": "markers",
                "name": VARIATION_SHORT[variation],
                "marker": {
                    "size": 9,
                    "color": SPC_COLOURS[variation.value],
                    "symbol": [_SPC_SYMBOLS[line.xmr[i][6]] for i in shown],
                    "line": {"color": BLACK, "width": 1},
                },
                "customdata": [show(line.xmr[i][1]) for i in shown],
                "hovertemplate": f"%{{x}}: %{{customdata}} ({VARIATION_SHORT[variation]})"
                "<extra></extra>",
            }
        )
    last = line.xmr[-1]
    latest = f"latest {line.show(last[1])} ({last[0]})"
    words = line.spc_text or "no variation label for the period (no figure in it)"
    limits = (
        f"; process limits {line.show(last[3])} to {line.show(last[4])}, mean {line.show(last[2])}"
        if not math.isnan(last[3])
        else f"; mean {line.show(last[2])}, no process limits (fewer than 13 points)"
    )
    forecast = (
        f" Forecast ({line.forecast_method}, 80% interval): {line.show(line.forecast[-1][1])} "
        f"by {line.forecast[-1][0]} ({line.show(line.forecast[-1][2])} to "
        f"{line.show(line.forecast[-1][3])})"
        + (f"; {mid_sentence(line.back_on_track)}" if line.back_on_track else "")
        + "."
        if line.forecast
        else ""
    )
    return Chart(
        figure={
            "data": data,
            "layout": _layout(
                300,
                xaxis={"nticks": 10, "tickangle": 0},
                yaxis=_value_axis(line),
                showlegend=True,
                legend={"orientation": "h", "y": -0.25},
                margin={"l": 60, "r": 20, "t": 30, "b": 90},
            ),
        },
        chart_id=f"chart-{report.slug}-xmr-{_id_part(line.measure_id)}",
        caption=(
            f"Statistical process control (XmR chart) for {line.title} ({line.measure_id}), "
            f"{len(line.xmr)} points: {latest}: {words}{limits}.{forecast}"
        ),
        table_head=("Period", "Value", "Mean", "Lower process limit", "Upper process limit",
                    "Variation"),
        table_rows=tuple(
            (p[0], show(p[1]), show(p[2]), "–" if p[3] != p[3] else show(p[3]),
             "–" if p[4] != p[4] else show(p[4]), _SHORT_OF_CLASS[p[5]])
            for p in line.xmr
        ),
    )  # fmt: skip


FORECAST_COLOUR = "#505A5F"
#: A point's class (its variation's value) in a chart's words.
_SHORT_OF_CLASS = {v.value: VARIATION_SHORT[v] for v in Variation}


def _shower(line: MeasureLine) -> Any:
    """``line.show``, each value written once: a chart's mean and limits hold for many
    points, each shown in its data table."""
    written: dict[float, str] = {}

    def show(value: float) -> str:
        text = written.get(value)
        if text is None:
            text = written[value] = line.show(value)
        return text

    return show


def _forecast_traces(line: MeasureLine, start: str, last: float) -> list[dict[str, Any]]:
    """The forecast from the latest point, dotted and named as a forecast, with its
    interval as a shaded band."""
    x = [start, *(f[0] for f in line.forecast)]
    lower = [last, *(f[2] for f in line.forecast)]
    upper = [last, *(f[3] for f in line.forecast)]
    return [
        {
            "type": "scatter",
            "x": [*x, *reversed(x)],
            "y": [*upper, *reversed(lower)],
            "fill": "toself",
            "fillcolor": "rgba(80, 90, 95, 0.15)",
            "line": {"width": 0},
            "mode": "lines",
            "name": "Forecast interval (80%)",
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": x,
            "y": [last, *(f[1] for f in line.forecast)],
            "mode": "lines",
            "line": {"color": FORECAST_COLOUR, "dash": "dot", "width": 2},
            "name": f"Forecast ({line.forecast_method})",
            "customdata": ["latest", *(line.show(f[1]) for f in line.forecast)],
            "hovertemplate": "%{x}: forecast %{customdata}<extra></extra>",
        },
    ]


def _held(periods: list[str], values: list[float]) -> tuple[list[str], list[float | None]]:
    """A line that holds its value period after period (a chart's mean, limits or target)
    as the first and last period of each value it holds: plotly draws the same line from
    far fewer points (a missing value is a gap in it, as a missing point is)."""
    xs: list[str] = []
    ys: list[float | None] = []
    start = 0
    while start < len(values):
        value = values[start]
        stop = start + 1
        while stop < len(values) and values[stop] == value:
            stop += 1
        if math.isnan(value):  # a run of missing values: a gap (unless it leads)
            if xs and ys[-1] is not None:
                xs.append(periods[start])
                ys.append(None)
        else:
            xs += [periods[start]] if stop - start == 1 else [periods[start], periods[stop - 1]]
            ys += [value] if stop - start == 1 else [value, value]
        start = stop
    if not xs:  # no value at all: the line as it stands, every point a gap
        return periods, [None] * len(values)
    return xs, ys


def _held_then(
    periods: list[str], value: float, ahead: list[str]
) -> tuple[list[str], list[float | None]]:
    """A line holding ``value`` over the periods (:func:`_held`), then at every period
    ahead."""
    xs, ys = _held(periods, [value] * len(periods))
    return [*xs, *ahead], [*ys, *[value] * len(ahead)]


def _line_trace(
    periods: list[str], values: list[float | None], name: str, dash: str, colour: str
) -> dict[str, Any]:
    return {
        "type": "scatter",
        "x": periods,
        "y": values,
        "mode": "lines",
        "line": {"color": colour, "dash": dash, "width": 1.5},
        "name": name,
        "hoverinfo": "skip",
    }


PEER_COLOUR = "#6F777B"
OWN_COLOUR = "#1D70B8"


def peer_chart(report: Cpr, line: MeasureLine, position: Position) -> Chart:
    """The council among one peer group: a bar per council, best first, the council's own
    bar in blue with a hatched pattern and named, the peer median marked."""
    own = f"{report.council} (this council)"
    bars = list(position.peer_values)
    if not math.isnan(position.value):
        ordered = [*bars, (own, position.value)]
        descending = line.polarity != "down"
        ordered.sort(key=lambda item: (-item[1] if descending else item[1], item[0] != own))
        bars = ordered
    names = [area for area, _ in bars]
    values = [value for _, value in bars]
    is_own = [area == own for area in names]
    figure = {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": names,
                "x": values,
                "text": [line.show(v) for v in values],
                "textposition": "outside",
                "cliponaxis": False,
                "marker": {
                    "color": [OWN_COLOUR if o else PEER_COLOUR for o in is_own],
                    "pattern": {"shape": ["/" if o else "" for o in is_own]},
                    "line": {"color": BLACK, "width": 1},
                },
                "hovertemplate": "%{y}: %{text}<extra></extra>",
            }
        ],
        "layout": _layout(
            80 + 26 * len(bars),
            xaxis={**_value_axis(line), "rangemode": "tozero"},
            yaxis={"autorange": "reversed", "automargin": True},
            shapes=[
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": position.peer_median,
                    "x1": position.peer_median,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": BLACK, "dash": "dash", "width": 1.5},
                }
            ]
            if not math.isnan(position.peer_median)
            else [],
            margin={"l": 60, "r": 60, "t": 30, "b": 50},
        ),
    }
    where = (
        f"{report.council} {line.show(position.value)} ranks {position.rank} of "
        f"{position.ranked}, quartile {position.quartile}"
        if position.quartile
        else f"{report.council} {line.show(position.value) or 'has no figure'}"
    )
    median = (
        f"; peer median {line.show(position.peer_median)} (dashed line)"
        if not math.isnan(position.peer_median)
        else ""
    )
    note = f"; {position.note}" if position.note else ""
    return Chart(
        figure=figure,
        chart_id=f"chart-{report.slug}-peers-{_id_part(line.measure_id)}-"
        f"{_id_part(position.peer_group.replace(' ', '-'))}",
        caption=(
            f"{line.title} ({line.measure_id}) against {position.peer_group}, "
            f"{position.period}: {where}{median}{note}."
        ),
        table_head=("Rank", "Council", "Value"),
        table_rows=tuple(
            (str(i + 1), name, line.show(value)) for i, (name, value) in enumerate(bars)
        ),
    )


_LEVEL_PATTERNS = {"at_tsl": "", "at_msl": "/", "below_msl": "x", "not_available": "+",
                   "mitigated": ".", "pending": "-"}  # fmt: skip


def contract_chart(report: Cpr) -> Chart | None:
    """The contract's months: KPIs at each level as stacked bars (RAG colours, a pattern
    each, named in the legend), and the abatement points as a line on the right axis."""
    c = report.contract
    if c is None:
        return None
    palette = report.palette
    months = [month_year(m.month) for m in c.months]
    data: list[dict[str, Any]] = []
    for level, (rag, words) in CONTRACT_LEVELS.items():
        counts = [getattr(m, level) for m in c.months]
        if not any(counts):
            continue
        data.append(
            {
                "type": "bar",
                "x": months,
                "y": counts,
                "name": f"{rag_label(rag).split()[0]} {words}",
                "marker": {
                    "color": palette[rag],
                    "pattern": {
                        "shape": _LEVEL_PATTERNS[level],
                        "fgcolor": BLACK,
                        "fillmode": "overlay",
                        "size": 8,
                    },
                    "line": {"color": BLACK, "width": 1},
                },
                "hovertemplate": f"%{{x}}: %{{y}} KPIs {words.lower()}<extra></extra>",
            }
        )
    data.append(
        {
            "type": "scatter",
            "x": months,
            "y": [m.abatement for m in c.months],
            "yaxis": "y2",
            "mode": "lines+markers",
            "line": {"color": BLACK, "width": 2},
            "marker": {"symbol": "diamond", "size": 8, "color": BLACK},
            "name": "Abatement points (right axis)",
            "hovertemplate": "%{x}: %{y} abatement points<extra></extra>",
        }
    )
    total = sum(m.abatement for m in c.months)
    credit = (
        f" ({pounds(sum(m.credit for m in c.months))} in service credits)"
        if (c.credit_per_point)
        else ""
    )
    return Chart(
        figure={
            "data": data,
            "layout": _layout(
                360,
                barmode="stack",
                showlegend=True,
                legend={"orientation": "h", "y": -0.2, "traceorder": "normal"},
                yaxis={"title": {"text": "Contract KPIs"}, "rangemode": "tozero", "dtick": 1},
                yaxis2={"title": {"text": "Abatement points"}, "overlaying": "y",
                        "side": "right", "rangemode": "tozero", "showgrid": False,
                        "showline": True, "linecolor": BLACK, "tickformat": ",.0f",
                        "ticks": "outside"},
                margin={"l": 60, "r": 70, "t": 30, "b": 90},
            ),
        },
        chart_id=f"chart-{report.slug}-contract",
        caption=(
            f"{report.service}: contract KPIs by level and abatement points per month, "
            f"{months[0]} to {months[-1]}: {total:,.0f} points in all{credit}."
        ),
        table_head=("Month", *(w for _, w in CONTRACT_LEVELS.values()), "Abatement points"),
        table_rows=tuple(
            (label, *(str(getattr(m, level)) for level in CONTRACT_LEVELS),
             f"{m.abatement:,.0f}")
            for label, m in zip(months, c.months, strict=True)
        ),
    )  # fmt: skip
