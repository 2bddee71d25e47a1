"""Colours and their contrast (WCAG 2.2): RAG fills must stand out, text on them must be legible."""

from __future__ import annotations

import re
from functools import lru_cache

from kpitools.core.model import RAG

WHITE = "#FFFFFF"
BLACK = "#0B0C0C"
NON_TEXT_CONTRAST = 3.0  # WCAG 1.4.11: graphics against what is next to them

# Defaults after the GOV.UK palette; each passes 3:1 against white ("white" is drawn outlined).
DEFAULT_RAG_COLOURS = {
    RAG.GREEN.value: "#00703C",
    RAG.AMBER.value: "#B35C00",
    RAG.RED.value: "#D4351C",
    RAG.BLUE.value: "#1D70B8",
    RAG.WHITE.value: "#FFFFFF",
    RAG.GREY.value: "#505A5F",
}

# Making Data Count's colours for SPC (blue improvement, orange concern, purple neither, grey
# common cause), darkened so each passes 4.5:1 against white as text and as a marker.
SPC_COLOURS = {
    "improvement": "#1D70B8",
    "concern": "#A94700",
    "neither": "#5B2C86",
    "common_cause": "#505A5F",
}

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def parse_hex(colour: str) -> str:
    """``'#b35c00'`` or ``'B35C00'`` -> ``'#B35C00'``.

    Raises:
        ValueError: not a six-digit hex colour.
    """
    match = _HEX.match(colour.strip())
    if not match:
        raise ValueError(f"'{colour}' is not a colour: write six hex digits, e.g. #1D70B8")
    return "#" + match.group(1).upper()


@lru_cache(maxsize=1024)
def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of a hex colour."""
    rgb = parse_hex(colour)[1:]
    channels = [int(rgb[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio between two colours, from 1 to 21."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@lru_cache(maxsize=1024)
def text_colour_on(fill: str) -> str:
    """Black or white, whichever reads better on ``fill``."""
    return WHITE if contrast_ratio(fill, WHITE) >= contrast_ratio(fill, BLACK) else BLACK
