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

import pandas as pd

from kpitools.core.dataset import Dataset
from kpitools.report.content import approval_steps

PACKAGES = ("kpitools", "pandas", "python-pptx", "plotly", "papermill", "nbconvert", "nbclient",
            "ipykernel", "XlsxWriter")  # fmt: skip
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


def service_fingerprints(dataset: Dataset) -> dict[str, str]:
    """A hash per service of its own rows of every input file, and of the data's reach.

    Each file's rows are hashed once, all together (``pandas.util.hash_pandas_object``,
    whose key is fixed: the same rows give the same hash in every process); a service's
    fingerprint then hashes its own rows' hashes, in file order, with each file's columns
    and types. A change to one service's rows changes that service's fingerprint only.
    """
    measures = dataset.measures
    owner = measures["service"]
    signoff = approval_steps(dataset.signoff)  # noting and publishing change no report
    tables: list[tuple[str, pd.DataFrame, Any, bool]] = [
        ("measures", measures, owner, True),
        *((name, frame, frame["measure_id"].map(owner) if len(frame) else frame, False)
          for name, frame in (("values", dataset.values), ("targets", dataset.targets),
                              ("benchmarks", dataset.benchmarks))),
        *((name, frame, frame["service"] if len(frame) else frame, False)
          for name, frame in (("comments", dataset.comments), ("actions", dataset.actions),
                              ("restatements", dataset.restatements), ("signoff", signoff),
                              ("decisions", dataset.decisions))),
    ]  # fmt: skip
    services = list(dict.fromkeys(owner))
    digests = {service: hashlib.sha256() for service in services}
    for name, frame, keys, index in tables:
        own = frame.drop(columns="row", errors="ignore")
        head = f"{name}\x1f{list(own.columns)}\x1f{[str(t) for t in own.dtypes]}\x1e".encode()
        for digest in digests.values():
            digest.update(head)
        if own.empty:
            continue
        hashes = pd.util.hash_pandas_object(own, index=index).to_numpy()
        positions = pd.Series(range(len(own))).groupby(pd.Series(keys).to_numpy(), sort=False)
        for service, rows in positions.indices.items():
            if service in digests:
                digests[service].update(hashes[rows].tobytes())
    reach = f"latest={dataset.latest_month} start={dataset.calendar.start_month}".encode()
    for digest in digests.values():
        digest.update(reach)
    return {service: digest.hexdigest() for service, digest in digests.items()}


def service_fingerprint(dataset: Dataset, service: str) -> str:
    """One service's :func:`service_fingerprints`."""
    return service_fingerprints(dataset)[service]


def whole_fingerprint(dataset: Dataset) -> str:
    """A hash of every service's rows: for a notebook that may read beyond its own service."""
    fingerprints = service_fingerprints(dataset)
    parts = [fingerprints[service] for service in sorted(fingerprints)]
    return hashlib.sha256("\x1e".join(parts).encode("utf-8")).hexdigest()


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
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
