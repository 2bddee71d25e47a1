"""Writing output files: never half-written, and the same bytes for the same content."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable
from json.encoder import encode_basestring  # the C function, where there is one
from pathlib import Path
from typing import Any


def write_atomic(path: Path, blob: bytes) -> None:
    """Write bytes under a temporary name beside ``path``, then rename: never half-written.
    An ``OSError`` (disk full, read-only folder) names ``path``, never the temporary name."""
    temporary = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(blob)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is for sharing
        os.replace(temporary, path)
    except BaseException as err:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        if isinstance(err, OSError) and (
            not err.filename or Path(os.fsdecode(err.filename)).parent == path.parent
        ):
            err.filename = str(path)  # the temporary file's name means nothing to a user
        raise


_CORE_DATES = re.compile(
    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)"
)


def reproducible_zip(blob: bytes, stamp: dt.datetime) -> bytes:
    """Rewrite an Office zip (and the workbooks embedded in it) with fixed timestamps."""
    source = zipfile.ZipFile(io.BytesIO(blob))
    return zip_members(((info.filename, source.read(info.filename))
                        for info in source.infolist()), stamp)  # fmt: skip


def zip_members(members: Iterable[tuple[str, bytes]], stamp: dt.datetime) -> bytes:
    """An Office zip of ``members`` (name, bytes), in their order, the same bytes for the same
    members: every entry dated ``stamp``, the document's created and modified times set to
    it, and the workbooks embedded in it (a chart's data) made the same way."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members:
            if name.lower().endswith((".xlsx", ".xlsm")):
                data = reproducible_zip(data, stamp)
            elif name == "docProps/core.xml":
                data = _CORE_DATES.sub(rb"\g<1>" + iso + rb"\g<2>", data)
            entry = zipfile.ZipInfo(name, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, data)
    return out.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(text: str) -> str:
    """Text for a CSV file a council will open in Excel: a cell that would start a formula
    (``=``, ``+``, ``-``, ``@``, tab or carriage return) is prefixed with ``'``, so Excel shows
    it as text instead of running it."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def json_text(value: Any, indent: int = 1) -> str:
    """``json.dumps(value, indent=indent, sort_keys=True, ensure_ascii=False)`` character for
    character, in half the time: how nbformat writes a notebook (indent 1), and the batch its
    records.

    The standard library indents in pure Python, a token at a time; a notebook of charts is
    mostly lists of numbers and of lines of text, which are written here a list at a time
    (its items by the C encoder). Anything else is written item by item as ``json`` would.
    """
    out: list[str] = []
    _write_json(value, 0, " " * indent, out)
    return "".join(out)


_TEXT_ONLY = {str}
_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _write_json(value: Any, level: int, indent: str, out: list[str]) -> None:
    kind = type(value)
    if kind is not dict and kind is not list:
        text = _json_scalar(value)
        if text is not None:
            out.append(text)
            return
    inner = "\n" + indent * (level + 1)
    end = "\n" + indent * level
    if kind is dict or isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        separator = "{" + inner
        following = "," + inner
        for key, item in sorted(value.items()):
            head = separator + encode_basestring(key if type(key) is str else _json_key(key)) + ": "
            separator = following
            # A value that is text, a number, true, false or null is written with its key
            # (most of a chart's settings): no call of its own.
            kind = type(item)
            if kind is str:
                out.append(head + encode_basestring(item))
            elif kind is float:
                out.append(head + _json_float(item))
            elif kind is int:
                out.append(head + int.__repr__(item))
            elif kind is bool:
                out.append(head + ("true" if item else "false"))
            elif item is None:
                out.append(head + "null")
            else:
                text = _json_scalar(item)
                if text is None:
                    out.append(head)
                    _write_json(item, level + 1, indent, out)
                else:
                    out.append(head + text)
        out.append(end + "}")
        return
    if not value:
        out.append("[]")
        return
    first = type(value[0])
    if first is str and set(map(type, value)) == _TEXT_ONLY:  # lines of text
        out.append("[" + inner + ("," + inner).join(map(encode_basestring, value)) + end + "]")
        return
    if first is float or first is int or value[0] is None:  # numbers (a chart's data, gaps
        compact = _compact(value)  # as null), if nothing else is in it
        if '"' not in compact and "[" not in compact[1:] and "{" not in compact:
            out.append("[" + inner + compact[1:-1].replace(",", "," + inner) + end + "]")
            return
    separator = "[" + inner
    following = "," + inner
    for item in value:
        out.append(separator)
        separator = following
        _write_json(item, level + 1, indent, out)
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
