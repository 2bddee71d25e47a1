"""A published notebook's bytes depend on what it computed, not on how the run went."""

from __future__ import annotations

import json

from kpitools.batch.portable import portable_notebook

PARAMETERS = {"data_dir": "../data", "quarter": "2024/25 Q1"}


def published(blob: bytes) -> bytes:
    """The notebook of a file as the batch publishes it."""
    return portable_notebook(json.loads(blob), PARAMETERS, "kpitools:cpr.ipynb", "cpr.ipynb")


def _notebook(outputs: list[dict[str, object]]) -> bytes:
    cell = {
        "cell_type": "code",
        "execution_count": 1,
        "id": "c1",
        "metadata": {
            "papermill": {
                "duration": 0.25,
                "start_time": "2026-12-03T18:00:00",
                "end_time": "2026-12-03T18:00:01",
                "status": "completed",
                "exception": False,
            }
        },
        "outputs": outputs,
        "source": ["print('x')"],
    }
    nb = {
        "cells": [cell],
        "metadata": {
            "papermill": {
                "duration": 3.5,
                "input_path": "/tmp/scratch/in.ipynb",
                "output_path": "/tmp/scratch/out.ipynb",
                "parameters": {},
            }
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb).encode()


def _stream(name: str, text: object) -> dict[str, object]:
    return {"name": name, "output_type": "stream", "text": text}


def test_printed_text_is_one_output_however_the_kernel_flushed_it() -> None:
    whole = _notebook([_stream("stdout", ["Northfield: 6 services\n", "RAG and SPC agree.\n"])])
    pieces = _notebook([
        _stream("stdout", ["Northfield: 6 ser"]),
        _stream("stdout", "vices\nRAG and SPC"),
        _stream("stdout", [" agree.", "\n"]),
    ])  # fmt: skip
    one = portable_notebook(json.loads(whole), PARAMETERS, "kpitools:cpr.ipynb", "cpr.ipynb")
    assert (
        portable_notebook(json.loads(pieces), PARAMETERS, "kpitools:cpr.ipynb", "cpr.ipynb") == one
    )
    outputs = json.loads(one)["cells"][0]["outputs"]
    assert outputs == [_stream("stdout", ["Northfield: 6 services\n", "RAG and SPC agree.\n"])]


def test_streams_and_other_outputs_keep_their_order() -> None:
    shown = {"output_type": "display_data", "data": {"text/plain": ["chart"]}, "metadata": {}}
    blob = _notebook([
        _stream("stdout", "a\n"), _stream("stderr", "warning\n"), _stream("stdout", "b\n"),
        shown, _stream("stdout", "c"), _stream("stdout", "d\n"),
    ])  # fmt: skip
    outputs = json.loads(portable_notebook(json.loads(blob), PARAMETERS, "in", "out.ipynb"))[
        "cells"
    ][0]["outputs"]
    assert outputs == [
        _stream("stdout", ["a\n"]), _stream("stderr", ["warning\n"]), _stream("stdout", ["b\n"]),
        shown, _stream("stdout", ["cd\n"]),
    ]  # fmt: skip


def test_times_and_scratch_paths_are_gone() -> None:
    nb = json.loads(
        portable_notebook(json.loads(_notebook([])), PARAMETERS, "kpitools:cpr.ipynb", "cpr.ipynb")
    )
    record = nb["metadata"]["papermill"]
    assert "duration" not in record
    assert record["input_path"] == "kpitools:cpr.ipynb"
    assert record["output_path"] == "cpr.ipynb"
    assert record["parameters"] == PARAMETERS
    assert nb["cells"][0]["metadata"]["papermill"] == {"status": "completed", "exception": False}
