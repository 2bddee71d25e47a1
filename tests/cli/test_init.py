"""`kpitools init`: a new data folder that validates, with the contract's words as dropdowns."""

import subprocess
import sys

import openpyxl
import pytest

import kpitools
from kpitools.contract.template import sheets, write_template
from kpitools.core.config import CouncilConfig
from kpitools.core.errors import KpiToolsError


def test_the_template_workbook_is_a_data_folder_with_dropdowns(tmp_path):
    [path] = write_template(tmp_path, CouncilConfig.defaults())
    dataset = kpitools.load(tmp_path)
    assert list(dataset.measures.index) == ["CS_01"]
    assert dataset.measures.loc["CS_01", "category"] == "Service performance"
    assert (len(dataset.values), len(dataset.targets), len(dataset.comments)) == (1, 1, 1)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["measures", "targets", "values", "comments", "actions",
                                   "benchmarks"]  # fmt: skip
    lists = {v.formula1 for v in workbook["measures"].data_validations.dataValidation}
    assert '"up,down,neutral"' in lists
    assert '"Service performance,Customer,Workforce,Finance,other"' in lists
    statuses = {v.formula1 for v in workbook["values"].data_validations.dataValidation}
    assert '"reported,mitigated,not_available,pending,not_expected"' in statuses


@pytest.mark.parametrize("column", ["polarity", "unit", "frequency", "category", "include"])
def test_every_dropdown_word_is_one_the_contract_reads(tmp_path, column):
    [measures] = [s for s in sheets(CouncilConfig.defaults()) if s.name == "measures"]
    for word in measures.words[column]:
        row = dict(zip(measures.columns, measures.example, strict=True))
        row.update({column: word, "aggregation": "last", "rag_method": "", "tsl": "",
                    "msl": "", "target": "80"})  # fmt: skip
        folder = tmp_path / f"{column}-{word}"
        folder.mkdir()
        (folder / "measures.csv").write_text(
            ",".join(row) + "\n" + ",".join(f'"{v}"' for v in row.values()) + "\n",
            encoding="utf-8",
        )
        (folder / "values.csv").write_text("measure_id,period,value\n", encoding="utf-8")
        kpitools.load(folder)  # no problem raised


def test_init_never_overwrites_and_says_how_to_go_on(tmp_path):
    command = [sys.executable, "-m", "kpitools", "init", str(tmp_path / "new")]
    first = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert first.returncode == 0, first.stderr
    assert f"Check it with: kpitools validate --data {tmp_path / 'new'}" in first.stdout
    again = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert again.returncode == 2
    assert again.stderr.startswith("error: ") and "already holds data.xlsx" in again.stderr
    with pytest.raises(KpiToolsError, match=r"already holds values\.csv"):
        (tmp_path / "csv").mkdir()
        (tmp_path / "csv" / "values.csv").write_text("x\n")
        write_template(tmp_path / "csv", CouncilConfig.defaults(), csv=True)


def test_the_csv_folder_has_each_files_header(tmp_path):
    written = write_template(tmp_path, CouncilConfig.defaults(), csv=True)
    assert [p.stem for p in written] == [
        "measures", "targets", "values", "comments", "actions", "benchmarks"
    ]  # fmt: skip
    assert (tmp_path / "values.csv").read_text().startswith("measure_id,period,value,")
    assert len(kpitools.load(tmp_path).measures) == 0
