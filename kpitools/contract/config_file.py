"""Reading a council configuration file (``params/council.yaml``).

Problems are reported like data problems, naming the file and the line of the YAML where the
offending value stands::

    council.yaml:9: rag_colours.amber '#FFBF00' has contrast 1.7:1 against white: ...

YAML is read with the safe loader: tags are never executed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import ValidationError as PydanticError

from kpitools.core.config import CouncilConfig
from kpitools.core.errors import Problem, ValidationError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def load_config(path: str | Path | None) -> CouncilConfig:
    """Read and validate a council configuration file; every default without one.

    Args:
        path: the YAML file, or None / ``""`` for the defaults.

    Raises:
        kpitools.ValidationError: every problem, with file and line.
    """
    if path is None or str(path) == "":
        return CouncilConfig.defaults()
    path = Path(path)
    name = path.name
    root, raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ValidationError(
            [Problem(name, None, "", "must be a mapping of settings (council: ...)")]
        )
    try:
        config = CouncilConfig.model_validate(raw)
    except PydanticError as err:
        raise ValidationError(setting_problems(err, name, root)) from None
    config = _resolve_paths(config, path.parent, name, root)
    return config.read_from(path)


def read_yaml(path: Path) -> tuple[Any, Any]:
    """A YAML file's node tree (for line numbers) and its value, read with the safe loader.

    Raises:
        kpitools.ValidationError: the file cannot be read, or is not YAML (with its line).
    """
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ValidationError([Problem(name, None, "", f"cannot be read: {err}")]) from None
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(err, "problem", None) or str(err)
        raise ValidationError([Problem(name, line, "", f"is not valid YAML: {reason}")]) from None


def setting_problems(err: PydanticError, name: str, root: Any) -> list[Problem]:
    """A settings file's pydantic errors as problems naming the file and the YAML line."""
    problems = []
    for error in err.errors():
        location = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        problems.append(
            Problem(name, line_of(root, error["loc"]), location, f"{location}: {message}")
        )
    return problems


def check_names(config: CouncilConfig, measures: pd.DataFrame) -> list[Problem]:
    """The services and headline measures a configuration names must be in the data: a
    misspelt service would silently lose its Director and headline tiles.

    Args:
        config: the configuration (its ``source`` names the file in messages).
        measures: the checked data dictionary, indexed by ``measure_id``.
    """
    name = config.source.name if config.source is not None else "configuration"
    services = list(dict.fromkeys(measures["service"]))
    found: list[tuple[tuple[str, ...], str, str]] = []  # (where in the YAML, column, message)
    for service, settings in config.services.items():
        where = ("services", service)
        if service not in services:
            found.append((where, "services", f"services.{service}: no service of that name in "
                          f"measures (they are {', '.join(services)})"))  # fmt: skip
            continue
        own = set(measures.index[measures["service"] == service])
        found += [
            ((*where, "headline"), "headline",
             f"services.{service}.headline: {measure_id} is not a measure of {service}")
            for measure_id in settings.headline
            if measure_id not in own
        ]  # fmt: skip
    if not found:
        return []
    root = _root_of(config.source)  # read again only to name the lines of what was found
    return [Problem(name, line_of(root, where), column, text) for where, column, text in found]


def _root_of(path: Path | None) -> Any:
    """The YAML node tree of a configuration file, for line numbers (None if unreadable)."""
    if path is None:
        return None
    try:
        return yaml.compose(path.read_text(encoding="utf-8-sig"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def config_text(config: CouncilConfig, paths: dict[str, str] | None = None) -> bytes:
    """A configuration as the YAML :func:`load_config` reads back, with ``logo`` and
    ``template`` renamed to ``paths`` (a Dask worker's copy of the inputs names its own)."""
    settings = config.model_dump(mode="json", exclude_none=True)
    settings.update(paths or {})
    return yaml.safe_dump(settings, allow_unicode=True, sort_keys=False).encode("utf-8")


def _resolve_paths(config: CouncilConfig, folder: Path, name: str, root: Any) -> CouncilConfig:
    problems = []
    updates: dict[str, Path] = {}
    for field in ("logo", "template"):
        value = getattr(config, field)
        if value is None:
            continue
        resolved = value if value.is_absolute() else (folder / value).resolve()
        if not resolved.is_file():
            message = f"{field}: no file at {value}"
            if not value.is_absolute():
                message += (
                    f" (looked for {resolved}; paths are relative to the configuration "
                    "file's folder)"
                )
            problems.append(Problem(name, line_of(root, (field,)), field, message))
        updates[field] = resolved
    if config.logo is not None and updates["logo"].suffix.lower() not in IMAGE_SUFFIXES:
        problems.append(
            Problem(name, line_of(root, ("logo",)), "logo", "logo: must be a PNG or JPEG image")
        )
    elif config.logo is not None and updates["logo"].is_file():
        why = logo_problem(updates["logo"])
        if why:
            problems.append(Problem(name, line_of(root, ("logo",)), "logo", f"logo: {why}"))
    if problems:
        raise ValidationError(problems)
    return config.model_copy(update=updates)


#: The most pixels a logo may have: one shown 0.6 inch high needs a few hundred across.
MAX_LOGO_PIXELS = 25_000_000


def logo_problem(path: Path) -> str:
    """Why an image cannot be the reports' logo ('' if it can): it must decode as the PNG or
    JPEG its name says, and not be so large that every deck would carry it."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # sized below
            try:
                image = Image.open(path)  # reads the header only
            finally:
                Image.MAX_IMAGE_PIXELS = limit
        with image:
            kind, (width, height) = image.format, image.size
            if kind not in ("PNG", "JPEG"):
                return f"{path.name} is a {kind or 'file of unknown kind'}, not a PNG or JPEG image"
            if width * height > MAX_LOGO_PIXELS:
                return (
                    f"{path.name} is {width} x {height} pixels: more than a logo needs (at most "
                    f"{MAX_LOGO_PIXELS // 1_000_000} megapixels; 600 pixels high is plenty)"
                )
            image.load()  # the whole image decodes, not only its header
    except UnidentifiedImageError:
        return f"{path.name} is not an image kpitools can read (PNG or JPEG)"
    except (OSError, SyntaxError, ValueError) as err:
        return f"{path.name} is damaged: {err}"
    return ""


def line_of(node: Any, location: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at ``location`` (or of its nearest parent)."""
    line: int | None = node.start_mark.line + 1 if node is not None else None
    for part in location:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            if pair is None:
                return line
            key, node = pair
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
