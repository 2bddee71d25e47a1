"""Reading a councils file: the councils a shared service reports for in one run.

::

    # councils.yaml
    councils:
      - name: North Shire
        data: north/data                      # the council's data folder
        config: north/params/council.yaml     # optional: defaults apply without one
      - name: South Vale
        data: south/data
        notebook: south/notebooks/cpr.ipynb   # optional: the council's own CPR notebook

Paths are relative to the councils file's folder. Each council's reports go into its own
folder under the run's output folder, named from ``name`` (``north-shire/2024-25-q1/``).
Problems are reported like any other input's, naming the file and the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticError

from kpitools.contract.config_file import line_of, read_yaml, setting_problems
from kpitools.core.errors import Problem, ValidationError
from kpitools.core.naming import assign_slugs


class _Council(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    data: str = Field(min_length=1)
    config: str | None = None
    notebook: str | None = None

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.strip() or not value.isprintable():
            raise ValueError("must be printable text, not blank")
        return value.strip()


class _CouncilsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    councils: list[_Council] = Field(min_length=1)


@dataclass(frozen=True)
class CouncilEntry:
    """One council of a councils file, its paths resolved.

    Attributes:
        name: as the file gives it (progress lines and summaries show it).
        folder: the distinct safe folder name of its reports under the run's output folder.
        data: its data folder.
        config: its configuration file, or None for the defaults.
        notebook: its own CPR notebook, or None for the one kpitools ships.
    """

    name: str
    folder: str
    data: Path
    config: Path | None
    notebook: Path | None


def load_councils(path: str | Path) -> list[CouncilEntry]:
    """Read and check a councils file.

    Raises:
        kpitools.ValidationError: every problem, with file and line: not YAML, a setting
            misspelt, a name given twice, a data folder, configuration or notebook that is
            not there.
    """
    path = Path(path)
    name = path.name
    root, raw = read_yaml(path)
    if not isinstance(raw, dict):
        message = "must be a mapping whose councils: is the list of councils"
        raise ValidationError([Problem(name, line_of(root, ()), "", message)])
    try:
        parsed = _CouncilsFile.model_validate(raw)
    except PydanticError as err:
        raise ValidationError(setting_problems(err, name, root)) from None
    return _entries(parsed, path, root)


def _entries(parsed: _CouncilsFile, path: Path, root: Any) -> list[CouncilEntry]:
    name, folder = path.name, path.resolve().parent
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, council in enumerate(parsed.councils):
        if council.name.casefold() in seen:
            first = seen[council.name.casefold()] + 1
            problems.append(Problem(name, line_of(root, ("councils", index, "name")),
                                    f"councils.{index}.name",
                                    f"councils.{index}.name: {council.name!r} is given twice "
                                    f"(first as council {first})"))  # fmt: skip
        seen.setdefault(council.name.casefold(), index)

    def resolved(index: int, field: str, value: str | None, kind: str) -> Path | None:
        if value is None:
            return None
        target = Path(value) if Path(value).is_absolute() else (folder / value).resolve()
        found = target.is_dir() if kind == "folder" else target.is_file()
        if not found:
            where = f"councils.{index}.{field}"
            message = (
                f"{where}: no {kind} at {value} (looked for {target}; paths are relative to "
                "the councils file's folder)"
            )
            problems.append(
                Problem(name, line_of(root, ("councils", index, field)), where, message)
            )
        return target

    slugs = assign_slugs(c.name for c in parsed.councils)
    entries = []
    for index, council in enumerate(parsed.councils):
        data = resolved(index, "data", council.data, "folder")
        assert data is not None
        entries.append(
            CouncilEntry(
                name=council.name,
                folder=slugs[council.name],
                data=data,
                config=resolved(index, "config", council.config, "file"),
                notebook=resolved(index, "notebook", council.notebook, "file"),
            )
        )
    if problems:
        raise ValidationError(problems)
    return entries
