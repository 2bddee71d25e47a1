"""Published files say nothing of the machine that built them.

An executed notebook carries the parameters it ran with and papermill's record of its run.
Built in a worker, those are the worker's own paths (a scratch folder, the data folder where
the batch happened to be run) and the times each cell ran: the same inputs would give other
bytes on another machine, or a minute later, and a published notebook would show the
council's folder layout. :func:`portable_notebook` rewrites them as the published notebook
should read: the data and the configuration relative to the notebook's own folder (so it can
be run again where it is published), its output folder ``.``, no times, no random
cell id, and each cell's printed text as one output per stream (the kernel sends it in
pieces as its buffer happens to be flushed).
:func:`shown_path` is the same rule for the manifest.
"""

from __future__ import annotations

import json
import math
import os
from importlib import resources
from json.encoder import encode_basestring  # the C function, where there is one
from pathlib import Path
from typing import Any

SHIPPED_NOTEBOOK = "kpitools:cpr.ipynb"
NOTEBOOK_NAME = "cpr.ipynb"


def default_notebook(name: str = NOTEBOOK_NAME) -> Path:
    """A notebook that ships with kpitools (the CPR notebook, or ``explore.ipynb``).

    An installed wheel carries it as package data (``kpitools/notebooks/cpr.ipynb``); in a
    source checkout (an editable install) it is ``notebooks/cpr.ipynb`` beside the package.
    """
    packaged = Path(str(resources.files("kpitools"))) / "notebooks" / name
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "notebooks" / name


"""How a run using the notebook that ships with kpitools names it."""

_TIMES = ("start_time", "end_time", "duration")


def shown_path(path: Path | str | None, start: Path) -> str:
    """``path`` relative to the folder ``start``, with forward slashes ('' for none).

    A path on another drive than ``start`` (Windows) cannot be relative: its name is shown.
    """
    if path is None or str(path) == "":
        return ""
    try:
        relative = os.path.relpath(Path(path).resolve(), Path(start).resolve())
    except ValueError:
        return Path(path).name
    return Path(relative).as_posix()


def portable_notebook(
    nb: dict[str, Any], parameters: dict[str, Any], input_path: str, output_path: str
) -> bytes:
    """The executed notebook with the parameters it is published with and without run times,
    in nbformat's file layout (text as lists of lines, keys sorted, no transient data): the
    same bytes whether it comes from papermill's file or from memory.

    Args:
        nb: the executed notebook (a ``NotebookNode`` or the JSON of its file); changed.
        parameters: the parameters as the published notebook should show them.
        input_path: how the notebook it was made from is named.
        output_path: the published notebook's file name.
    """
    import nbformat
    from nbformat.v4 import rwbase
    from papermill.translators import translate_parameters

    layout: Any = rwbase  # nbformat's writer's own steps (untyped)
    convert: Any = nbformat.from_dict
    node = nb if isinstance(nb, nbformat.NotebookNode) else convert(nb)
    nb = layout.strip_transient(layout.split_lines(node))
    language = nb.get("metadata", {}).get("kernelspec", {}).get("language", "python")
    for cell in nb.get("cells", []):
        if "outputs" in cell:
            cell["outputs"] = _joined_streams(cell["outputs"])
        metadata = cell.get("metadata", {})
        metadata.pop("execution", None)
        for key in _TIMES:
            metadata.get("papermill", {}).pop(key, None)
        if "injected-parameters" in metadata.get("tags", []):
            text = translate_parameters("python3", language, parameters, "Parameters")
            cell["source"] = text.splitlines(keepends=True)
            cell["id"] = "injected-parameters"  # papermill gives it a random id
    record = nb.get("metadata", {}).get("papermill")
    if isinstance(record, dict):
        for key in _TIMES:
            record.pop(key, None)
        record["input_path"] = input_path
        record["output_path"] = output_path
        record["parameters"] = parameters
    return (notebook_json(nb) + "\n").encode("utf-8")


def notebook_json(value: Any) -> str:
    """``json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False)`` - how nbformat
    writes a notebook - character for character, in half the time.

    The standard library indents in pure Python, a token at a time; a notebook of charts is
    mostly lists of numbers and of lines of text, which are written here a list at a time
    (its items by the C encoder). Anything else is written item by item as ``json`` would.
    """
    out: list[str] = []
    _write_json(value, 0, out)
    return "".join(out)


_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _write_json(value: Any, level: int, out: list[str]) -> None:
    text = _json_scalar(value)
    if text is not None:
        out.append(text)
        return
    inner = "\n" + " " * (level + 1)
    end = "\n" + " " * level
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        separator = "{" + inner
        for key, item in sorted(value.items()):
            out.append(separator + encode_basestring(_json_key(key)) + ": ")
            separator = "," + inner
            _write_json(item, level + 1, out)
        out.append(end + "}")
        return
    if not value:
        out.append("[]")
        return
    first = type(value[0])
    if first is str and all(type(item) is str for item in value):  # lines of text
        out.append("[" + inner + ("," + inner).join(map(encode_basestring, value)) + end + "]")
        return
    if first is float or first is int:  # numbers (a chart's data), if nothing else is in it
        compact = _compact(value)
        if '"' not in compact and "[" not in compact[1:] and "{" not in compact:
            out.append("[" + inner + compact[1:-1].replace(",", "," + inner) + end + "]")
            return
    separator = "[" + inner
    for item in value:
        out.append(separator)
        separator = "," + inner
        _write_json(item, level + 1, out)
    out.append(end + "]")


def _json_scalar(value: Any) -> str | None:
    """A number, text, true, false or null as ``json`` writes it; None for a container."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is float:
        return _json_float(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, dict | list | tuple):
        return None
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _json_float(value)
    raise TypeError(f"Object of type {kind.__name__} is not JSON serializable")


def _json_float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is True or key is False or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    if isinstance(key, float):
        return _json_float(key)
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _joined_streams(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive pieces of one stream as one output, its text split at line ends."""
    joined: list[dict[str, Any]] = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            text = _text(previous) + _text(output)
            previous["text"] = text.splitlines(keepends=True)
            continue
        if output.get("output_type") == "stream":
            output = {**output, "text": _text(output).splitlines(keepends=True)}
        joined.append(output)
    return joined


def _text(output: dict[str, Any]) -> str:
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else str(text)
