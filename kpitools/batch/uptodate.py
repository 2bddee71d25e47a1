"""A rerun with nothing to do, answered from what the last run recorded, without reading the
data again.

After a run of ``kpitools run --data`` in which every service's report was built or already
up to date (nothing failed, nothing was interrupted), the run's request is recorded in
``<out>/runs.json``: a hash of everything the command was given - every file of the data
folder, byte for byte; the configuration file and the logo and template it names; the
notebook; the period as asked; the services; every option that changes a file - and of the
versions of kpitools and the libraries that write the files, with the period's folder it
wrote and a hash of the manifest it left there. The same command again, with none of that
changed, the manifest as that run left it and every file it lists still in place, shows
that run's summary at once. Any difference, however small, and the run goes the whole way,
which then skips, service by service, what is up to date.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from kpitools.batch.manifest import (
    MANIFEST,
    TIMINGS,
    file_sha256,
    json_object,
    package_versions,
    read_record,
    service_records,
)
from kpitools.batch.outcomes import BatchResult, ServiceOutcome, in_place, read_summary
from kpitools.batch.portable import default_notebook
from kpitools.batch.status import ServiceStatus
from kpitools.core.files import write_atomic
from kpitools.core.naming import PACK_NAME, PLOTLY_FILE
from kpitools.report.summary import SUMMARY_FILE

RUNS_FILE = "runs.json"
KEEP = 50  # requests remembered per output folder (the oldest forgotten first)


@dataclass(frozen=True)
class RunRequest:
    """What ``kpitools run`` was asked, as far as it changes the files it writes."""

    data_dir: str
    config: str  # '' for the defaults
    notebook: str
    period: str
    services: tuple[str, ...]
    report_date: str
    run_id: str
    strict: bool
    pack: bool
    pack_pdf: bool
    plotly_js: str

    @classmethod
    def of(cls, data_dir: str, config: str | None, notebook: str | None, period: str,
           services: tuple[str, ...], report_date: str, run_id: str, strict: bool, pack: bool,
           pack_pdf: bool, plotly_js: str) -> RunRequest:  # fmt: skip
        return cls(
            data_dir=str(Path(data_dir).resolve()),
            config=str(Path(config).resolve()) if config else "",
            notebook=str(Path(notebook).resolve() if notebook else default_notebook()),
            period=period,
            services=tuple(services),
            report_date=report_date,
            run_id=run_id,
            strict=strict,
            pack=pack,
            pack_pdf=pack_pdf,
            plotly_js=plotly_js,
        )

    @property
    def pdf(self) -> bool:
        """Whether a board-pack PDF is made (asked for, and LibreOffice is installed)."""
        return self.pack and self.pack_pdf and bool(shutil.which("soffice") or
                                                    shutil.which("libreoffice"))  # fmt: skip

    def key(self) -> str | None:
        """The request's hash, with every file it reads; None if one cannot be read."""
        digest = hashlib.sha256()
        settings = {**asdict(self), "pdf": self.pdf, "packages": package_versions()}
        digest.update(json.dumps(settings, sort_keys=True).encode("utf-8"))
        try:
            folder = Path(self.data_dir)
            files = sorted(p for p in folder.iterdir() if p.is_file())
            files += [Path(p) for p in (self.config, self.notebook) if p]
            for path in files:
                digest.update(f"\0{path}\0{file_sha256(path)}".encode())
        except OSError:
            return None
        return digest.hexdigest()


def remember(
    out_dir: Path, request: RunRequest, key: str, result: BatchResult, named: list[Path]
) -> None:
    """Record a run that left every report in place (``named``: the files the configuration
    names, such as the logo and the deck template)."""
    if result.failed or result.interrupted:
        return
    try:
        entry = {
            "folder": result.root.relative_to(out_dir.resolve()).as_posix(),
            "manifest": file_sha256(result.root / MANIFEST),
            "named": {str(path): file_sha256(path) for path in named},
            "services": [outcome.slug for outcome in result.outcomes],  # in the run's order
        }
    except (OSError, ValueError):
        return
    runs = {k: v for k, v in read_record(out_dir / RUNS_FILE).items() if k != key}
    runs[key] = entry
    kept = dict(list(runs.items())[-KEEP:])
    blob = json.dumps(kept, indent=1, sort_keys=False) + "\n"
    for stale in out_dir.glob(f".{RUNS_FILE}.*"):  # a killed run's half-written record
        with contextlib.suppress(OSError):
            stale.unlink()  # a link itself, never what it points at
    write_atomic(out_dir / RUNS_FILE, blob.encode("utf-8"))


def recall(out_dir: Path, request: RunRequest, key: str) -> tuple[BatchResult, list[str]] | None:
    """The last run of the same request, if nothing it depends on has changed and every file
    it wrote is in place: its result (every service up to date) and the data's warnings."""
    entry = read_record(out_dir / RUNS_FILE).get(key)
    if not isinstance(entry, dict):
        return None
    try:
        root = out_dir.resolve() / str(entry["folder"])
        blob = (root / MANIFEST).read_bytes()
        if hashlib.sha256(blob).hexdigest() != entry["manifest"]:
            return None
        if any(file_sha256(Path(p)) != sha for p, sha in dict(entry["named"]).items()):
            return None
        order = [str(slug) for slug in entry["services"]]
    except (OSError, KeyError, TypeError, ValueError):
        return None
    manifest = json_object(blob)
    records = service_records(manifest)
    if not set(order) <= set(records):
        return None
    outcomes = []
    for slug in order:
        record = records[slug]
        built = (ServiceStatus.OK, ServiceStatus.SKIPPED)
        if not isinstance(record, dict) or record.get("status") not in built:
            return None
        files = list(record.get("files", []))
        summary = read_summary(root / slug / SUMMARY_FILE)
        kept = [*files, f"{slug}/run.log"]
        if summary is None or not in_place(root, kept):
            return None
        outcome = ServiceOutcome(record["service"], slug, ServiceStatus.SKIPPED,
                                 record.get("cache_key", ""), record.get("run_id", ""),
                                 summary=summary, files=files)  # fmt: skip
        outcomes.append(outcome)
    kinds = [".pptx", ".html", *([".pdf"] if request.pdf else [])] if request.pack else []
    pack = [root / f"{PACK_NAME}{kind}" for kind in kinds]
    written = [root / "index.html", root / TIMINGS, *pack]
    if request.pack:
        written.append(root / f"{PACK_NAME}.json")
    if request.plotly_js == "folder":
        written.append(root / PLOTLY_FILE)  # the pages load plotly.js from beside them
    if not outcomes or not in_place(root, [str(p.relative_to(root)) for p in written]):
        return None
    return BatchResult(root=root, outcomes=outcomes, pack=pack), list(
        manifest.get("data_warnings", [])
    )
