"""Writing output files: never half-written, and the same bytes for the same content."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path


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
