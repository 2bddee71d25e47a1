"""Drafted words, for a person to finish: the factual sentences a performance officer writes.

For every exception, a sentence from its figures ("Calls abandoned rose for the third quarter
running to 8.5%, 1.5 points worse than TSL; the worst of the last 6 quarters"); for the
service, what's good and what needs attention. The rules are plain and deterministic, in
GOV.UK style (numbers as digits, ordinals up to ninth as words, no jargon), and a draft says
only what the figures show: which way the value moved (by the numbers, not the polarity), how
far it is from target (the report's own variance words) and where it stands among the
periods shown. Drafts are marked as drafted wherever they appear until a person accepts or
edits them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from typing import Protocol


class MeasureLine(Protocol):
    """What a draft reads of a measure (:class:`kpitools.report.content.MeasureLine`)."""

    @property
    def title(self) -> str: ...
    @property
    def polarity(self) -> str: ...
    @property
    def rag(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def previous_value(self) -> float: ...
    @property
    def trend(self) -> tuple[tuple[str, float], ...]: ...
    @property
    def available(self) -> bool: ...
    @property
    def reference(self) -> str: ...
    @property
    def variance_text(self) -> str: ...
    def show(self, value: float) -> str: ...


class Cpr(Protocol):
    """What a draft reads of a report (:class:`kpitools.report.content.Cpr`)."""

    @property
    def counts(self) -> dict[str, int]: ...
    @property
    def on_target(self) -> Sequence[MeasureLine]: ...
    @property
    def improving(self) -> Sequence[MeasureLine]: ...
    @property
    def exceptions(self) -> Sequence[MeasureLine]: ...
    @property
    def in_period(self) -> str: ...


DRAFTED = "Drafted by kpitools: "
RANK_MIN = 4  # periods with figures before "the worst of the last N" is said

_ORDINALS = {2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh",
             8: "eighth", 9: "ninth"}  # fmt: skip


def ordinal(n: int) -> str:
    """``third``; ``12th``: words to ninth, then digits, as GOV.UK writes them."""
    if n in _ORDINALS:
        return _ORDINALS[n]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def run_length(values: list[float]) -> int:
    """How many periods running the last value moved the same way (1 for a move after a
    different one, 0 when the last move is none or unknown)."""
    moves = []
    for before, after in pairwise(values):
        if math.isnan(before) or math.isnan(after):
            moves.append(0)
        else:
            moves.append((after > before) - (after < before))
    if not moves or moves[-1] == 0:
        return 0
    count = 0
    for move in reversed(moves):
        if move != moves[-1]:
            break
        count += 1
    return count


def rank_words(line: MeasureLine, noun: str) -> str:
    """``the worst of the last 6 quarters`` / ``the best ...`` when the value is the extreme
    of the periods shown (polarity-aware); '' otherwise, for a neutral measure, or with too
    few figures."""
    values = [v for _, v in line.trend if not math.isnan(v)]
    if line.polarity not in ("up", "down") or len(values) < RANK_MIN or math.isnan(line.value):
        return ""
    others = values[:-1]
    higher_is_better = line.polarity == "up"
    if all(line.value < v for v in others):
        word = "worst" if higher_is_better else "best"
    elif all(line.value > v for v in others):
        word = "best" if higher_is_better else "worst"
    else:
        return ""
    return f"the {word} of the last {len(values)} {noun}s"


def exception_draft(line: MeasureLine, noun: str) -> str:
    """The sentence for one exception; '' when the period has no figure to describe."""
    if not line.available:
        return ""
    value = line.show(line.value)
    values = [v for _, v in line.trend]
    previous = line.previous_value
    if math.isnan(previous):
        movement = f"was {value}"
    elif line.value == previous:
        movement = f"was unchanged at {value}"
    elif line.show(previous) == value:
        movement = f"was little changed at {value}"  # a move too small to show
    else:
        verb = "rose" if line.value > previous else "fell"
        run = run_length(values)
        if run >= 2:
            movement = f"{verb} for the {ordinal(run)} {noun} running to {value}"
        else:
            movement = f"{verb} from {line.show(previous)} to {value}"
    sentence = f"{line.title} {movement}"
    if line.reference and line.variance_text:
        sentence += f", {line.variance_text}"
    rank = rank_words(line, noun)
    if rank:
        sentence += f"; {rank}"
    return sentence + "."


def whats_good_draft(report: Cpr) -> str:
    """What's good, from the measures on target and improving."""
    total = sum(report.counts.values())
    if not total:
        return ""
    on = len(report.on_target)
    measures = f"measure{'s' if total != 1 else ''}"
    text = f"{on} of {total} {measures} {'was' if on == 1 else 'were'} on target {report.in_period}"
    if report.improving:
        text += f", and {len(report.improving)} more improved"
    text += "."
    if report.on_target:
        best = report.on_target[0]
        text += f" {best.title}: {best.show(best.value)}, {best.variance_text}."
    return text


def attention_draft(report: Cpr) -> str:
    """The areas for development, for the Director's summary: how many measures need
    attention and the one furthest from target."""
    if not report.exceptions:
        return f"No measures need attention {report.in_period}."
    red = sum(1 for x in report.exceptions if x.rag == "red")
    n = len(report.exceptions)
    measures = f"{n} measure{'s' if n != 1 else ''} need{'s' if n == 1 else ''}"
    text = f"{measures} attention {report.in_period}"
    if red and n == 1:
        text += ", and it is red."
    else:
        text += f", {red} of them red." if red else "."
    worst = report.exceptions[0]
    if worst.available and worst.reference:
        text += f" {worst.title} is {worst.show(worst.value)}, {worst.variance_text}."
    return text
