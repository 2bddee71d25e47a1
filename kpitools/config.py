"""Council configuration (``params/council.yaml``): who the council is and how its CPR looks.

Validated with pydantic; problems are reported like data problems, naming the file and the
line of the YAML where the offending value stands::

    council.yaml:9: rag_colours.amber '#FFBF00' has contrast 1.7:1 against white: ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kpitools import colours
from kpitools.errors import Problem
from kpitools.errors import ValidationError as InputError
from kpitools.model import RAG

PACKAGE_TEMPLATE = Path(__file__).resolve().parent / "templates" / "cpr-16x9.pptx"


class ServiceConfig(BaseModel):
    """Who answers for a service."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    director: str = ""
    cabinet_member: str = ""
    headline: tuple[str, ...] = ()  # measure ids for the slide-1 tiles, in order


class Layouts(BaseModel):
    """Slide layouts of the template, picked by name (never by position)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    content: str = "Title Only"


class CouncilConfig(BaseModel):
    """The validated council configuration.

    Paths (``logo``, ``template``) are relative to the YAML file's folder.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    council: str = Field(min_length=1)
    logo: Path | None = None
    year_start_month: int = Field(4, ge=1, le=12)
    template: Path | None = None
    layouts: Layouts = Layouts()
    rag_colours: dict[RAG, str] = Field(default_factory=dict)
    default_tolerance: float = Field(0.05, ge=0, le=1)
    services: dict[str, ServiceConfig] = Field(default_factory=dict)

    @field_validator("rag_colours")
    @classmethod
    def _check_colours(cls, given: dict[RAG, str]) -> dict[RAG, str]:
        checked = {}
        for rag, colour in given.items():
            value = colours.parse_hex(colour)
            ratio = colours.contrast_ratio(value, colours.WHITE)
            if rag is not RAG.WHITE and ratio < colours.NON_TEXT_CONTRAST:
                raise ValueError(
                    f"{rag.value} {colour!r} has contrast {ratio:.1f}:1 against white: "
                    f"RAG colours need at least {colours.NON_TEXT_CONTRAST:g}:1"
                )
            checked[rag] = value
        return checked

    @property
    def palette(self) -> dict[str, str]:
        """RAG word -> hex colour, defaults filled in."""
        return {**colours.DEFAULT_RAG_COLOURS, **{r.value: c for r, c in self.rag_colours.items()}}

    @property
    def template_path(self) -> Path:
        return self.template or PACKAGE_TEMPLATE

    def service(self, name: str) -> ServiceConfig:
        return self.services.get(name, ServiceConfig())


def default_config(council: str = "Council") -> CouncilConfig:
    """A configuration with every default, for use without a ``council.yaml``."""
    return CouncilConfig(council=council)


def load_config_or_default(path: str | Path | None) -> CouncilConfig:
    """:func:`load_config` for a path, or the defaults when the path is empty."""
    return load_config(path) if path else default_config()


def load_config(path: str | Path) -> CouncilConfig:
    """Read and validate a council configuration file.

    Raises:
        kpitools.ValidationError: every problem, with file and line.
    """
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError([Problem(name, None, "", f"cannot be read: {err}")]) from None
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(err, "problem", None) or str(err)
        raise InputError([Problem(name, line, "", f"is not valid YAML: {reason}")]) from None
    if not isinstance(raw, dict):
        raise InputError([Problem(name, None, "", "must be a mapping of settings (council: ...)")])
    try:
        config = CouncilConfig.model_validate(raw)
    except ValidationError as err:
        problems = []
        for error in err.errors():
            location = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            problems.append(
                Problem(name, _line_of(root, error["loc"]), location, f"{location}: {message}")
            )
        raise InputError(problems) from None
    return _resolve_paths(config, path.parent, name, root)


def _resolve_paths(config: CouncilConfig, folder: Path, name: str, root: Any) -> CouncilConfig:
    problems = []
    updates: dict[str, Path] = {}
    for field in ("logo", "template"):
        value = getattr(config, field)
        if value is None:
            continue
        resolved = value if value.is_absolute() else (folder / value).resolve()
        if not resolved.is_file():
            problems.append(
                Problem(name, _line_of(root, (field,)), field, f"{field}: no file at {value}")
            )
        updates[field] = resolved
    if config.logo is not None and updates["logo"].suffix.lower() not in {".png", ".jpg", ".jpeg"}:
        problems.append(
            Problem(name, _line_of(root, ("logo",)), "logo", "logo: must be a PNG or JPEG image")
        )
    if problems:
        raise InputError(problems)
    return config.model_copy(update=updates)


def _line_of(node: Any, location: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at ``location`` (or of its nearest parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in location:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if str(k.value) == str(part)), None)
            key = next((k for k, v in node.value if str(k.value) == str(part)), None)
            if match is None:
                return line
            node, line = match, (key.start_mark.line + 1 if key is not None else line)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
