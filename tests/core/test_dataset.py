"""A dataset keeps no state that can go stale: edit a frame, and the next rating sees it."""

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import kpitools
from kpitools.core.errors import KpiToolsError
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER


def value_row(dataset, measure_id: str, month: str) -> pd.Series:
    rows = (dataset.values["measure_id"] == measure_id) & (
        dataset.values["period"].astype(str) == month
    )
    assert rows.sum() == 1
    return rows


def line_of(report, measure_id):
    lines = {line.measure_id: line for line in report.scorecard.itertuples(index=False)}
    return lines[measure_id]


def test_an_edited_value_is_rated_as_edited(example):
    """FIN_KPI_06 (payroll accuracy, 'last' of the quarter) is green at 99.67%."""
    before = kpitools.build_cpr(example, "Finance", QUARTER)
    assert line_of(before, "FIN_KPI_06").value == 99.67
    assert line_of(before, "FIN_KPI_06").rag == "green"
    assert before.counts["green"] == 3 and before.counts["red"] == 2
    assert "FIN_KPI_06" not in [line.measure_id for line in before.exceptions]

    example.values.loc[value_row(example, "FIN_KPI_06", "2024-06"), "value"] = 90.0
    after = kpitools.build_cpr(example, "Finance", QUARTER)
    assert line_of(after, "FIN_KPI_06").value == 90.0
    assert line_of(after, "FIN_KPI_06").rag == "red"
    assert after.counts["green"] == 2 and after.counts["red"] == 3
    assert "FIN_KPI_06" in [line.measure_id for line in after.exceptions]
    scorecard = kpitools.rate(example, period=QUARTER, services=["Finance"])
    assert scorecard.set_index("measure_id").loc["FIN_KPI_06", "rag"] == "red"


def test_an_edited_comment_reaches_the_report(example):
    comments = example.comments
    row = (comments["service"] == "Finance") & (comments["section"] == "summary")
    assert row.sum() == 1
    comments.loc[row, "comment"] = "Rewritten for the committee."
    assert kpitools.build_cpr(example, "Finance", QUARTER).summary_comment == (
        "Rewritten for the committee."
    )


def test_comments_and_actions_edited_after_a_report_reach_the_next(example):
    """What a report remembers of the comments and the improvement plan (grouped by service
    once) is worked out again when they are edited in place, a row added or dropped."""
    import dataclasses

    import pandas as pd

    first = kpitools.build_cpr(example, "Finance", QUARTER)
    assert first.summary_comment and first.actions
    comments = example.comments
    row = (comments["service"] == "Finance") & (comments["section"] == "summary")
    comments.loc[row, "comment"] = "Rewritten after the first report."
    actions = example.actions
    mine = actions.index[actions["service"] == "Finance"]
    actions.loc[mine[0], "action"] = "A new first action"
    again = kpitools.build_cpr(example, "Finance", QUARTER)
    assert again.summary_comment == "Rewritten after the first report."
    assert "A new first action" in [a.action for a in again.actions]
    edited = dataclasses.replace(  # a view of the dataset (it shares what is remembered)
        example,
        actions=actions.drop(index=mine),
        comments=pd.concat([comments[~row], comments[row].assign(comment="Third.")]),
    )
    third = kpitools.build_cpr(edited, "Finance", QUARTER)
    assert third.actions == () and third.summary_comment == "Third."


def test_an_edited_data_dictionary_reaches_the_report(example):
    example.measures.loc["FIN_KPI_06", "title"] = "Payroll right first time"
    report = kpitools.build_cpr(example, "Finance", QUARTER)
    assert line_of(report, "FIN_KPI_06").title == "Payroll right first time"


def test_each_load_is_an_independent_copy(council_config):
    one = kpitools.load(EXAMPLE, config=council_config)
    two = kpitools.load(EXAMPLE, config=council_config)
    assert one is not two and one.values is not two.values
    original = two.values.loc[value_row(two, "FIN_KPI_06", "2024-06"), "value"].item()
    one.values.loc[value_row(one, "FIN_KPI_06", "2024-06"), "value"] = 1.0
    one.measures.loc["FIN_KPI_06", "title"] = "Changed"
    one.comments.loc[one.comments.index[0], "comment"] = "Changed"
    assert two.values.loc[value_row(two, "FIN_KPI_06", "2024-06"), "value"].item() == original
    assert two.measures.loc["FIN_KPI_06", "title"] == "Payroll paid accurately"
    assert two.comments.loc[two.comments.index[0], "comment"] != "Changed"
    three = kpitools.load(EXAMPLE, config=council_config)  # a later load is as fresh as ever
    assert_frame_equal(three.values, two.values)
    assert_frame_equal(three.measures, two.measures)


def test_dataset_copy_is_independent(example):
    copy = example.copy()
    copy.values.loc[value_row(copy, "FIN_KPI_06", "2024-06"), "value"] = 1.0
    assert example.values.loc[value_row(example, "FIN_KPI_06", "2024-06"), "value"].item() == (
        99.67
    )
    assert copy.config == example.config and copy.source == example.source == EXAMPLE


def test_a_changed_file_is_read_afresh(tmp_path, council_config):
    """The loader's parse cache is keyed by the files' bytes."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data)
    before = kpitools.load(data, config=council_config)
    text = (data / "values.csv").read_text(encoding="utf-8")
    (data / "values.csv").write_text(
        text.replace("FIN_KPI_06,2024-06,99.67,", "FIN_KPI_06,2024-06,90,"), encoding="utf-8"
    )
    after = kpitools.load(data, config=council_config)
    assert before.values.loc[value_row(before, "FIN_KPI_06", "2024-06"), "value"].item() == 99.67
    assert after.values.loc[value_row(after, "FIN_KPI_06", "2024-06"), "value"].item() == 90.0


@pytest.mark.parametrize(
    "service",
    ["Customer Services", "ICT & Digital", "Adult Social Care", "Children's Services",
     "Finance", "Waste & Environment"],
)  # fmt: skip
def test_rating_one_service_equals_the_whole_councils_rating_of_it(example, service):
    whole = kpitools.rate(example)
    mine = whole[whole["service"] == service].reset_index(drop=True)
    alone = kpitools.rate(example, services=[service]).reset_index(drop=True)
    assert len(alone) > 100
    assert_frame_equal(alone, mine)


def test_services_in_data_dictionary_order(example):
    assert example.services == [
        "Customer Services",
        "ICT & Digital",
        "Adult Social Care",
        "Children's Services",
        "Finance",
        "Waste & Environment",
    ]
    assert str(example.latest_month) == "2024-06"
    assert example.calendar.label(example.calendar.parse(QUARTER)) == QUARTER


def test_build_cpr_refuses_an_unknown_service_or_period(example):
    with pytest.raises(KpiToolsError, match="service 'Housing' is not in the data"):
        kpitools.build_cpr(example, "Housing", QUARTER)
    with pytest.raises(KpiToolsError, match="'May' is not a period"):
        kpitools.build_cpr(example, "Finance", "May")


def test_the_config_goes_with_the_dataset():
    config = kpitools.load_config(COUNCIL_CONFIG)
    dataset = kpitools.load(EXAMPLE, config=config)
    assert dataset.config == config
    assert kpitools.build_cpr(dataset, "Finance", QUARTER).council == "Northfield Borough Council"
    assert kpitools.load(EXAMPLE).config == kpitools.CouncilConfig.defaults()


def _same(fast, slow) -> bool:
    """The same value of the same type (missing marks alike)."""
    return type(fast) is type(slow) and (
        fast is slow or bool(pd.isna(fast) and pd.isna(slow)) or fast == slow
    )


def _every_kind_of_column() -> pd.DataFrame:
    return pd.DataFrame({
        "text": pd.Series(["a", None, "c"], dtype="str"),
        "number": [1.5, np.nan, 2.0],
        "flag": [True, False, True],
        "count": [1, 2, 3],
        "mixed": pd.Series([np.int64(3), "x", None], dtype=object),
        "when": pd.to_datetime(["2024-01-01", None, "2024-03-01"]),
        "nullable": pd.array([1, None, 3], dtype="Int64"),
        "kind": pd.Categorical(["x", "y", None]),
        "na text": pd.Series(["a", None, "c"], dtype="string"),
        "not a name": [1, 2, 3],
    })  # fmt: skip


def test_records_are_what_pandas_gives_value_for_value():
    """records_of and rows_of read a column at a time: the values and types pandas'
    to_dict("records") and itertuples give, for every kind of column."""
    from kpitools.core.dataset import records_of, rows_of

    frame = _every_kind_of_column()
    records = records_of(frame)
    assert len(records) == 3
    for fast, slow in zip(records, frame.to_dict("records"), strict=True):
        assert list(fast) == list(slow)
        assert all(_same(fast[k], slow[k]) for k in fast), (fast, slow)
    rows = list(rows_of(frame))
    assert len(rows) == 3
    for fast_row, slow_row in zip(rows, frame.itertuples(index=False), strict=True):
        assert fast_row._fields == slow_row._fields
        assert all(_same(a, b) for a, b in zip(fast_row, slow_row, strict=True))
    assert records[1]["na text"] is None  # pandas' None for a missing text, not pd.NA
    assert rows[0].text == "a" and rows[1]._9 == 2  # a column whose name is not a name
    assert list(rows_of(frame[[]])) == [(), (), ()] and records_of(frame[[]]) == [{}, {}, {}]


def test_nothing_is_remembered_where_pandas_would_not_copy_on_write(example, monkeypatch):
    """With a pandas that writes into shared columns (older than 3, its option off), a frame
    edited in place could not be told from the one a result was remembered for: the work is
    done each time instead."""
    from kpitools.core import dataset as module

    calls = []
    for on, expected in ((True, 1), (False, 3)):
        calls.clear()
        monkeypatch.setattr(module, "copy_on_write", lambda on=on: on)
        for _ in range(3):
            example.remembered(("test", on), lambda: calls.append(1) or len(calls), ("values",))
        assert len(calls) == expected
