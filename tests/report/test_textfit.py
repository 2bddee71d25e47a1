"""Text measured line by line from its words: the same lines as measuring every trial line."""

from __future__ import annotations

import random

import pytest

from kpitools.report.textfit import _EM, CELL_PAD, SAFETY, TextMeasure, _font, _length

# Every character a report is likely to hold: Latin (Welsh, Irish and Scots names included),
# punctuation, currency, arrows and the RAG and direction symbols.
CHARACTERS = [chr(c) for c in range(33, 0x250) if c not in range(0x7F, 0xA1)] + list(
    "–—‘’“”•…€£↑↓→≠∅◇●◆▲■○"
)


@pytest.mark.parametrize("bold", [False, True])
def test_the_fonts_have_no_kerning_with_a_space(bold):
    """Why a line can be measured as its words and spaces (TextMeasure._wrap)."""
    space = _font(bold).getlength(" ")
    for character in CHARACTERS:
        alone = _font(bold).getlength(character)
        assert _font(bold).getlength(character + " ") == alone + space, character
        assert _font(bold).getlength(" " + character) == alone + space, character


def _lines_measured_whole(measure: TextMeasure, text: str, width: float, size: float,
                          bold: bool) -> list[str]:  # fmt: skip
    """The lines as an office suite sets them, every trial line measured as a whole."""
    room = width - 2 * CELL_PAD - SAFETY
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current, out = "", []
        for word in paragraph.split():
            trial = f"{current} {word}" if current else word
            if _length(trial, bold) / _EM * size * measure.factor / 72 <= room:
                current = trial
                continue
            if current:
                out.append(current)
            current = word  # (no word here is longer than a line)
        if current:
            out.append(current)
        lines += out or [""]
    return lines


@pytest.mark.parametrize("typeface", ["Calibri", "Arial"])
def test_lines_from_words_are_the_lines_of_whole_measuring(typeface):
    rng = random.Random(5)
    words = ["Children's", "Services", "£1,234.5k", "93.2%", "worse", "than", "target",
             "Llanfair", "Ní", "Ysbyty", "—", "“quoted”", "▲", "red", "↑", "n/a", "Q3",
             "a", "I", "Wa", "To", "AVATAR", "fi", "office"]  # fmt: skip
    measure = TextMeasure(typeface)
    for _ in range(400):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 40)))
        if rng.random() < 0.3:
            text = text.replace(" ", "\n", 2)
        width, size, bold = (
            rng.uniform(1.2, 6.0),
            rng.choice([8, 9, 10, 11, 12]),
            rng.random() < 0.5,
        )
        assert measure.lines(text, width, size, bold) == _lines_measured_whole(
            measure, text, width, size, bold
        )
