"""Slide text measured as PowerPoint and LibreOffice set it, with real font metrics.

Every text the deck places is measured with the advance widths of the font it is set in
(Pillow reading the TrueType file), wrapped at word boundaries as an office suite wraps it,
and given the height its lines need. The fonts are the metric-compatible ones that ship with
kpitools (Carlito, metrically identical to Calibri, the default template's font), so a deck
is laid out the same on every machine: the same inputs give the same bytes. A template whose
theme font is not Calibri is measured with Carlito widened by :data:`OTHER_FONT_FACTOR`,
enough for the common sans-serif fonts (Arial is about 8% wider than Calibri).

Text is never cut by character count and never given line breaks of its own: what does not
fit is shortened at a word boundary and says where the rest is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

LINE_SPACING = 1.22  # Calibri's (and Carlito's) single line spacing, in ems
OTHER_FONT_FACTOR = 1.12
CELL_PAD = 0.08  # inches of margin on each side of a text box or table cell
SAFETY = 0.03  # inches of width kept free: renderers differ by a hair in kerning
_EM = 1000  # the size fonts are loaded at: widths scale exactly with size
METRIC_FONTS = {"calibri": 1.0, "carlito": 1.0}


@cache
def _font(bold: bool) -> Any:
    from PIL import ImageFont

    name = "Carlito-Bold.ttf" if bold else "Carlito-Regular.ttf"
    path = Path(str(resources.files("kpitools.report") / "fonts" / name))
    return ImageFont.truetype(str(path), _EM)


@dataclass(frozen=True)
class TextMeasure:
    """Measures text for a typeface (by its name in the template's theme)."""

    typeface: str = "Calibri"

    @property
    def factor(self) -> float:
        return METRIC_FONTS.get(self.typeface.strip().lower(), OTHER_FONT_FACTOR)

    def width(self, text: str, size_pt: float, bold: bool = False) -> float:
        """Inches ``text`` takes on one line."""
        return self._inches(_length(text, bold), size_pt)

    def _inches(self, length: float, size_pt: float) -> float:
        """Inches a font length (at :data:`_EM`) takes at ``size_pt``."""
        return length / _EM * size_pt * self.factor / 72

    def lines(self, text: str, width_in: float, size_pt: float, bold: bool = False) -> list[str]:
        """The lines a box ``width_in`` wide (margins included) sets the text in."""
        return list(_set_lines(self, text, width_in, size_pt, bold))

    def _wrap(self, paragraph: str, room: float, size_pt: float, bold: bool) -> list[str]:
        # A line's length is its words' lengths and its spaces': the fonts have no kerning
        # with a space (tested), so each word is measured once, not every line it is tried on.
        space = _length(" ", bold)
        words = paragraph.split()
        if words:  # most text is one line: its length, added up as the loop below adds it
            length = _length(words[0], bold)
            for word in words[1:]:
                length = length + space + _length(word, bold)
            if self._inches(length, size_pt) <= room:  # so every shorter start fits too
                return [" ".join(words)]
        lines: list[str] = []
        current = ""
        length = 0.0  # of ``current``
        for word in words:
            trial = length + space + _length(word, bold) if current else _length(word, bold)
            if self._inches(trial, size_pt) <= room:
                current = f"{current} {word}" if current else word
                length = trial
                continue
            if current:
                lines.append(current)
            # A word longer than the line is broken, as an office suite breaks it.
            while self.width(word, size_pt, bold) > room and len(word) > 1:
                cut = _longest_prefix(word, lambda w: self.width(w, size_pt, bold) <= room)
                lines.append(word[:cut])
                word = word[cut:]
            current = word
            length = _length(word, bold)
        if current:
            lines.append(current)
        return lines

    def height(self, text: str, width_in: float, size_pt: float, bold: bool = False) -> float:
        """Inches a box ``width_in`` wide needs for the text, margins included."""
        return self.lines_height(len(self.lines(text, width_in, size_pt, bold)), size_pt)

    @staticmethod
    def lines_height(count: int, size_pt: float) -> float:
        """Inches ``count`` lines at ``size_pt`` take, margins included."""
        return count * size_pt * LINE_SPACING / 72 + 2 * CELL_PAD

    def max_lines(self, height_in: float, size_pt: float) -> int:
        """How many lines fit in a box ``height_in`` high."""
        return max(0, int((height_in - 2 * CELL_PAD) * 72 / (size_pt * LINE_SPACING) + 1e-9))

    def fits(self, text: str, width_in: float, size_pt: float, height_in: float,
             bold: bool = False) -> bool:  # fmt: skip
        return self.height(text, width_in, size_pt, bold) <= height_in + 1e-9

    def fit(self, text: str, width_in: float, size_pt: float, height_in: float, more: str = "",
            bold: bool = False) -> str:  # fmt: skip
        """The text, or as much of it as fits (cut at a word boundary) followed by ``… more``.

        Paragraphs are kept; no line break is added inside one.
        """
        if self.fits(text, width_in, size_pt, height_in, bold):
            return text
        tail = f"… {more}".rstrip() if more else "…"
        words = text.replace("\n", " \n ").split(" ")
        keep = _longest_prefix(
            words,
            lambda ws: self.fits(_joined(ws) + tail, width_in, size_pt, height_in, bold),
        )
        return (_joined(words[:keep]).rstrip(" ,;:\n") + tail).strip()

    def shortened(self, text: str, width_in: float, size_pt: float, lines: int,
                  bold: bool = False) -> str:  # fmt: skip
        """The text in at most ``lines`` lines, cut at a word boundary with an ellipsis."""
        height = self.lines_height(lines, size_pt)
        return self.fit(text, width_in, size_pt, height, "", bold)


def _joined(words: list[str]) -> str:
    return " ".join(words).replace(" \n ", "\n")


@lru_cache(maxsize=8192)  # a deck sets many texts more than once (names, headings, words)
def _set_lines(
    measure: TextMeasure, text: str, width_in: float, size_pt: float, bold: bool
) -> tuple[str, ...]:
    room = width_in - 2 * CELL_PAD - SAFETY
    out: list[str] = []
    for paragraph in text.split("\n"):
        out += measure._wrap(paragraph, room, size_pt, bold) or [""]
    return tuple(out)


def _longest_prefix(items: Any, ok: Any) -> int:
    """The largest n (at least 1) such that ``ok(items[:n])``, by bisection: ``ok`` holds
    for short prefixes and stops holding past some length."""
    low, high = 1, len(items)
    if ok(items[:high]):
        return high
    while low < high:
        middle = (low + high + 1) // 2
        if ok(items[:middle]):
            low = middle
        else:
            high = middle - 1
    return max(1, low)


@lru_cache(maxsize=1 << 16)  # bounded: a run of many councils measures many texts
def _length(text: str, bold: bool) -> float:
    return float(_font(bold).getlength(text))
