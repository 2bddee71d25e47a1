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

import os
from importlib import resources
from pathlib import Path
from typing import Any

from kpitools.core.files import json_text

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
    return (json_text(nb) + "\n").encode("utf-8")


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
