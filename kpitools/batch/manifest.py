"""The batch manifest: what a run used and produced, and the cache keys that let a rerun skip
services whose inputs have not changed.

A service's cache key covers everything its reports depend on: its own rows of every input
file, the reach of the data (the last month any value covers), the council configuration and
the files it names, the notebook, the run's parameters and the versions of kpitools and the
libraries that write the files. A notebook whose cells differ from the shipped notebook's (an
analyst's added cell may compare every service) depends on every service's rows: its reports
are rebuilt when any input changes.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from kpitools.core.files import json_text

PACKAGES = ("kpitools", "pandas", "python-pptx", "plotly", "papermill", "nbconvert", "nbclient",
            "ipython", "ipykernel", "XlsxWriter")  # fmt: skip
MANIFEST = "manifest.json"
TIMINGS = "timings.json"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@cache
def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def cells_digest(notebook: Path) -> str:
    """A hash of a notebook's cells (type and source), leaving out its parameters cell."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return ""
    parts = [
        (cell.get("cell_type", ""), "".join(cell.get("source", "")))
        for cell in cells
        if "parameters" not in cell.get("metadata", {}).get("tags", [])
    ]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def cache_key(parts: dict[str, Any]) -> str:
    """A stable hash of a JSON-able mapping."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def read_manifest(folder: Path) -> dict[str, Any]:
    """The previous run's manifest, or an empty one (a damaged file counts as none)."""
    return read_record(folder / MANIFEST)


def service_records(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A manifest's record of each service, by slug; nothing of a wrong shape (a manifest
    edited by hand, or cut short) is taken for a record."""
    services = manifest.get("services")
    if not isinstance(services, dict):
        return {}
    return {
        slug: record
        for slug, record in services.items()
        if isinstance(slug, str) and isinstance(record, dict)
    }


def read_record(path: Path) -> dict[str, Any]:
    """A JSON object the batch wrote (a manifest, runs.json), or an empty one if the file is
    missing or damaged."""
    try:
        return json_object(path.read_bytes())
    except OSError:
        return {}


def json_object(blob: bytes) -> dict[str, Any]:
    """The JSON object in ``blob``, or an empty one if it holds none."""
    try:
        data = json.loads(blob)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json_text(manifest, indent=2) + "\n").encode()
