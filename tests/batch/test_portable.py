"""A published notebook's bytes depend on what it computed, not on how the run went."""

from __future__ import annotations

import json
import random
from enum import IntEnum, StrEnum

import pytest

from kpitools.batch.portable import notebook_json, portable_notebook

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


def _random_json(rng: random.Random, depth: int = 0) -> object:
    """A JSON-like value with what notebooks hold: nested objects, lists of numbers, of
    lines of text, and of mixtures, with the awkward values among them."""
    scalars = [
        lambda: rng.choice(["", "a", "line\n", "tab\t", "quote\"", "back\\slash", "é", "\u2028",
                            "\x00\x1f", "<b>&amp;</b>", "😀", "[x]", "{y}", "1,2"]),
        lambda: rng.choice([0.0, -0.0, 1.5, -2.25, 1e16, 1e-7, 123456789.123, float("nan"),
                            float("inf"), -float("inf"), 0.1 + 0.2]),
        lambda: rng.choice([0, -1, 2**70, True, False, None]),
    ]  # fmt: skip
    if depth > 4 or rng.random() < 0.3:
        return rng.choice(scalars)()
    kind = rng.randrange(5)
    size = rng.randrange(6)
    if kind == 0:
        return {rng.choice(["a", "b", "c", "data", "x", "é"]) + str(i): _random_json(rng, depth + 1)
                for i in range(size)}  # fmt: skip
    if kind == 1:  # numbers, perhaps with something else at the end
        items: list[object] = [rng.choice(scalars[1:])() for _ in range(size + 1)]
        if rng.random() < 0.3:
            items.append(_random_json(rng, depth + 1))
        return items
    if kind == 2:
        return [scalars[0]() for _ in range(size + 1)]
    if kind == 3:
        return tuple(_random_json(rng, depth + 1) for _ in range(size))
    return [_random_json(rng, depth + 1) for _ in range(size)]


def test_a_notebook_is_written_as_json_with_nbformats_layout_writes_it() -> None:
    rng = random.Random(20261205)
    for _ in range(3000):
        value = _random_json(rng)
        assert notebook_json(value) == json.dumps(value, indent=1, sort_keys=True,
                                                  ensure_ascii=False)  # fmt: skip
    # Subclasses are written as their type; keys that are not text as json makes them text.
    odd = {"n": IntEnum("N", "ONE").ONE, "s": [Words.A, 1, "x"], "t": (), "k": [2, Words.A]}
    for value in (odd, {10: "b", 2: "a"}, {2.5: 1, 0.5: 2}, {True: 1, False: 0}):
        assert notebook_json(value) == json.dumps(value, indent=1, sort_keys=True,
                                                  ensure_ascii=False)  # fmt: skip
    with pytest.raises(TypeError, match="not JSON serializable"):
        notebook_json({"a": [1, object()]})


class Words(StrEnum):
    A = "a"
