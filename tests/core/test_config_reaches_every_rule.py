"""The council configuration reaches every rule: the scorecard, the CPR and its summary agree."""

import pytest

import kpitools
from kpitools.report.summary import ReportSummary
from tests.conftest import EXAMPLE, QUARTER

RAGS = ("green", "amber", "red", "blue", "white", "grey")
AT_5_PERCENT = {
    "Customer Services": (2, 8, 0, 0, 0, 0),
    "ICT & Digital": (3, 6, 0, 0, 2, 0),
    "Adult Social Care": (6, 5, 0, 0, 0, 0),
    "Children's Services": (0, 4, 7, 0, 0, 0),
    "Finance": (3, 6, 2, 0, 0, 0),
    "Waste & Environment": (11, 0, 0, 0, 0, 1),
}
AT_15_PERCENT = {
    **AT_5_PERCENT,
    "Children's Services": (0, 9, 2, 0, 0, 0),
    "Finance": (3, 7, 1, 0, 0, 0),
}


def counts(values) -> dict[str, int]:
    return dict(zip(RAGS, values, strict=True))


def scorecard_counts(dataset, period: str = QUARTER) -> dict[str, dict[str, int]]:
    """RAG counts per service from kpitools.rate: the measures a CPR reports (include)."""
    scorecard = kpitools.rate(dataset, period=period)
    reported = scorecard[scorecard["include"]]
    return {
        service: {rag: int((reported[reported["service"] == service]["rag"] == rag).sum())
                  for rag in RAGS}
        for service in dataset.services
    }  # fmt: skip


def cpr_counts(dataset, period: str = QUARTER) -> dict[str, dict[str, int]]:
    return {s: kpitools.build_cpr(dataset, s, period).counts for s in dataset.services}


@pytest.fixture
def tolerant(tmp_path):
    """The example rated with a default tolerance of 15%, from a YAML file."""
    path = tmp_path / "council.yaml"
    path.write_text("council: Tolerant Council\ndefault_tolerance: 0.15\n", encoding="utf-8")
    return kpitools.load(EXAMPLE, config=kpitools.load_config(path))


def test_at_the_default_tolerance(example):
    assert example.config.default_tolerance == 0.05
    expected = {s: counts(v) for s, v in AT_5_PERCENT.items()}
    assert scorecard_counts(example) == expected
    assert cpr_counts(example) == expected


def test_a_wider_tolerance_from_a_yaml_file(tolerant):
    expected = {s: counts(v) for s, v in AT_15_PERCENT.items()}
    assert scorecard_counts(tolerant) == expected
    assert cpr_counts(tolerant) == expected
    narrow = counts(AT_5_PERCENT["Children's Services"])
    assert cpr_counts(tolerant)["Children's Services"] != narrow


def test_a_wider_tolerance_from_model_copy():
    config = kpitools.CouncilConfig.defaults().model_copy(update={"default_tolerance": 0.15})
    dataset = kpitools.load(EXAMPLE, config=config)
    children = kpitools.build_cpr(dataset, "Children's Services", QUARTER)
    assert (children.counts["amber"], children.counts["red"]) == (9, 2)
    assert scorecard_counts(dataset)["Children's Services"] == children.counts


def test_a_measures_own_tolerance_wins(tolerant, example):
    """FIN_FN_01 says 1%: 101.3% of budget is red at either default."""
    for dataset, default in ((example, 0.05), (tolerant, 0.15)):
        rows = kpitools.rate(dataset, period=QUARTER, services=["Finance"]).set_index("measure_id")
        assert rows.loc["FIN_FN_01", "tolerance"] == 0.01
        assert rows.loc["FIN_FN_01", "rag"] == "red"
        assert rows.loc["FIN_KPI_06", "tolerance"] == 0.005
        assert rows.loc["FIN_KPI_01", "tolerance"] == default


def test_the_exceptions_and_the_summary_follow_the_tolerance(tolerant, example):
    narrow = kpitools.build_cpr(example, "Children's Services", QUARTER)
    wide = kpitools.build_cpr(tolerant, "Children's Services", QUARTER)
    assert [x.rag for x in narrow.exceptions].count("red") == 7
    assert [x.rag for x in wide.exceptions].count("red") == 2
    summary = ReportSummary.of(wide)
    assert summary.settings["default_tolerance"] == 0.15
    assert summary.counts == wide.counts == counts(AT_15_PERCENT["Children's Services"])
    assert [x.rag for x in summary.exceptions] == [x.rag for x in wide.exceptions]
    assert summary.council == "Tolerant Council"


def test_the_financial_year_start_reaches_the_periods():
    """A January year: the quarter April to June is '2024 Q2', and both ratings agree."""
    dataset = kpitools.load(EXAMPLE, config=kpitools.CouncilConfig(council="X", year_start_month=1))
    assert list(kpitools.rate(dataset, period="latest")["period"].unique()) == ["2024 Q2"]
    assert scorecard_counts(dataset, "2024 Q2") == cpr_counts(dataset, "2024 Q2")
    report = kpitools.build_cpr(dataset, "Adult Social Care", "2024 Q2")
    assert report.quarter == "2024 Q2" and f"{report.report_date}" == "2024-06-30"
    assert ReportSummary.of(report).settings["year_start_month"] == 1


def test_a_calendar_year_council_rates_calendar_quarters(tmp_path):
    """With the year starting in January, the same months make other quarters: the scorecard
    and the CPR agree on them (2024 Q2 is April to June, the example's last quarter)."""
    path = tmp_path / "council.yaml"
    path.write_text("council: Calendar Council\nyear_start_month: 1\n", encoding="utf-8")
    dataset = kpitools.load(EXAMPLE, config=kpitools.load_config(path))
    assert dataset.calendar.label(dataset.calendar.parse("2024 Q2")) == "2024 Q2"
    assert scorecard_counts(dataset, "2024 Q2") == cpr_counts(dataset, "2024 Q2")
    report = kpitools.build_cpr(dataset, "Finance", "2024 Q2")
    assert report.quarter == "2024 Q2"
    assert ReportSummary.of(report).settings["year_start_month"] == 1


def test_headline_measures_come_from_the_configuration(tmp_path):
    path = tmp_path / "council.yaml"
    path.write_text(
        "council: C\nservices:\n  Finance:\n    headline: [FIN_KPI_04, FIN_KPI_01]\n",
        encoding="utf-8",
    )
    dataset = kpitools.load(EXAMPLE, config=kpitools.load_config(path))
    report = kpitools.build_cpr(dataset, "Finance", QUARTER)
    assert [line.measure_id for line in report.headlines] == ["FIN_KPI_04", "FIN_KPI_01"]
    assert ReportSummary.of(report).settings["headline"] == {
        "Finance": ["FIN_KPI_04", "FIN_KPI_01"]
    }


def test_a_new_tolerance_on_a_loaded_dataset_rates_with_it(example):
    """The default tolerance applies when rating, so the summary's settings are the rules used."""
    from dataclasses import replace

    wider = replace(example, config=example.config.model_copy(update={"default_tolerance": 0.15}))
    expected = {s: counts(v) for s, v in AT_15_PERCENT.items()}
    assert cpr_counts(wider) == expected
    report = kpitools.build_cpr(wider, "Children's Services", QUARTER)
    assert ReportSummary.of(report).settings["default_tolerance"] == 0.15


def test_a_configuration_with_another_year_cannot_be_given_to_a_loaded_dataset(example):
    from dataclasses import replace

    other = example.config.model_copy(update={"year_start_month": 1})
    with pytest.raises(ValueError, match="load the data with this configuration"):
        replace(example, config=other)


def test_two_folders_with_the_same_files_are_two_datasets(tmp_path):
    import shutil

    first, second = tmp_path / "a", tmp_path / "b"
    shutil.copytree(EXAMPLE, first)
    shutil.copytree(EXAMPLE, second)
    assert kpitools.load(first).source == first
    assert kpitools.load(second).source == second
