import pytest

import kpitools
from kpitools.core.errors import ValidationError
from tests.conftest import COUNCIL_CONFIG, EXAMPLE


def problems(tmp_path, text: str) -> list[str]:
    path = tmp_path / "council.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        kpitools.load_config(path)
    return [str(p) for p in caught.value.problems]


def test_example_configuration_loads():
    config = kpitools.load_config(COUNCIL_CONFIG)
    assert config.council == "Northfield Borough Council"
    assert config.year_start_month == 4
    assert config.logo is not None and config.logo.is_file()
    assert config.service("Finance").director == "Director of Finance"
    assert config.service("Unknown").director == ""
    assert config.palette["amber"] == "#B35C00"
    assert config.template is None  # the default template


def test_defaults_without_a_file():
    assert kpitools.load_config("").council == "Council"
    assert kpitools.load_config(None) == kpitools.CouncilConfig.defaults()


def test_problems_name_the_line(tmp_path):
    found = problems(
        tmp_path,
        "council: Eastshire\n"
        "year_start_month: 13\n"
        "rag_colours:\n"
        "  green: '#00703C'\n"
        "  amber: '#FFBF00'\n"
        "services:\n"
        "  Finance:\n"
        "    director: 42\n"
        "    deputy: Someone\n"
        "colour_scheme: blue\n",
    )
    assert found == [
        "council.yaml:2: year_start_month: Input should be less than or equal to 12",
        "council.yaml:3: rag_colours: amber '#FFBF00' has contrast 1.7:1 against white: RAG "
        "colours need at least 3:1",
        "council.yaml:8: services.Finance.director: Input should be a valid string",
        "council.yaml:9: services.Finance.deputy: Extra inputs are not permitted",
        "council.yaml:10: colour_scheme: Extra inputs are not permitted",
    ]


def test_broken_yaml_and_missing_files(tmp_path):
    assert problems(tmp_path, "council: [unclosed\n")[0].startswith(
        "council.yaml:2: is not valid YAML"
    )
    assert problems(tmp_path, "- a list\n") == [
        "council.yaml: must be a mapping of settings (council: ...)"
    ]
    relative = "paths are relative to the configuration file's folder"
    assert problems(tmp_path, "council: X\nlogo: nowhere.png\ntemplate: none.pptx\n") == [
        f"council.yaml:2: logo: no file at nowhere.png (looked for {tmp_path}/nowhere.png; "
        f"{relative})",
        f"council.yaml:3: template: no file at none.pptx (looked for {tmp_path}/none.pptx; "
        f"{relative})",
    ]
    assert problems(tmp_path, "year_start_month: 4\n") == [
        "council.yaml:1: council: Field required"
    ]


def test_services_and_headlines_must_be_in_the_data(tmp_path):
    """A misspelt service or headline measure is a problem, not a silent loss of settings."""
    path = tmp_path / "council.yaml"
    path.write_text(
        "council: X\n"
        "services:\n"
        "  Finanse:\n"
        "    director: Director of Finance\n"
        "  Finance:\n"
        "    headline: [FIN_KPI_01, ASC_KPI_01, FIN_KPI_99]\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as caught:
        kpitools.load(EXAMPLE, config=kpitools.load_config(path))
    assert [str(p) for p in caught.value.problems] == [
        "council.yaml:3: services.Finanse: no service of that name in measures (they are "
        "Customer Services, ICT & Digital, Adult Social Care, Children's Services, Finance, "
        "Waste & Environment)",
        "council.yaml:6: services.Finance.headline: ASC_KPI_01 is not a measure of Finance",
        "council.yaml:6: services.Finance.headline: FIN_KPI_99 is not a measure of Finance",
    ]
