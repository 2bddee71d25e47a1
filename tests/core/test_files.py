"""Files kpitools writes: JSON text as the standard library writes it, only faster."""

from __future__ import annotations

import json
import random
from enum import IntEnum, StrEnum

import pytest

from kpitools.core.files import json_text


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


def test_json_text_is_what_json_dumps_writes() -> None:
    rng = random.Random(20261205)
    for _ in range(3000):
        value = _random_json(rng)
        for indent in (1, 2):
            assert json_text(value, indent) == json.dumps(value, indent=indent, sort_keys=True,
                                                          ensure_ascii=False)  # fmt: skip
    # Subclasses are written as their type; keys that are not text as json makes them text.
    odd = {"n": IntEnum("N", "ONE").ONE, "s": [Words.A, 1, "x"], "t": (), "k": [2, Words.A]}
    for value in (odd, {10: "b", 2: "a"}, {2.5: 1, 0.5: 2}, {True: 1, False: 0}):
        for indent in (1, 2):
            assert json_text(value, indent) == json.dumps(value, indent=indent, sort_keys=True,
                                                          ensure_ascii=False)  # fmt: skip
    with pytest.raises(TypeError, match="not JSON serializable"):
        json_text({"a": [1, object()]})


class Words(StrEnum):
    A = "a"
