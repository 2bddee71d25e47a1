"""What a batch says of each service (its outcome) and of the whole run, and where a
service's published files are: read back without loading the data libraries (a rerun with
nothing to do shows them from the files)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kpitools.batch.jobs import ServiceJob, job_key
from kpitools.batch.status import ServiceStatus
from kpitools.report.summary import SUMMARY_FILE, ReportSummary, SummaryError

REPORT_SUFFIXES = (".pptx", ".html", ".ipynb")


@dataclass(frozen=True)
class BatchOptions:
    """How to run: workers, limits, caching, where."""

    jobs: int = 1
    timeout: int | None = 600
    force: bool = False
    scheduler: str | None = None  # a Dask scheduler address: run there instead of locally
    pack: bool = True  # write the board pack after the reports
    pack_pdf: bool = False  # and its PDF, when LibreOffice is installed
    plotly_js: str = "inline"  # or "folder": plotly.js once in the period's folder


@dataclass
class ServiceOutcome:
    """One service's line in the batch summary and the manifest."""

    service: str
    slug: str
    status: ServiceStatus
    cache_key: str
    run_id: str
    job: ServiceJob | None = None
    summary: ReportSummary | None = None  # what the service's own run wrote
    seconds: float = 0.0
    error: str = ""
    failed_cell: int | None = None
    files: list[str] = field(default_factory=list)
    worker: str = ""
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    council: str = ""  # in a run of several councils

    @property
    def key(self) -> str:
        """As :attr:`ServiceJob.key`: the slug, or council/slug in a run of several."""
        return job_key(self.council, self.slug)

    @property
    def label(self) -> str:
        """How progress lines name the service ('council: service' in a run of several)."""
        return f"{self.council}: {self.service}" if self.council else self.service

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.summary.warnings if self.summary is not None else ()

    @property
    def exception_count(self) -> int | None:
        return len(self.summary.exceptions) if self.summary is not None else None


@dataclass
class BatchResult:
    root: Path
    outcomes: list[ServiceOutcome]
    interrupted: str = ""
    seconds: float = 0.0
    pack: list[Path] = field(default_factory=list)  # the board pack's files, if written
    pack_seconds: float = 0.0  # of ``seconds``, those making the board pack (0: kept as it was)

    @property
    def failed(self) -> list[ServiceOutcome]:
        return [
            o for o in self.outcomes if o.status in (ServiceStatus.FAILED, ServiceStatus.NOT_RUN)
        ]


def report_files(slug: str) -> list[str]:
    """A service's published files, relative to the quarter's folder, in name order (as a
    run that builds them lists them)."""
    return sorted([f"{slug}/{slug}{ext}" for ext in REPORT_SUFFIXES] + [f"{slug}/{SUMMARY_FILE}"])


def in_place(root: Path, files: list[str]) -> bool:
    """Whether every file (relative to ``root``) is there with something in it: a file cut
    to nothing (a full disk, a hand edit) is not a report."""
    for name in files:
        try:
            if (root / name).stat().st_size == 0 or not (root / name).is_file():
                return False
        except OSError:
            return False
    return True


def read_summary(path: Path) -> ReportSummary | None:
    """A summary written by an earlier run, or None if it is missing or unreadable."""
    try:
        return ReportSummary.from_json(path.read_bytes())
    except (OSError, SummaryError):
        return None
