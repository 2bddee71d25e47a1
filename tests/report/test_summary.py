"""The report's summary.json: what one built report says, read back by the batch."""

import json

import pytest

import kpitools
from kpitools.report.summary import FORMAT, ExceptionSummary, ReportSummary, SummaryError
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER


@pytest.fixture(scope="module")
def finance():
    dataset = kpitools.load(EXAMPLE, config=kpitools.load_config(COUNCIL_CONFIG))
    return kpitools.build_cpr(dataset, "Finance", QUARTER, report_date="2024-07-19", run_id="r1")


def test_the_summary_of_a_report(finance):
    summary = ReportSummary.of(finance)
    assert (summary.council, summary.service, summary.quarter) == (
        "Northfield Borough Council", "Finance", QUARTER)  # fmt: skip
    assert (summary.report_date, summary.run_id) == ("2024-07-19", "r1")
    assert summary.page_title == (
        "Finance: Corporate Performance Report, 2024/25 Q1 - Northfield Borough Council"
    )
    assert summary.footer == (
        "Northfield Borough Council · Finance · Corporate Performance Report 2024/25 Q1 · "
        "Report date 19 July 2024 · Run r1 · DRAFT: not yet approved by the Director"
    )
    assert summary.counts == {"green": 3, "amber": 6, "red": 2, "blue": 0, "white": 0, "grey": 0}
    assert summary.exceptions[0] == ExceptionSummary(
        "FIN_KPI_04", "Savings delivered against the savings plan", "red",
        "off target (red); worse than target by 5% of the target or more; flagged by an "
        "officer: affects the budget", True,
    )  # fmt: skip
    assert [x.measure_id for x in summary.exceptions] == [
        x.measure_id for x in finance.exceptions]  # fmt: skip
    assert summary.warnings == finance.warnings and len(summary.warnings) == 4
    assert summary.settings == finance.config.rating_settings()
    assert summary.settings["default_tolerance"] == 0.05


def test_awaiting_comment_lists_exceptions_without_a_comment(finance):
    summary = ReportSummary.of(finance)
    assert summary.awaiting_comment == ["FIN_FN_01", "FIN_KPI_05", "FIN_KPI_03", "FIN_KPI_02"]
    commented = {x.measure_id for x in summary.exceptions if x.has_comment}
    assert commented == {"FIN_KPI_04", "FIN_KPI_01"}


def test_round_trip(finance):
    summary = ReportSummary.of(finance)
    blob = summary.to_json()
    again = ReportSummary.from_json(blob)
    assert again == summary
    assert isinstance(again.exceptions, tuple) and isinstance(again.exceptions[0], ExceptionSummary)
    assert isinstance(again.warnings, tuple)
    assert again.to_json() == blob


def test_the_file_is_readable_json_with_its_format(finance):
    blob = ReportSummary.of(finance).to_json()
    data = json.loads(blob)
    assert data["format"] == FORMAT == 1
    assert list(data) == sorted(data)
    assert blob.endswith(b"}\n") and "·".encode() in blob  # UTF-8 text, not escapes


def test_write_summary(finance, tmp_path):
    path = tmp_path / "out" / "summary.json"
    kpitools.write_summary(finance, path)
    assert path.read_bytes() == ReportSummary.of(finance).to_json()
    assert [p.name for p in path.parent.iterdir()] == ["summary.json"]


def good_json(finance) -> dict:
    return json.loads(ReportSummary.of(finance).to_json())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(format=2), "not a kpitools report summary"),
        (lambda d: d.pop("format"), "not a kpitools report summary"),
        (lambda d: d.pop("counts"), "not a readable report summary"),
        (lambda d: d.update(extra=1), "not a readable report summary"),
        (lambda d: d.update(exceptions=[{"measure_id": "X"}]), "not a readable report summary"),
        (lambda d: d.update(exceptions=None), "not a readable report summary"),
    ],
    ids=["new-format", "no-format", "missing-field", "unknown-field", "bad-exception", "null"],
)
def test_a_summary_of_another_shape_is_refused(finance, edit, message):
    data = good_json(finance)
    edit(data)
    with pytest.raises(SummaryError, match=message):
        ReportSummary.from_json(json.dumps(data).encode())


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "not a readable report summary"),
        (b"\xff\xfe", "not a readable report summary"),
        (b"{not json", "not a readable report summary"),
        (b"[]", "not a kpitools report summary"),
        (b'"summary"', "not a kpitools report summary"),
        (b"null", "not a kpitools report summary"),
    ],
)
def test_garbage_is_a_summary_error(blob, message):
    with pytest.raises(SummaryError, match=message):
        ReportSummary.from_json(blob)
    assert issubclass(SummaryError, ValueError)


@pytest.mark.parametrize(
    "edit",
    [lambda d: d.update(counts=[]), lambda d: d.update(warnings="no comment")],
    ids=["counts-list", "warnings-string"],
)
def test_a_summary_with_fields_of_the_wrong_type_is_refused(finance, edit):
    data = good_json(finance)
    edit(data)
    with pytest.raises(SummaryError):
        ReportSummary.from_json(json.dumps(data).encode())
