"""How numbers, RAG and direction are written for people: one place for every output."""

from __future__ import annotations

import math
from functools import lru_cache

from kpitools.core.model import RAG, Direction, Scale, Unit

RAG_SYMBOLS = {
    RAG.GREEN.value: "●",
    RAG.AMBER.value: "◆",
    RAG.RED.value: "▲",
    RAG.BLUE.value: "■",
    RAG.WHITE.value: "○",
    RAG.GREY.value: "–",
}
DIRECTION_SYMBOLS = {
    Direction.IMPROVING.value: "↑",
    Direction.WORSENING.value: "↓",
    Direction.STABLE.value: "→",
    Direction.NOT_COMPARABLE.value: "≠",
    Direction.NO_EARLIER_FIGURE.value: "∅",
    Direction.MONITORED.value: "◇",
}


def format_value(value: float, unit: str, *, signed: bool = False, scale: str = "") -> str:
    """A value in its unit: ``75.2%``, ``£1,200``, ``5,705``, ``12.5 days``; ``''`` if absent.

    A currency or count kept in thousands or millions (``scale``) is written short, at its
    real size: 110 in £000s is ``£110k``, 1,234 in £000s is ``£1.2m``.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return _formatted(value, unit, signed, scale)


@lru_cache(maxsize=8192)
def _formatted(value: float, unit: str, signed: bool, scale: str) -> str:
    """:func:`format_value` of a number: a report writes the same few numbers many times
    over (a chart's mean and limits at every point, in its data table and hover text)."""
    sign = "+" if signed and value > 0 else ""
    magnitude = abs(value)
    minus = "-" if value < 0 else ""
    if scale and scale != Scale.UNITS and unit in (Unit.CURRENCY, Unit.COUNT):
        pound = "£" if unit == Unit.CURRENCY else ""
        return f"{sign}{minus}{pound}{_short(magnitude * Scale(scale).factor)}"
    if unit == Unit.PERCENT:
        return f"{sign}{minus}{_number(magnitude, 1)}%"
    if unit == Unit.CURRENCY:
        return f"{sign}{minus}£{_number(magnitude, 0 if magnitude >= 100 else 2)}"
    if unit == Unit.DAYS:
        return f"{sign}{minus}{_number(magnitude, 1)} days"
    if unit == Unit.COUNT:
        return f"{sign}{minus}{_number(magnitude, 0 if float(magnitude).is_integer() else 1)}"
    return f"{sign}{minus}{_number(magnitude, 2)}"


def _short(amount: float) -> str:
    """An amount in thousands or millions: ``110k``, ``12.5k``, ``1.2m``, ``950``."""
    if amount >= 1e9:
        return f"{_number(amount / 1e9, 1)}bn"
    if amount >= 999_500:
        return f"{_number(amount / 1e6, 1)}m"
    if amount >= 1e3:
        return f"{_number(amount / 1e3, 0 if amount >= 1e5 else 1)}k"
    return _number(amount, 0)


def format_percent(fraction: float, *, signed: bool = True) -> str:
    """A fraction as a percentage: 0.052 -> ``+5.2%``."""
    if fraction is None or math.isnan(fraction):
        return ""
    return f"{fraction * 100:+.1f}%" if signed else f"{fraction * 100:.1f}%"


def _number(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    if decimals and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def rag_label(rag: str) -> str:
    """RAG as symbol and word, never colour alone: ``▲ red``."""
    return f"{RAG_SYMBOLS.get(rag, '')} {rag}".strip()


def direction_words(direction: str, change_pct: float = math.nan) -> str:
    """Direction of travel in words: ``improving``, ``no earlier figure``; a monitored
    measure with its change: ``monitored, up 12.5%``."""
    text = direction.replace("_", " ")
    if direction == Direction.MONITORED and change_pct is not None and not math.isnan(change_pct):
        text += ", " + change_words(change_pct)
    return text


def direction_label(direction: str, change_pct: float = math.nan) -> str:
    """Direction of travel as symbol and words, never a bare dash: ``↑ improving``."""
    return (
        f"{DIRECTION_SYMBOLS.get(direction, '')} {direction_words(direction, change_pct)}".strip()
    )


def change_words(change_pct: float) -> str:
    """``up 12.5%``, ``down 3%``, ``no change``."""
    if math.isnan(change_pct):
        return ""
    if abs(change_pct) < 1e-12:
        return "no change"
    way = "up" if change_pct > 0 else "down"
    return f"{way} {_number(abs(change_pct) * 100, 1)}%"


#: How a figure's basis is written beside it ("period" is not: it is what a figure usually is).
BASIS_WORDS = {"ytd": "YTD", "snapshot": "snapshot", "rolling_12": "rolling 12 months"}

POLARITY_WORDS = {"up": "Bigger is better", "down": "Smaller is better", "neutral": "Not judged"}
COMMENT_AWAITED = "Comment awaited"
ACTION_STATUS_WORDS = {
    "not_started": "Not started",
    "on_track": "On track",
    "at_risk": "At risk",
    "overdue": "⚠ Overdue",
    "complete": "✓ Complete",
}

STATUS_WORDS = {
    "reported": "reported",
    "mitigated": "mitigated",
    "not_available": "not available",
    "pending": "pending",
    "not_expected": "not expected",
    "missing": "not supplied",
}

SPARK_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    """A text sparkline, oldest first: ``▂▃▅▇``; a gap (``·``) where a period has no value."""
    present = [v for v in values if v is not None and not math.isnan(v)]
    if not present:
        return ""
    low, high = min(present), max(present)
    span = high - low
    marks = []
    for value in values:
        if value is None or math.isnan(value):
            marks.append("·")
        elif span == 0:
            marks.append(SPARK_BARS[3])
        else:
            marks.append(SPARK_BARS[round((value - low) / span * (len(SPARK_BARS) - 1))])
    return "".join(marks)


_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")  # fmt: skip


def month_word(label: str) -> str:
    """``2024-04`` -> ``Apr``."""
    return _MONTH_NAMES[int(label[5:7]) - 1][:3]


def mid_sentence(text: str) -> str:
    """A sentence continued mid-sentence: ``On current trend`` -> ``on current trend``
    (only its first letter: a month keeps its capital)."""
    return text[:1].lower() + text[1:]


def month_year(label: str) -> str:
    """``2024-06`` -> ``Jun 2024``."""
    return f"{month_word(label)} {label[:4]}"


def month_strip(months: tuple[tuple[str, str], ...]) -> str:
    """Each month's RAG as symbol and word: ``Apr ▲ red · May ● green · Jun ● green``."""
    return " · ".join(f"{month_word(month)} {rag_label(rag)}" for month, rag in months)


def figure_text(
    value: float, unit: str, coverage: str = "", basis: str = "", scale: str = ""
) -> str:
    """A value with what it covers when that is not simply its period: ``1,918 (to Q3)``,
    ``9.3 days (YTD)``; ``–`` without a value."""
    text = format_value(value, unit, scale=scale) or "–"
    qualifiers = [q for q in (coverage, BASIS_WORDS.get(basis, "")) if q]
    return f"{text} ({', '.join(qualifiers)})" if qualifiers and text != "–" else text


def period_words(label: str) -> str:
    """A period label as committees write it: ``2017-12`` -> ``December 2017``, a run of
    months ``2017-06..2017-08`` -> ``June to August 2017`` (``November 2017 to February
    2018`` across a year's end); quarters (``2017/18 Q3``) and years (``2015/16``) as they
    are."""
    first, separator, last = label.partition("..")
    if separator and _is_month(first) and _is_month(last):
        if first[:4] == last[:4]:
            return f"{_MONTH_NAMES[int(first[5:]) - 1]} to {period_words(last)}"
        return f"{period_words(first)} to {period_words(last)}"
    if _is_month(label):
        return f"{_MONTH_NAMES[int(label[5:]) - 1]} {label[:4]}"
    return label


def _is_month(label: str) -> bool:
    return len(label) == 7 and label[4] == "-" and label[:4].isdigit() and label[5:].isdigit()


#: How a contract month stands, as the RAG it is shown with and its words.
CONTRACT_LEVELS = {
    "at_tsl": ("green", "At TSL"),
    "at_msl": ("amber", "At MSL only"),
    "below_msl": ("red", "Below MSL"),
    "not_available": ("red", "Not available"),
    "mitigated": ("blue", "Mitigated"),
    "pending": ("white", "Pending"),
}


def contract_cell(level: str, multiplier: float, points: float, *, short: bool = False) -> str:
    """A KPI's month: ``◆ At MSL only, x1.5: 60 points``; ``◆ 60`` when short."""
    rag, words = CONTRACT_LEVELS[level]
    symbol = RAG_SYMBOLS.get(rag, "")
    if short:
        return f"{symbol} {points:,.0f}" if points else f"{symbol} 0"
    if not points:
        return f"{symbol} {words}"
    factor = f", x{multiplier:g}" if multiplier != 1 else ""
    return f"{symbol} {words}{factor}: {points:,.0f} points"


def pounds(amount: float) -> str:
    """``£12,000``; pence only when there are any."""
    return f"£{amount:,.0f}" if float(amount).is_integer() else f"£{amount:,.2f}"


def counted(n: int, noun: str) -> str:
    """``1 service``, ``2 services``: a count and its noun (plural by adding s)."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
