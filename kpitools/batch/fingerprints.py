"""Fingerprints of a council's data: a hash per service of its own rows of every input file,
the part of a cache key (:mod:`kpitools.batch.manifest`) that says whether its data changed."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from kpitools.core.dataset import Dataset
from kpitools.report.content import approval_steps


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
