"""Drafted words: each rule of the wording, and every draft of the example council checked
against the figures it describes."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from itertools import pairwise

import pytest

from kpitools.report.content import build_cpr
from kpitools.report.drafts import (
    exception_draft,
    ordinal,
    rank_words,
    run_length,
)
from tests.conftest import QUARTER

NAN = math.nan


@pytest.mark.parametrize(
    ("n", "words"),
    [(2, "second"), (3, "third"), (9, "ninth"), (10, "10th"), (11, "11th"), (12, "12th"),
     (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"), (112, "112th")],
)  # fmt: skip
def test_ordinals_as_govuk_writes_them(n, words):
    assert ordinal(n) == words


@pytest.mark.parametrize(
    ("values", "run"),
    [
        ([1, 2, 3, 4], 3),  # rose three times running
        ([4, 3, 2, 1], 3),
        ([1, 2, 1, 2], 1),  # up after down: one
        ([1, 2, 2], 0),  # no move last
        ([1, NAN, 2, 3], 1),  # a gap breaks the run
        ([5], 0),
        ([], 0),
        ([3, 1, 2, 3, 4], 3),
    ],
)
def test_run_length(values, run):
    assert run_length(values) == run


@pytest.fixture
def line(example):
    """CHS_KPI_02 (re-referrals, smaller is better) as the 2024/25 Q1 report has it."""
    report = build_cpr(example, "Children's Services", QUARTER)
    return next(x for x in report.exceptions if x.measure_id == "CHS_KPI_02")


def trend(*values):
    return tuple((f"p{i}", float(v)) for i, v in enumerate(values))


@pytest.mark.parametrize(
    ("polarity", "values", "words"),
    [
        ("down", (20, 21, 22, 23, 24.9), "the worst of the last 5 quarters"),
        ("up", (20, 21, 22, 23, 24.9), "the best of the last 5 quarters"),
        ("down", (26, 25, 25, 25, 24.9), "the best of the last 5 quarters"),
        ("down", (20, 26, 22, 23, 24.9), ""),  # neither
        ("down", (20, 21, 24.9), ""),  # too few periods to rank
        ("down", (24.9, 21, 22, 23, 24.9), ""),  # a tie is not the worst
        ("neutral", (20, 21, 22, 23, 24.9), ""),  # not judged
        ("down", (NAN, 21, 22, 23, 24.9), "the worst of the last 4 quarters"),
    ],
)
def test_rank_is_polarity_aware_and_strict(line, polarity, values, words):
    changed = replace(line, polarity=polarity, trend=trend(*values), value=values[-1])
    assert rank_words(changed, "quarter") == words


def test_the_draft_of_a_worsening_exception(line):
    assert exception_draft(line, "quarter") == (
        "Re-referrals to children's social care within 12 months rose for the fourth quarter "
        "running to 24.9%, 2.9 points worse than target; the worst of the last 6 quarters."
    )


@pytest.mark.parametrize(
    ("previous", "values", "start"),
    [
        (23.0, (23, 24.9), "rose from 23% to 24.9%"),
        (26.0, (26, 24.9), "fell from 26% to 24.9%"),
        (24.9, (24.9, 24.9), "was unchanged at 24.9%"),
        (24.93, (24.93, 24.9), "was little changed at 24.9%"),  # too small a move to show
        (NAN, (NAN, 24.9), "was 24.9%"),  # no earlier figure
    ],
)
def test_movement_words(line, previous, values, start):
    changed = replace(line, previous_value=previous, trend=trend(*values), value=24.9)
    assert exception_draft(changed, "quarter").startswith(f"{line.title} {start}, ")


def test_no_draft_without_a_figure(line):
    assert exception_draft(replace(line, status="not_available"), "quarter") == ""


def test_a_month_report_counts_months(example):
    report = build_cpr(example, "Children's Services", "2024-06")
    drafted = [x.draft for x in report.exceptions if x.draft]
    assert drafted and all(" quarter" not in d for d in drafted)
    assert any(re.search(r"(month running|last \d+ months)", d) for d in drafted)


DRAFT = re.compile(
    r"^(?P<title>.+?) (?:(?P<verb>rose|fell) (?:for the (?P<run>\w+) (?:quarter|month|year) "
    r"running to|from (?P<prev>.+?) to) (?P<value>.+?)|was (?:unchanged at |little changed at )?"
    r"(?P<flat>.+?)), (?P<variance>.+?)(?:; the (?P<rank>worst|best) of the last (?P<n>\d+) "
    r"quarters)?\.$"
)


def test_every_draft_of_the_example_council_agrees_with_its_figures(example):
    """Direction by the numbers, variance by the report's own words, rank in the history
    shown: parsed back out of each sentence and checked against the scorecard's figures."""
    words = {ordinal(n): n for n in range(2, 30)}
    checked = 0
    for service in example.services:
        for x in build_cpr(example, service, QUARTER).exceptions:
            if not x.draft:
                assert not x.available
                continue
            match = DRAFT.match(x.draft)
            assert match, x.draft
            assert match["title"] == x.title
            assert match["variance"] == x.variance_text
            shown = match["value"] or match["flat"]
            assert shown == x.show(x.value)
            if match["prev"]:
                assert match["prev"] == x.show(x.previous_value)
            if match["verb"] == "rose":
                assert x.value > x.previous_value
            elif match["verb"] == "fell":
                assert x.value < x.previous_value
            else:
                assert math.isnan(x.previous_value) or x.show(x.previous_value) == shown
            values = [v for _, v in x.trend]
            if match["run"]:
                assert run_length(values) == words[match["run"]] >= 2
                sign = 1 if match["verb"] == "rose" else -1
                tail = values[-words[match["run"]] - 1 :]
                assert all((b - a) * sign > 0 for a, b in pairwise(tail))
            known = [v for v in values if not math.isnan(v)]
            if match["rank"]:
                assert int(match["n"]) == len(known)
                higher_better = x.polarity == "up"
                lowest = x.value < min(known[:-1])
                highest = x.value > max(known[:-1])
                assert (match["rank"] == "worst") == (lowest if higher_better else highest)
                assert lowest or highest
            checked += 1
    assert checked >= 25


def test_the_service_drafts_say_what_the_counts_say(example):
    from kpitools.report.drafts import attention_draft, whats_good_draft

    finance = build_cpr(example, "Finance", QUARTER)
    total = sum(finance.counts.values())
    assert whats_good_draft(finance) == (
        f"{len(finance.on_target)} of {total} measures were on target this quarter, and "
        f"{len(finance.improving)} more improved. {finance.on_target[0].title}: "
        f"{finance.on_target[0].show(finance.on_target[0].value)}, "
        f"{finance.on_target[0].variance_text}."
    )
    assert attention_draft(finance).startswith(
        "6 measures need attention this quarter, 2 of them red. "
    )
    waste = build_cpr(example, "Waste & Environment", QUARTER)
    assert attention_draft(waste) == "No measures need attention this quarter."
    children = build_cpr(example, "Children's Services", QUARTER)
    assert whats_good_draft(children).startswith("0 of 11 measures were on target this quarter")


@pytest.mark.parametrize(
    ("exceptions", "red", "start"),
    [(1, 1, "1 measure needs attention this quarter, and it is red."),
     (1, 0, "1 measure needs attention this quarter."),
     (3, 0, "3 measures need attention this quarter.")],
)  # fmt: skip
def test_attention_words_agree_in_number(example, exceptions, red, start):
    from kpitools.report.drafts import attention_draft

    report = build_cpr(example, "Finance", QUARTER)
    lines = [replace(x, rag="red" if i < red else "amber")
             for i, x in enumerate(report.exceptions[:exceptions])]  # fmt: skip
    assert attention_draft(replace(report, exceptions=tuple(lines))).startswith(start)
