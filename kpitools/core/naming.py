"""Safe file and folder names for services and quarters.

A name from the data becomes lower-case ASCII letters, digits and hyphens only, so it can
never climb out of the output folder (``../etc``), hide (``.name``) or clash with the
batch's own files; names that would clash get a short hash of the original appended.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

MAX_LENGTH = 60
#: Names no folder may take: the batch's own files and folders, and the device names Windows
#: will not open as a file or folder (``COM1``, ``LPT1``), whatever follows them.
RESERVED = {
    "index", "manifest", "failed", "timings", "runs", "board-pack",
    "con", "nul", "prn", "aux", "conin", "conout", "clock",
    *(f"{device}{n}" for device in ("com", "lpt") for n in range(10)),
}  # fmt: skip

#: The board pack's files in a period's folder: board-pack.pptx, .html, .pdf, .json.
PACK_NAME = "board-pack"
#: plotly.js, once in a period's folder, for web pages that load it from there.
PLOTLY_FILE = "plotly.min.js"


def _hash(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def slugify(name: str) -> str:
    """``Children's Services`` -> ``childrens-services``; ``Café & Bar`` -> ``cafe-and-bar``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"['’`]", "", text).replace("&", " and ")
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:MAX_LENGTH].strip("-")
    if not slug or slug in RESERVED:
        slug = f"{slug or 'service'}-{_hash(name)}"
    return slug


def assign_slugs(names: Iterable[str]) -> dict[str, str]:
    """A distinct safe name for each of ``names``; clashing ones get a hash suffix.

    A name whose slug another name also has gets its hash appended; should that collide
    again (a service literally named like another's hashed slug), the longer hash is used.
    """
    names = list(dict.fromkeys(names))
    plain = {name: slugify(name) for name in names}
    slugs = dict(plain)
    for length in (8, 16, 64):
        counts = Counter(slugs.values())
        clashing = [name for name in names if counts[slugs[name]] > 1]
        if not clashing:
            break
        for name in clashing:
            digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:length]
            slugs[name] = f"{plain[name]}-{digest}"
    return slugs


def quarter_folder(label: str) -> str:
    """The folder of a period's reports: ``2024/25 Q1`` -> ``2024-25-q1``, ``2024-06`` ->
    ``2024-06``, the financial year ``2011/12`` -> ``2011-12-year`` (never the month's), the
    run of months ``2024-06..2024-08`` -> ``2024-06-to-2024-08``."""
    if ".." in label:
        return "-to-".join(slugify(part) for part in label.split("..", 1))
    slug = slugify(label)
    is_month = re.fullmatch(r"\d{4}-\d{2}", label.strip()) is not None
    is_quarter = " Q" in label.upper()
    return slug if is_month or is_quarter else f"{slug}-year"
