"""What a dataset works out once (the council's ratings and XmR points) is used again only
while its frames are unchanged: every kind of change rates the data as changed."""

import dataclasses

import pandas as pd
import pytest

import kpitools
from kpitools.core.dataset import RATED_FROM
from tests.conftest import EXAMPLE, QUARTER

MEASURE = "FIN_FN_01"  # down is good; red in 2024/25 Q1 (101.3 against 100)


def _finance_row(dataset) -> tuple[object, ...]:
    card = kpitools.rate(dataset, by="quarter", services=["Finance"], spc=False)
    row = card[(card["measure_id"] == MEASURE) & (card["period"] == QUARTER)].iloc[0]
    return (row["rag"], row["value"], row["status"], row["data_quality"])


def _finance_rag(dataset) -> str:
    return str(_finance_row(dataset)[0])


def test_the_council_is_rated_once_and_each_service_takes_its_rows(example):
    whole = kpitools.rate(example, by="quarter", spc=False)
    for service in example.services:
        own = kpitools.rate(example, by="quarter", services=[service], spc=False)
        expected = whole[whole["service"] == service].reset_index(drop=True)
        pd.testing.assert_frame_equal(own, expected)
    kept = [key for key in example._memo if key[0] == "rate"]
    assert kept == [("rate", "quarter", False)]


def test_the_first_report_rates_only_its_own_service_and_the_second_the_council(example):
    from kpitools.core.variation import measure_points

    # Copies of the same frames with nothing worked out (loads of one folder share their
    # memory and what is worked out from it).
    mine, other = dataclasses.replace(example), dataclasses.replace(example)
    key = ("rate", "quarter", False)
    whole = kpitools.rate(other, by="quarter", spc=False)
    first = kpitools.rate(mine, by="quarter", services=["Finance"], spc=False)
    assert key not in mine._memo  # a run of one service rates one service
    second = kpitools.rate(mine, by="quarter", services=["Customer Services"], spc=False)
    assert key in mine._memo
    for service, card in (("Finance", first), ("Customer Services", second)):
        expected = whole[whole["service"] == service].reset_index(drop=True)
        pd.testing.assert_frame_equal(card, expected)
    finance = list(mine.measures.index[mine.measures["service"] == "Finance"])
    own = measure_points(mine, finance)
    assert "measure_points" not in mine._memo
    assert list(own) == [m for m in measure_points(other) if m in set(finance)]
    again = measure_points(mine, finance)
    assert "measure_points" in mine._memo
    assert own.keys() == again.keys()
    for measure_id, series in own.items():
        assert series.periods == again[measure_id].periods
        assert list(series.values) == list(again[measure_id].values)
        assert list(series.targets) == list(again[measure_id].targets)


def test_measures_keep_data_dictionary_order_whatever_order_they_are_asked_in(example):
    asked = ["FIN_KPI_06", "ASC_KPI_01"]
    card = kpitools.rate(example, by="month", measures=asked, spc=False)
    assert list(dict.fromkeys(card["measure_id"])) == ["ASC_KPI_01", "FIN_KPI_06"]
    assert kpitools.rate(example, by="month", measures=["NOT_A_MEASURE"], spc=False).empty


@pytest.mark.parametrize(
    "change",
    [
        "a value written",
        "a month marked not available",
        "a column added",
        "a target changed",
        "a measure's polarity changed",
    ],
)
def test_every_change_to_the_frames_is_rated_as_changed(example, change):
    before = _finance_row(example)
    assert before[0] == "red"
    values = example.values
    if change == "a value written":
        # a figure far on the good side of every month's target: the quarter turns green
        values.loc[(values["measure_id"] == MEASURE), "value"] = 50.0
    elif change == "a month marked not available":
        june = (values["measure_id"] == MEASURE) & (values["period"].astype(str) == "2024-06")
        values.loc[june, ["value", "status"]] = [float("nan"), "not_available"]
    elif change == "a column added":
        values["extra"] = 1
    elif change == "a target changed":
        example.measures.loc[MEASURE, "target"] = 200.0
    elif change == "a measure's polarity changed":
        example.measures.loc[MEASURE, "polarity"] = "up"
    after = kpitools.rate(example, by="quarter", services=["Finance"], spc=False)
    fresh = kpitools.rate(example, by="quarter", spc=False)  # the unrestricted path: no memo
    expected = fresh[fresh["service"] == "Finance"].reset_index(drop=True)
    pd.testing.assert_frame_equal(after, expected)
    now = _finance_row(example)
    if change == "a column added":
        assert now == before
    elif change == "a month marked not available":
        assert now[1] != before[1]  # the quarter's figure is May's now
    else:
        assert now[0] == "green"


def test_a_view_shares_the_work_but_not_the_changes(example, council_config):
    loaded = kpitools.load(EXAMPLE, config=council_config)
    again = kpitools.load(EXAMPLE, config=council_config)
    assert loaded._memo is again._memo  # the loader's views share what was worked out
    assert _finance_rag(loaded) == "red"
    again.values.loc[again.values["measure_id"] == MEASURE, "value"] = 50.0
    assert _finance_rag(again) == "green"
    assert _finance_rag(loaded) == "red"  # the other view is untouched
    fresh = kpitools.load(EXAMPLE, config=council_config)
    assert _finance_rag(fresh) == "red"  # and so is the loader's own copy


def test_a_stamp_never_matches_a_frame_it_cannot_locate(example):
    from kpitools.core.dataset import _places, _Stamp

    first = _Stamp.of(*_places(example, RATED_FROM))
    assert first.matches(_places(example, RATED_FROM)[1])
    # A sparse column has no one piece of numpy memory to locate: it never matches, so what
    # was worked out is worked out again (slower, never stale).
    example.values["coverage"] = example.values["coverage"].astype(pd.SparseDtype(float))
    arrow = _Stamp.of(*_places(example, RATED_FROM))
    assert not first.matches(arrow.where)
    assert not arrow.matches(_places(example, RATED_FROM)[1])


def test_a_report_follows_an_edit_made_after_an_earlier_report(example):
    report = kpitools.build_cpr(example, "Finance", QUARTER)
    assert MEASURE in {line.measure_id for line in report.exceptions}
    example.values.loc[example.values["measure_id"] == MEASURE, "value"] = 50.0
    again = kpitools.build_cpr(example, "Finance", QUARTER)
    assert MEASURE not in {line.measure_id for line in again.exceptions}


def test_a_series_keeps_a_few_charts_not_one_per_prefix(example):
    from kpitools.core.variation import KEPT_CHARTS, measure_points

    series = measure_points(example, [MEASURE])[MEASURE]
    first = series.chart(6, 13)
    assert series.chart(6, 13) is first  # drawn once
    for upto in range(14, len(series.values) + 1):
        series.chart(6, upto)
    assert len(series._charts) == KEPT_CHARTS
    assert series.chart(6, 13) is not first  # drawn again when asked after many others
    assert list(series.chart(6, 13).mean) == list(first.mean)


def test_when_every_report_is_coming_the_first_ask_rates_the_council(example):
    """A batch's kernels say so (their spawner, for all of them): the first report does the
    whole council's work once, and every report takes its rows, as a second report would."""
    mine, other = dataclasses.replace(example), dataclasses.replace(example)
    mine.expect_every_report()
    key = ("rate", "quarter", False)
    first = kpitools.rate(mine, by="quarter", services=["Finance"], spc=False)
    assert key in mine._memo
    whole = kpitools.rate(other, by="quarter", spc=False)
    pd.testing.assert_frame_equal(
        first, whole[whole["service"] == "Finance"].reset_index(drop=True)
    )


def test_reports_built_one_after_another_are_each_as_built_alone(example):
    """What later reports take from the work done once (the council's ratings, every
    measure's monthly ratings, how far the data reaches) gives what a first report
    works out for itself."""
    from kpitools.report.content import content_digest

    for service in example.services:
        alone = kpitools.build_cpr(dataclasses.replace(example), service, QUARTER)
        after = kpitools.build_cpr(example, service, QUARTER)
        assert content_digest(after) == content_digest(alone), service
        assert [x.months for x in after.all_lines] == [x.months for x in alone.all_lines]
    assert ("month ratings",) in example._memo


def test_a_stamp_tells_columns_whose_memory_changed_places(example):
    """Two columns' data swapped under the same labels: the frame is not the same."""
    from kpitools.core.dataset import _where

    frame = example.values.copy(deep=False)
    order = list(frame.columns)
    i, j = order.index("value"), order.index("restated_from")
    order[i], order[j] = order[j], order[i]
    relabelled = frame[order]
    relabelled.columns = list(frame.columns)
    assert _where(relabelled) is not None and _where(relabelled) != _where(frame)


def test_how_far_the_data_reaches_follows_the_values(example):
    latest, calendar = example.latest_month, example.calendar
    values = example.values
    reaching = values["period"].map(lambda p: calendar.last_month(p) >= latest).astype(bool)
    values.loc[reaching, ["value", "status"]] = [float("nan"), "pending"]  # still to come
    assert example.latest_month < latest
    assert example.latest_month == dataclasses.replace(example)._latest_month()
