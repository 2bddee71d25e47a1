"""Sign-off steps, committee decisions and publishing, recorded into the data folder.

Each step is a row appended to ``signoff.csv`` (who, when, and for an approval the digest of
the report as approved) or to ``decisions.csv``; publishing refuses a service whose report is
not approved as it stands now, unless forced, and writes ``published.json`` in the period's
output folder: which reports were published, their files and checksums, and on whose
approval.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kpitools.batch.manifest import MANIFEST, file_sha256
from kpitools.batch.outcomes import read_summary
from kpitools.contract.records import Rows, update_folder
from kpitools.contract.validation import SPECS
from kpitools.core.dataset import Dataset, rows_of
from kpitools.core.errors import KpiToolsError
from kpitools.core.files import write_atomic
from kpitools.core.naming import quarter_folder
from kpitools.core.workflow import FollowUp, SignOff, SignOffState, sign_off
from kpitools.report.content import build_cpr, content_digest

PUBLISHED = "published.json"


def now() -> dt.datetime:
    """The moment a step is recorded (UTC, whole seconds): records carry the clock, reports
    never do."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def current_signoff(dataset: Dataset, service: str, period: str, report_date: str = "") -> SignOff:
    """The service's sign-off for ``period`` with every step, against the report now (as
    of ``report_date``, the report's own date by default)."""
    digest = content_digest(build_cpr(dataset, service, period, report_date=report_date or None))
    return sign_off(dataset.signoff, service, period, digest)


def record_step(
    folder: Path,
    dataset: Dataset,
    service: str,
    period: str,
    state: SignOffState,
    by: str,
    *,
    at: dt.datetime | None = None,
    note: str = "",
    force: bool = False,
    report_date: str = "",
    notes: list[str] | None = None,
) -> SignOff:
    """Record a sign-off step and return the sign-off as it then stands.

    Raises:
        KpiToolsError: publishing (``kpitools publish`` does that), an approval or noting
            without a name, or noting a report not approved (unless ``force``).
    """
    if state is SignOffState.PUBLISHED:
        raise KpiToolsError("a report is published by 'kpitools publish' (or run --publish)")
    if state in (SignOffState.APPROVED, SignOffState.NOTED) and not by.strip():
        raise KpiToolsError(f"say who {state.words.lower()} it: --by NAME")
    report = build_cpr(dataset, service, period, report_date=report_date or None)
    digest = content_digest(report)
    before = sign_off(dataset.signoff, service, period, digest)
    if state is SignOffState.NOTED and not before.approved and not force:
        raise KpiToolsError(
            f"{service} {period} is not approved by the Director ({before.text}): the cabinet "
            "member notes an approved report (--force to record it all the same)"
        )
    moment = at or now()
    row = {"service": service, "period": period, "state": state.value, "by": by.strip(),
           "at": moment.isoformat(),
           "digest": digest if state is SignOffState.APPROVED else "", "note": note}  # fmt: skip
    _append(folder, dataset, "signoff", [row], notes)
    return sign_off(_with(dataset.signoff, row), service, period, digest)


def _with(frame: pd.DataFrame, row: dict[str, str]) -> pd.DataFrame:
    moment = dt.datetime.fromisoformat(row["at"])
    extra = pd.DataFrame([{**row, "at": moment, "row": 0}])
    return pd.concat([frame, extra[frame.columns]] if not frame.empty else [extra])


def _append(folder: Path, dataset: Dataset, name: str, rows: Rows, notes: list[str] | None) -> None:
    columns = tuple(c for c in SPECS[name].columns if c != "row")
    said = update_folder(folder, {name: lambda existing: [*existing, *rows]}, {name: columns},
                         dataset.config)  # fmt: skip
    if notes is not None:
        notes += said


# -- committee decisions ---------------------------------------------------------------------
def record_decision(
    folder: Path,
    dataset: Dataset,
    measure_id: str,
    period: str,
    committee: str,
    decision: FollowUp,
    *,
    report_back: dt.date | None = None,
    note: str = "",
    notes: list[str] | None = None,
) -> str:
    """Record a committee's follow-up decision on a measure in a report; returns its service.

    Raises:
        KpiToolsError: the measure is not in the data dictionary.
    """
    if measure_id not in dataset.measures.index:
        raise KpiToolsError(f"measure '{measure_id}' is not in the data dictionary")
    service = str(dataset.measures.loc[measure_id, "service"])
    row = {"service": service, "period": period, "measure_id": measure_id,
           "committee": committee, "decision": decision.value,
           "report_back": report_back.isoformat() if report_back else "", "closed": "",
           "note": note}  # fmt: skip
    _append(folder, dataset, "decisions", [row], notes)
    return service


def close_decisions(
    folder: Path,
    dataset: Dataset,
    measure_id: str,
    closed: dt.date,
    committee: str = "",
    notes: list[str] | None = None,
) -> int:
    """Close a measure's open decisions (of one committee, if named); returns how many.

    Raises:
        KpiToolsError: the measure has no open decision.
    """
    count = 0

    def close(rows: Rows) -> Rows:
        nonlocal count
        for row in rows:
            mine = row.get("measure_id", "").strip() == measure_id
            open_ = not row.get("closed", "").strip()
            theirs = not committee or row.get("committee", "").strip() == committee
            if mine and open_ and theirs:
                row["closed"] = closed.isoformat()
                count += 1
        if not count:
            who = f" of {committee}" if committee else ""
            raise KpiToolsError(f"measure '{measure_id}' has no open decision{who} to close")
        return rows

    columns = tuple(c for c in SPECS["decisions"].columns if c != "row")
    said = update_folder(folder, {"decisions": close}, {"decisions": columns}, dataset.config)
    if notes is not None:
        notes += said
    return count


# -- publishing ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Publication:
    """What ``publish`` published for one service."""

    service: str
    period: str
    signoff: str  # the sign-off it was published on, in words
    forced: bool
    files: dict[str, str]  # file (relative to the period folder) -> sha256


def publish(
    folder: Path,
    dataset: Dataset,
    period: str,
    out: Path,
    services: Sequence[str],
    *,
    by: str = "",
    force: bool = False,
    at: dt.datetime | None = None,
    notes: list[str] | None = None,
) -> list[Publication]:
    """Publish the period's built reports of ``services``: record a ``published`` step for
    each and write ``published.json`` in the period's output folder.

    Raises:
        KpiToolsError: a service is not approved as its report stands (unless ``force``), or
            its reports have not been built (run ``kpitools run`` first).
    """
    root = out / quarter_folder(period)
    built = _built(root)
    refused, missing, stale, found = [], [], [], []
    for service in services:
        entry = built.get(service)
        if entry is None or entry.get("status") not in ("ok", "skipped"):
            missing.append(service)
            continue
        files = [str(name) for name in entry.get("files", [])]  # type: ignore[attr-defined]
        summary = next((read_summary(root / f) for f in files if f.endswith("summary.json")), None)
        # The report as built, on its own report date.
        date = summary.report_date if summary is not None else None
        digest = content_digest(build_cpr(dataset, service, period, report_date=date))
        state = sign_off(dataset.signoff, service, period, digest)
        if summary is None or summary.digest != digest:
            stale.append(service)
            continue
        if not state.approved and not force:
            refused.append(f"{service} ({state.text})")
            continue
        sums = {name: file_sha256(root / name) for name in files if (root / name).is_file()}
        found.append(Publication(service, period, state.text, not state.approved, sums))
    if missing:
        raise KpiToolsError(
            f"no report of {', '.join(missing)} for {period} in {root}: build it with "
            f"'kpitools run --period \"{period}\" --out {out}' first"
        )
    if stale:
        raise KpiToolsError(
            f"the built reports of {', '.join(stale)} in {root} are not what the data says now: "
            f"run 'kpitools run --period \"{period}\" --out {out}' again first"
        )
    if refused:
        raise KpiToolsError(
            "not approved by the Director, so not published: "
            + "; ".join(refused)
            + " (record the approval with 'kpitools signoff --state approved', or --force)"
        )
    moment = at or now()
    rows = [{"service": p.service, "period": period, "state": SignOffState.PUBLISHED.value,
             "by": by, "at": moment.isoformat(), "digest": "",
             "note": "published without approval (forced)" if p.forced else ""}
            for p in found]  # fmt: skip
    _append(folder, dataset, "signoff", rows, notes)
    _write_published(root, period, found, moment, by)
    return found


def _built(root: Path) -> dict[str, dict[str, object]]:
    """The period folder's manifest entries, by service."""
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        services = manifest["services"]
        return {str(v["service"]): v for v in services.values() if isinstance(v, dict)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _write_published(
    root: Path, period: str, found: list[Publication], moment: dt.datetime, by: str
) -> None:
    """``published.json``: every publication of the period so far, the latest per service."""
    path = root / PUBLISHED
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or not isinstance(record.get("services"), dict):
            raise ValueError
    except (OSError, ValueError):
        record = {"period": period, "services": {}}
    for p in found:
        record["services"][p.service] = {
            "published_at": moment.isoformat(), "by": by, "signoff": p.signoff,
            "forced": p.forced, "files": p.files,
        }  # fmt: skip
    blob = json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    write_atomic(path, blob.encode("utf-8"))


def published_services(dataset: Dataset, period: str) -> list[str]:
    """Services with a ``published`` step for ``period``."""
    frame = dataset.signoff
    if frame.empty:
        return []
    rows = rows_of(frame[(frame["period"] == period) & (frame["state"] == "published")])
    return list(dict.fromkeys(str(r.service) for r in rows))


# -- public pages ----------------------------------------------------------------------------
def write_public(dataset: Dataset, period: str, site: Path, also: Sequence[str] = ()) -> list[Path]:
    """Write the public pages of ``period``'s published reports (those recorded as published,
    and ``also``) into ``site/<period>/``, and the site's index of periods; returns the pages.
    """
    from kpitools.report.public import public_pages, public_services

    names = list(dict.fromkeys([*published_services(dataset, period), *also]))
    reports = [build_cpr(dataset, s, period) for s in dataset.services if s in names]
    pages = public_pages(dataset.config.council, period, public_services(dataset, reports))
    folder = site / quarter_folder(period)
    written = []
    for name, text in sorted(pages.items()):
        write_atomic(folder / name, text.encode("utf-8"))
        written.append(folder / name)
    _site_index(site, dataset.config.council)
    return written


def _site_index(site: Path, council: str) -> None:
    from html import escape

    from kpitools.report.public import CSS

    periods = sorted((p.name for p in site.iterdir() if (p / "index.html").is_file()),
                     reverse=True)  # fmt: skip
    items = "".join(f'<li><a href="{escape(p)}/index.html">{escape(p)}</a></li>' for p in periods)
    page = (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>How we are doing - {escape(council)}</title><style>{CSS}</style></head><body>"
        f'<main id="main"><h1>{escape(council)}: how we are doing</h1>'
        f"<p>Our published performance, period by period.</p><ul>{items}</ul></main>"
        "</body></html>\n"
    )
    write_atomic(site / "index.html", page.encode("utf-8"))
