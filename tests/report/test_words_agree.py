"""Words that agree: one definition each of on target, improving and what's good; variance
told by polarity; the period named as it is; the council's categories; units with scale."""

import math
import re

import pytest

import kpitools
from kpitools.core.errors import ValidationError
from kpitools.report import fragments
from kpitools.report.deck import build_deck
from kpitools.report.words import format_value

MEASURES = """\
measure_id,service,title,polarity,unit,target,category
G,Parks,Residents satisfied with parks,up,percent,70,customer
A,Parks,Grass cut on schedule,up,percent,90,performance
R,Parks,Play areas inspected,up,percent,95,performance
W,Parks,Staff sickness days,down,days,8,workforce
"""
VALUES = """\
measure_id,period,value,status
G,2024-05,72,
G,2024-06,75,
A,2024-05,80,
A,2024-06,88.5,
R,2024-05,94,
R,2024-06,60,
W,2024-05,9,
W,2024-06,10.4,
"""


def report_of(make_data, period="2024-06", measures=MEASURES, values=VALUES, **files):
    data = make_data(measures=measures, values=values, **files)
    return kpitools.build_cpr(kpitools.load(data), "Parks", period)


def test_on_target_improving_and_whats_good_have_one_definition_each(make_data):
    report = report_of(make_data)
    assert [x.measure_id for x in report.on_target] == ["G"]
    # A is amber (88.5% against 90%, within tolerance) and improving: not yet on target.
    assert [x.measure_id for x in report.improving] == ["A"]
    assert [x.measure_id for x in report.whats_good] == ["G", "A"]
    assert report.successes == ("Residents satisfied with parks: 75% against a target of 70%",)
    assert report.whats_good_caption == (
        "What's good, June 2024: 1 measure on target, 1 measure improving but not yet on target"
    )
    # The exceptions are neither: R fell to 60%, W worsened.
    assert {x.measure_id for x in report.exceptions} == {"R", "W"}
    slide_2 = "".join(
        shape.text_frame.text
        for shape in build_deck(report).slides[1].shapes
        if shape.has_text_frame
    )
    assert report.whats_good_caption in slide_2


def test_variance_is_told_by_polarity(make_data):
    lines = {x.measure_id: x for x in report_of(make_data).all_lines}
    assert lines["G"].variance_text == "5 points better than target"
    assert lines["A"].variance_text == "1.5 points worse than target"
    assert lines["R"].variance_text == "35 points worse than target"
    # Days: relative to the target, lower is better: 10.4 against 8 is 30% worse.
    assert lines["W"].variance_text == "30% worse than target"
    html = fragments.exceptions(report_of(make_data))
    assert "35 points worse than target" in html and "+" not in re.sub(r"<[^>]*>", "", html)


def test_a_period_not_available_shows_no_value(make_data):
    values = VALUES.replace("R,2024-05,94,", "R,2024-05,,not_available") + "R,2024-04,90,\n"
    report = report_of(make_data, period="2024/25 Q1", values=values)
    [line] = [x for x in report.all_lines if x.measure_id == "R"]
    assert (line.status, line.value_text, line.tile_value) == (
        "not_available",
        "n/a (not available)",
        "n/a",
    )
    assert line.variance_text == "–"
    assert "n/a (not available)" in fragments.scorecard(report)


@pytest.mark.parametrize(
    ("period", "phrase"),
    [
        ("2024-06", "this month"),
        ("2024/25 Q1", "this quarter"),
        ("2024/25", "in 2024/25"),
        ("2024-05..2024-06", "in May to June 2024"),
    ],
)
def test_the_period_is_named_as_it_is(make_data, period, phrase):
    values = "measure_id,period,value\nR,2024-04,60\nR,2024-05,60\nR,2024-06,60\nR,2025-03,60\n"
    report = report_of(make_data, period=period, measures=MEASURES, values=values)
    assert report.in_period == phrase
    assert report.whats_good_empty == f"No measure is on target or improving {phrase}."
    assert report.successes_empty == f"No measure is on target {phrase}."


def test_an_empty_slide_says_so_and_shows_the_nearest_measures(make_data):
    report = report_of(make_data)
    # No action recorded: slide 4 lists the exceptions no action names, not one sentence.
    assert [x.measure_id for x in report.without_action] == ["R", "W"]
    texts = [
        "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
        for slide in build_deck(report).slides
    ]
    plan = next(t for t in texts if "performance improvement plan" in t)
    assert "No improvement actions recorded for this service." in plan
    assert "Exceptions with no improvement action" in plan


def test_comments_that_are_not_shown_and_a_missing_summary_are_warnings(make_data):
    comments = (
        "service,quarter,measure_id,section,author,comment\n"
        "Parks,2024/25 Q1,G,,Director,Satisfaction is the best for five years.\n"
        "Parks,2024/25 Q1,NOPE,,Director,A measure this report does not hold.\n"
    )
    measures = MEASURES + "NOPE,Parks,Quarterly survey,up,percent,50,customer,quarterly\n"
    measures = measures.replace("target,category\n", "target,category,frequency\n")
    values = VALUES + "NOPE,2024/25 Q1,55,\n"
    report = report_of(make_data, measures=measures, values=values, comments=comments)
    assert "Parks 2024-06: no Director's summary; the deck shows 'Summary awaited'" in (
        report.warnings
    )
    # G is not an exception: its comment is in the full scorecard (and no warning).
    assert not any("comment on G" in w for w in report.warnings)
    assert "Satisfaction is the best for five years." in fragments.scorecard(report)
    # NOPE is quarterly: not in a month's report, so its comment cannot be shown.
    assert any(
        w.startswith("Parks 2024-06: the comment on NOPE is not shown") for w in report.warnings
    )


def test_the_councils_own_categories_group_the_scorecard_in_order(make_data):
    from kpitools.core.config import CouncilConfig

    config = CouncilConfig(
        council="City", categories=["People", "Place", {"name": "Prosperity", "also": ["economy"]}]
    )
    measures = (
        "measure_id,service,title,polarity,unit,target,category\n"
        "E,City,New jobs,up,count,100,Economy\n"
        "H,City,Homes built,up,count,400,place\n"
        "S,City,Residents feeling safe,up,percent,80,\n"
    )
    values = "measure_id,period,value\nE,2024-06,120\nH,2024-06,380\nS,2024-06,82\n"
    dataset = kpitools.load(make_data(measures=measures, values=values), config=config)
    assert dataset.measures["category"].to_dict() == {"E": "Prosperity", "H": "Place", "S": ""}
    report = kpitools.build_cpr(dataset, "City", "2024-06")
    assert report.categories == ("People", "Place", "Prosperity", "Other measures")
    html = fragments.scorecard(report)
    assert re.findall(r"<h3>([^<]*)</h3>", html) == list(report.categories)
    people = html.split("<h3>People</h3>")[1].split("<h3>")[0]
    assert people == "<p>To be confirmed: no measures in this category yet.</p>"
    counts = dict(report.category_counts)
    assert counts["Place"]["amber"] + counts["Place"]["red"] == 1
    assert sum(counts["People"].values()) == 0


def test_a_category_the_council_has_not_named_is_refused(make_data):
    measures = MEASURES.replace("workforce\n", "wellbeing\n")
    with pytest.raises(ValidationError) as raised:
        kpitools.load(make_data(measures=measures, values=VALUES))
    [problem] = [str(p) for p in raised.value.problems]
    assert problem.startswith("measures.csv:5: category 'wellbeing' is not one of the council's")
    assert "(Service performance, Customer, Workforce, Finance)" in problem


@pytest.mark.parametrize(
    ("value", "unit", "scale", "text"),
    [
        (110, "currency", "thousands", "£110k"),
        (1234, "currency", "thousands", "£1.2m"),
        (12.5, "currency", "thousands", "£12.5k"),
        (0.5, "currency", "thousands", "£500"),
        (2.75, "currency", "millions", "£2.8m"),
        (-40, "currency", "thousands", "-£40k"),
        (12500, "count", "thousands", "12.5m"),
        (1231404, "currency", "units", "£1,231,404"),
        (110, "currency", "", "£110"),
    ],
)
def test_a_currency_or_count_with_a_scale_is_written_at_its_real_size(value, unit, scale, text):
    assert format_value(value, unit, scale=scale) == text


def test_scale_is_read_from_its_column_or_the_unit(make_data):
    measures = (
        "measure_id,service,title,polarity,unit,scale,target\n"
        "B,Finance,Forecast overspend,down,£000s,,0\n"
        "C,Finance,Capital programme,up,currency,£m,40\n"
        "D,Finance,Council tax base,up,count,thousands,50\n"
    )
    values = "measure_id,period,value\nB,2024-06,110\nC,2024-06,38.2\nD,2024-06,51.3\n"
    dataset = kpitools.load(make_data(measures=measures, values=values))
    assert dataset.measures[["unit", "scale"]].to_dict("index") == {
        "B": {"unit": "currency", "scale": "thousands"},
        "C": {"unit": "currency", "scale": "millions"},
        "D": {"unit": "count", "scale": "thousands"},
    }
    report = kpitools.build_cpr(dataset, "Finance", "2024-06")
    shown = {x.measure_id: (x.value_text, x.target_text) for x in report.all_lines}
    assert shown == {
        "B": ("£110k", "Target £0"),
        "C": ("£38.2m", "Target £40m"),
        "D": ("51.3k", "Target 50k"),
    }
    assert math.isclose(report.all_lines[0].value, 110)  # kept as supplied, in £000s


def test_a_scale_for_a_percentage_is_refused(make_data):
    measures = "measure_id,service,title,polarity,unit,scale\nP,S,Paid on time,up,percent,000s\n"
    with pytest.raises(ValidationError) as raised:
        kpitools.load(make_data(measures=measures, values="measure_id,period,value\n"))
    assert [str(p) for p in raised.value.problems] == [
        "measures.csv:2: scale thousands is for currency and counts, not a percent measure"
    ]


def test_a_long_tile_title_uses_the_short_title(make_data):
    title = "Percentage of household waste sent for reuse, recycling and composting in the borough"
    measures = (
        "measure_id,service,title,short_title,polarity,unit,target\n"
        f'K,Parks,"{title}",Household waste recycled,up,percent,50\n'
    )
    report = report_of(
        make_data, measures=measures, values="measure_id,period,value\nK,2024-06,55\n"
    )
    slide_1 = build_deck(report).slides[0]
    texts = [s.text_frame.text for s in slide_1.shapes if s.has_text_frame]
    assert "Household waste recycled" in texts
    assert title not in texts
