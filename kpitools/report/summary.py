"""The report's summary: what one built CPR says, written next to its deck.

The notebook writes it (``kpitools.write_summary(report, path)``) from the same
:class:`~kpitools.report.content.Cpr` that made the deck and the HTML report, and everything
that shows or decides anything about the report afterwards - the batch's overview page,
manifest, progress lines, summary table, ``--strict`` and warnings - reads this file instead
of building the report a second time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, TypeAdapter, with_config
from pydantic import ValidationError as PydanticError

from kpitools._version import __version__
from kpitools.core.files import json_text, write_atomic
from kpitools.report.matrix import MatrixRow

if TYPE_CHECKING:
    from kpitools.report.content import Cpr

SUMMARY_FILE = "summary.json"
FORMAT = 1


class SummaryError(ValueError):
    """A summary file that cannot be read."""


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True)
class ExceptionSummary:
    """One exception as the overview lists it."""

    measure_id: str
    title: str
    rag: str
    reasons: str  # the reasons as a sentence fragment
    has_comment: bool


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True)
class ReviewSummary:
    """A measure whose target should be looked at again, as the overview lists it."""

    measure_id: str
    title: str
    kind: str  # ambitious or review
    text: str


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True)
class CategorySummary:
    """A category's measures by RAG rating (measures counted in the summary only)."""

    category: str
    counts: dict[str, int]


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True)
class ReportSummary:
    """The facts of one built report that other outputs repeat."""

    council: str
    service: str
    quarter: str
    report_date: str
    run_id: str
    page_title: str
    footer: str
    counts: dict[str, int]
    exceptions: tuple[ExceptionSummary, ...]
    warnings: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    kpitools_version: str = ""
    provisional: str = ""  # "" for a finished quarter
    categories: tuple[CategorySummary, ...] = ()  # in the council's order
    digest: str = ""  # what the report says (what a Director's approval is of)
    signoff: str = ""  # the report's sign-off as it shows it
    #: Every measure on the SPC summary matrix, what needs attention first.
    matrix: tuple[MatrixRow, ...] = ()
    #: Targets to look at again (more ambitious, or target, measure or resources).
    reviews: tuple[ReviewSummary, ...] = ()

    @classmethod
    def of(cls, report: Cpr) -> ReportSummary:
        """The summary of a built report."""
        from kpitools.report.content import content_digest

        return cls(
            council=report.council,
            service=report.service,
            quarter=report.quarter,
            report_date=report.report_date.isoformat(),
            run_id=report.run_id,
            page_title=report.page_title,
            footer=report.footer,
            counts=dict(report.counts),
            exceptions=tuple(
                ExceptionSummary(x.measure_id, x.title, x.rag, x.reason_text, bool(x.comment))
                for x in report.exceptions
            ),
            warnings=tuple(report.warnings),
            settings=report.config.rating_settings(),
            kpitools_version=__version__,
            provisional=report.provisional,
            categories=tuple(
                CategorySummary(name, counts) for name, counts in report.category_counts
            ),
            digest=content_digest(report),
            signoff=report.signoff_text,
            matrix=report.matrix,
            reviews=tuple(
                ReviewSummary(x.measure_id, x.title, x.target_review_kind, x.target_review)
                for x in report.target_reviews
            ),
        )

    @property
    def awaiting_comment(self) -> list[str]:
        """Exceptions that have no Director's comment yet."""
        return [x.measure_id for x in self.exceptions if not x.has_comment]

    def to_json(self) -> bytes:
        data = {"format": FORMAT, **asdict(self)}
        return (json_text(data) + "\n").encode()

    @classmethod
    def from_json(cls, blob: bytes) -> ReportSummary:
        """Read a summary written by :meth:`to_json`.

        Raises:
            SummaryError: not a summary this version of kpitools wrote.
        """
        try:
            data = json.loads(blob.decode("utf-8"))
        except ValueError as err:
            raise SummaryError(f"not a readable report summary ({err})") from None
        if not isinstance(data, dict) or data.pop("format", None) != FORMAT:
            raise SummaryError("not a kpitools report summary")
        try:
            return _READER.validate_json(json.dumps(data), strict=True)
        except PydanticError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise SummaryError(f"not a readable report summary ({where}: {first['msg']})") from None


# Reads a summary's JSON into the dataclasses, checking every field's type (a summary comes
# from a notebook, which a council may have changed).
_READER = TypeAdapter(ReportSummary)


def write_summary(report: Cpr, path: str | Path) -> None:
    """Write the report's summary (``summary.json`` beside the deck) atomically."""
    write_atomic(Path(path), ReportSummary.of(report).to_json())
