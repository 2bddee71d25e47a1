"""The councils file of a run of many councils: paths, names and every problem with its line."""

from pathlib import Path

import pytest

import kpitools
from kpitools.contract.councils_file import CouncilEntry, load_councils
from tests.conftest import COUNCIL_CONFIG, EXAMPLE


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "councils.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(kpitools.ValidationError) as caught:
        load_councils(path)
    return [str(p) for p in caught.value.problems]


def test_paths_are_relative_to_the_file_and_names_become_folders(tmp_path):
    (tmp_path / "south" / "data").mkdir(parents=True)
    path = write(
        tmp_path,
        f"""\
councils:
  - name: North Shire
    data: {EXAMPLE}
    config: {COUNCIL_CONFIG}
  - name: "  South Vale "
    data: south/data
  - name: "North   shire!"
    data: south/data
""",
    )
    entries = load_councils(path)
    north = "north-shire-" + entries[0].folder[-8:]
    assert entries[0] == CouncilEntry(
        "North Shire", north, EXAMPLE.resolve(), COUNCIL_CONFIG.resolve(), None
    )
    south = (tmp_path / "south" / "data").resolve()
    assert entries[1] == CouncilEntry("South Vale", "south-vale", south, None, None)
    # Two names that make the same folder name each get a distinct one.
    assert entries[2].folder.startswith("north-shire-") and entries[2].folder != entries[0].folder


def test_every_problem_is_named_with_its_line(tmp_path):
    path = write(
        tmp_path,
        """\
councils:
  - name: North Shire
    data: nowhere
  - name: north shire
    data: .
    notebook: missing.ipynb
  - name: East
    data: .
    colour: blue
""",
    )
    assert problems(path) == [
        "councils.yaml:9: councils.2.colour: Extra inputs are not permitted",
    ]
    path.write_text(path.read_text(encoding="utf-8").replace("    colour: blue\n", ""),
                    encoding="utf-8")  # fmt: skip
    here = tmp_path.resolve()
    assert problems(path) == [
        f"councils.yaml:3: councils.0.data: no folder at nowhere (looked for {here / 'nowhere'}; "
        "paths are relative to the councils file's folder)",
        "councils.yaml:4: councils.1.name: 'north shire' is given twice (first as council 1)",
        "councils.yaml:6: councils.1.notebook: no file at missing.ipynb (looked for "
        f"{here / 'missing.ipynb'}; paths are relative to the councils file's folder)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("councils: [\n", "councils.yaml:2: is not valid YAML: expected the node content, but "
                          "found '<stream end>'"),
        ("- a\n", "councils.yaml:1: must be a mapping whose councils: is the list of councils"),
        ("{}\n", "councils.yaml:1: councils: Field required"),
        ("councils: []\n", "councils.yaml:1: councils: List should have at least 1 item after "
                           "validation, not 0"),
        ("councils:\n  - name: \"\\u2028\"\n    data: .\n",
         "councils.yaml:2: councils.0.name: must be printable text, not blank"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_list_of_councils_is_refused(tmp_path, text, expected):
    assert problems(write(tmp_path, text)) == [expected]


def test_an_unreadable_file_is_one_problem(tmp_path):
    path = tmp_path / "councils.yaml"
    path.write_bytes(b"\xff\xfe\x00bad")
    [message] = problems(path)
    assert message.startswith("councils.yaml: cannot be read: ")
