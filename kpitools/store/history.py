"""The history store: ingest data folders, read the data as it was known at any time.

One code path for SQLite (a file; nothing to install) and PostgreSQL (a URL), through
SQLAlchemy; the schema is made and kept current by Alembic migrations when the store opens.

An ingest validates the folder exactly as ``kpitools validate`` does, then records it in one
transaction: rows new to the store are added, unchanged rows are skipped, and a row whose key
(a measure and period, for values) had other cells before is kept as a **restatement**, with
the time it was recorded and the ingest's reason. A failed or killed ingest leaves the store
as it was; two ingests at once are serialised (the second waits for the first).

The data as of a time is the folder of the latest ingest recorded by then, written back as
the contract's CSV files with the columns and row order it had: loading that folder gives the
same data, so a report built from it is the report built then.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from kpitools.contract.loading import load
from kpitools.contract.tables import FILES, find_input, read_table, write_table
from kpitools.core.config import CouncilConfig
from kpitools.core.errors import KpiToolsError
from kpitools.core.periods import FiscalCalendar
from kpitools.store.schema import ingests, publications, versions

DB_ENV = "KPITOOLS_DB"
_LOCK_KEY = 7_424_2  # PostgreSQL advisory lock held by the writing transaction
# Each file's key columns: a row of the same key in a later ingest is the same row, changed
# or not. Periods are compared as the calendar reads them ("Aug 2017" is 2017-08).
KEYS: dict[str, tuple[str, ...]] = {
    "measures": ("measure_id",),
    "targets": ("measure_id", "start"),
    "values": ("measure_id", "period"),
    "comments": ("service", "quarter", "measure_id", "section", "author"),
    "actions": ("service", "action_id"),
    "benchmarks": ("measure_id", "period", "area", "peer_group"),
    "signoff": ("service", "period", "state", "at"),
    "decisions": ("service", "period", "measure_id", "committee", "decision"),
}
_PERIOD_COLUMNS = {"start", "period", "quarter"}


class StoreError(KpiToolsError):
    """The store cannot be opened or used (a bad URL, a server that does not answer)."""


def resolve_url(db: str | None) -> str | None:
    """The store's SQLAlchemy URL from ``--db`` or ``KPITOOLS_DB``: a URL as given
    (``postgresql+psycopg://...``), a file path as an SQLite file; None for neither."""
    given = db or os.environ.get(DB_ENV, "")
    if not given:
        return None
    if "://" in given:
        return given
    return f"sqlite:///{Path(given).resolve()}"


def parse_as_of(text: str) -> dt.datetime:
    """An as-of time: ISO 8601, UTC unless it gives an offset (``2024-10-05T12:00``).

    Raises:
        KpiToolsError: the text is not a time.
    """
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise KpiToolsError(
            f"as-of time '{text}' is not a time: write 2024-10-05T12:00 (UTC) or "
            "2024-10-05T12:00+01:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass
class IngestReport:
    """What an ingest did, per file: rows added, unchanged, restated and no longer there."""

    ingest_id: int
    recorded_at: dt.datetime
    added: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    restated: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    recorded: bool = True  # False: the same data as the last ingest, nothing recorded

    @property
    def changed(self) -> bool:
        return any(sum(d.values()) for d in (self.added, self.restated, self.removed))


@dataclass(frozen=True)
class Version:
    """One version of a row: its cells, and the ingest that recorded it."""

    ingest_id: int
    recorded_at: dt.datetime
    reason: str
    cells: dict[str, str]


@dataclass(frozen=True)
class Publication:
    ingest_id: int
    recorded_at: dt.datetime
    as_of: dt.datetime | None
    period: str
    service: str
    files: dict[str, str]


class HistoryStore:
    """A history store at a SQLAlchemy URL, migrated to the current schema on opening."""

    def __init__(self, url: str):
        self.url = url
        try:
            self.engine = _engine(url)
            with self.engine.connect() as connection:
                self._migrate(connection)
        except sa.exc.SQLAlchemyError as err:
            raise StoreError(
                f"the history store {_shown(url)} cannot be opened: {_why(err)}"
            ) from None
        except ModuleNotFoundError as err:
            raise StoreError(
                f"the history store {_shown(url)} needs the {err.name} package: "
                "pip install 'kpitools[postgres]'"
            ) from None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def _migrate(self, connection: Connection) -> None:
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        config.attributes["connection"] = connection
        with self._writing(connection):
            command.upgrade(config, "head")

    @contextmanager
    def _writing(self, connection: Connection) -> Iterator[None]:
        """A write transaction that holds the store's write lock until it ends."""
        with connection.begin():
            if self.is_sqlite:
                pass  # BEGIN IMMEDIATE (see _engine) takes SQLite's write lock
            else:
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
                )
            yield

    def close(self) -> None:
        self.engine.dispose()

    # -- ingest ---------------------------------------------------------------------------
    def ingest(
        self,
        folder: Path,
        config: CouncilConfig,
        *,
        reason: str = "",
        now: dt.datetime | None = None,
    ) -> IngestReport:
        """Validate ``folder`` and record it; returns what changed.

        Raises:
            ValidationError: the folder's problems (nothing is recorded).
        """
        load(folder, config=config)  # the same checks and messages as everywhere else
        tables = _raw_tables(folder, config)
        layout = {
            name: {"columns": columns, "keys": [key for key, _ in rows]}
            for name, (columns, rows) in tables.items()
        }
        with self.engine.connect() as connection, self._writing(connection):
            last = connection.execute(sa.select(sa.func.max(ingests.c.id))).scalar()
            last_id = int(last or 0)
            previous = self._latest_layout(connection, before=last_id + 1)
            recorded_at = now or dt.datetime.now(dt.UTC)
            report = IngestReport(ingest_id=last_id, recorded_at=recorded_at)
            changes = {
                name: self._changes(connection, report, name, rows, previous.get(name, {}), last_id)
                for name, (_, rows) in tables.items()
            }
            if not report.changed and layout == previous:
                # The same data as the last ingest: nothing is recorded (the store keeps the
                # time the data last changed).
                report.recorded = False
                return report
            inserted = connection.execute(
                ingests.insert().values(
                    recorded_at=recorded_at,
                    source=folder.name,
                    reason=reason,
                    layout=json.dumps(layout, ensure_ascii=False),
                )
            ).inserted_primary_key
            assert inserted is not None
            report.ingest_id = int(inserted[0])
            for rows in changes.values():
                insert_rows(connection, [{**row, "ingest_id": report.ingest_id} for row in rows])
        return report

    def _changes(
        self,
        connection: Connection,
        report: IngestReport,
        name: str,
        rows: list[tuple[str, dict[str, str]]],
        before_keys: dict[str, Any],
        last_id: int,
    ) -> list[dict[str, Any]]:
        """The rows of one file to record (new or changed), counted on the report."""
        current = self._current_cells(connection, name, last_id + 1)
        added = unchanged = restated = 0
        new_rows = []
        for key, cells in rows:
            text = _cells_text(cells)
            old = current.get(key)
            if old == text:
                unchanged += 1
                continue
            if old is None:
                added += 1
            else:
                restated += 1
            new_rows.append({"file": name, "key": key, "cells": text})
        keys = {key for key, _ in rows}
        report.added[name] = added
        report.unchanged[name] = unchanged
        report.restated[name] = restated
        report.removed[name] = len(set(before_keys.get("keys", [])) - keys)
        return new_rows

    def _current_cells(self, connection: Connection, name: str, before: int) -> dict[str, str]:
        """Each key's latest cells (as JSON text) recorded before ingest ``before``."""
        latest = (
            sa.select(versions.c.key, sa.func.max(versions.c.ingest_id).label("ingest_id"))
            .where(versions.c.file == name, versions.c.ingest_id < before)
            .group_by(versions.c.key)
            .subquery()
        )
        query = (
            sa.select(versions.c.key, versions.c.cells)
            .join(
                latest,
                sa.and_(versions.c.key == latest.c.key, versions.c.ingest_id == latest.c.ingest_id),
            )
            .where(versions.c.file == name)
        )
        return {row.key: row.cells for row in connection.execute(query)}

    def _latest_layout(self, connection: Connection, before: int) -> dict[str, Any]:
        row = connection.execute(
            sa.select(ingests.c.layout).where(ingests.c.id < before).order_by(ingests.c.id.desc())
        ).first()
        return json.loads(row.layout) if row else {}

    # -- reading ---------------------------------------------------------------------------
    def ingest_as_of(self, as_of: dt.datetime | None = None) -> int:
        """The latest ingest recorded by ``as_of`` (by now when None).

        Raises:
            StoreError: nothing was ingested by then.
        """
        query = sa.select(ingests.c.id, ingests.c.recorded_at).order_by(ingests.c.id.desc())
        with self.engine.connect() as connection:
            for row in connection.execute(query):
                if as_of is None or _utc(row.recorded_at) <= as_of:
                    return int(row.id)
        when = f" by {as_of.isoformat()}" if as_of else ""
        raise StoreError(f"the history store {_shown(self.url)} holds no ingest{when}")

    def export(self, ingest_id: int, folder: Path) -> Path:
        """Write the data folder as ingest ``ingest_id`` recorded it (contract CSV files)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(ingests.c.layout).where(ingests.c.id == ingest_id)
            ).one()
            layout = json.loads(row.layout)
            folder.mkdir(parents=True, exist_ok=True)
            for name in FILES:
                if name not in layout:
                    continue
                cells = self._current_cells(connection, name, ingest_id + 1)
                columns = layout[name]["columns"]
                rows = [json.loads(cells[key]) for key in layout[name]["keys"]]
                write_table(folder / f"{name}.csv", columns, rows)
        return folder

    def versions_of(self, file: str, key_prefix: str) -> list[tuple[str, list[Version]]]:
        """Every version of the rows of ``file`` whose key starts with ``key_prefix``, oldest
        first, by key."""
        query = (
            sa.select(
                versions.c.key,
                versions.c.cells,
                ingests.c.id,
                ingests.c.recorded_at,
                ingests.c.reason,
            )
            .join(ingests, ingests.c.id == versions.c.ingest_id)
            .where(versions.c.file == file, versions.c.key.startswith(key_prefix))
            .order_by(versions.c.key, versions.c.ingest_id)
        )
        found: dict[str, list[Version]] = {}
        with self.engine.connect() as connection:
            for row in connection.execute(query):
                found.setdefault(row.key, []).append(
                    Version(int(row.id), _utc(row.recorded_at), row.reason, json.loads(row.cells))
                )
        return list(found.items())

    def last_change(self, measure_id: str, after: int, upto: int) -> tuple[dt.datetime | None, str]:
        """When (and why) a measure's values or definition last changed in ingests after
        ``after`` up to ``upto``."""
        query = (
            sa.select(ingests.c.recorded_at, ingests.c.reason)
            .join(versions, versions.c.ingest_id == ingests.c.id)
            .where(
                versions.c.ingest_id > after,
                versions.c.ingest_id <= upto,
                sa.or_(
                    sa.and_(versions.c.file == "values",
                            versions.c.key.startswith(f"{measure_id}\x1f")),
                    sa.and_(versions.c.file.in_(["measures", "targets"]),
                            versions.c.key.startswith(measure_id)),
                ),
            )
            .order_by(ingests.c.id.desc())
            .limit(1)
        )  # fmt: skip
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return (_utc(row.recorded_at), row.reason) if row else (None, "")

    # -- publications ---------------------------------------------------------------------
    def record_publication(self, publication: Publication) -> None:
        with self.engine.connect() as connection, self._writing(connection):
            connection.execute(
                publications.insert().values(
                    recorded_at=publication.recorded_at,
                    ingest_id=publication.ingest_id,
                    as_of=publication.as_of,
                    period=publication.period,
                    service=publication.service,
                    files=json.dumps(publication.files, sort_keys=True),
                )
            )

    def publications(
        self, period: str | None = None, service: str | None = None
    ) -> list[Publication]:
        query = sa.select(publications).order_by(publications.c.id)
        if period is not None:
            query = query.where(publications.c.period == period)
        if service is not None:
            query = query.where(publications.c.service == service)
        with self.engine.connect() as connection:
            return [
                Publication(
                    int(row.ingest_id),
                    _utc(row.recorded_at),
                    _utc(row.as_of) if row.as_of else None,
                    row.period,
                    row.service,
                    json.loads(row.files),
                )
                for row in connection.execute(query)
            ]


def snapshot(
    store: HistoryStore, as_of: dt.datetime | None, root: Path, config: CouncilConfig
) -> tuple[int, Path]:
    """The data folder as of a time, written under ``root``: ``root/history/ingest-<n>``,
    with the figures restated since each report was last published (``restatements.csv``;
    the folder's name then ends in a hash of them). The same data and publications always
    give the same folder and bytes."""
    import hashlib
    import shutil
    import tempfile

    ingest_id = store.ingest_as_of(as_of)
    (root / "history").mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".ingest-{ingest_id}-", dir=root / "history"))
    store.export(ingest_id, staging)
    rows = restatements(store, ingest_id, as_of, config, staging)
    name = f"ingest-{ingest_id}"
    if rows:
        path = staging / "restatements.csv"
        write_table(path, list(RESTATEMENT_FIELDS), rows)
        name += "-" + hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    folder = root / "history" / name
    if folder.exists():
        shutil.rmtree(staging)
    else:
        staging.rename(folder)
    return ingest_id, folder


RESTATEMENT_FIELDS = (
    "service", "report_period", "measure_id", "value_before", "value_after", "status_before",
    "status_after", "rag_before", "rag_after", "restated_on", "published_on", "reason",
)  # fmt: skip


def restatements(
    store: HistoryStore,
    ingest_id: int,
    as_of: dt.datetime | None,
    config: CouncilConfig,
    data: Path,
) -> list[dict[str, str]]:
    """The figures of each published report (period and service) whose value, status or
    RAG differ now (ingest ``ingest_id``, whose folder is ``data``) from when the report was
    last published from earlier data (publications recorded by ``as_of``)."""
    import math
    import tempfile

    from kpitools.core.scorecard import rate

    baseline: dict[tuple[str, str], Publication] = {}
    for item in store.publications():
        if item.ingest_id >= ingest_id or (as_of is not None and item.recorded_at > as_of):
            continue
        key = (item.period, item.service)
        if key not in baseline or item.ingest_id >= baseline[key].ingest_id:
            baseline[key] = item
    if not baseline:
        return []
    now = load(data, config=config)
    rows: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="kpitools-published-") as scratch:
        then_by_ingest = {}
        for (period, service), item in sorted(baseline.items()):
            if item.ingest_id not in then_by_ingest:
                folder = store.export(item.ingest_id, Path(scratch) / str(item.ingest_id))
                then_by_ingest[item.ingest_id] = load(folder, config=config)
            then = then_by_ingest[item.ingest_id]
            if service not in now.services or service not in then.services:
                continue
            before = rate(then, period=period, services=[service], spc=False).set_index(
                "measure_id"
            )
            after = rate(now, period=period, services=[service], spc=False).set_index("measure_id")
            for measure_id in after.index.intersection(before.index):
                old, new = before.loc[measure_id], after.loc[measure_id]
                same_value = (math.isnan(old["value"]) and math.isnan(new["value"])) or (
                    old["value"] == new["value"]
                )
                if same_value and old["status"] == new["status"] and old["rag"] == new["rag"]:
                    continue
                when, reason = store.last_change(str(measure_id), item.ingest_id, ingest_id)
                rows.append({
                    "service": service,
                    "report_period": period,
                    "measure_id": str(measure_id),
                    "value_before": "" if math.isnan(old["value"]) else repr(float(old["value"])),
                    "value_after": "" if math.isnan(new["value"]) else repr(float(new["value"])),
                    "status_before": str(old["status"]),
                    "status_after": str(new["status"]),
                    "rag_before": str(old["rag"]),
                    "rag_after": str(new["rag"]),
                    "restated_on": when.date().isoformat() if when else "",
                    "published_on": item.recorded_at.date().isoformat(),
                    "reason": reason,
                })  # fmt: skip
    return rows


def insert_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Add row versions (one statement per batch)."""
    for start in range(0, len(rows), 500):
        connection.execute(versions.insert(), rows[start : start + 500])


def _raw_tables(
    folder: Path, config: CouncilConfig
) -> dict[str, tuple[list[str], list[tuple[str, dict[str, str]]]]]:
    """Each file's columns and its rows as (key, cells), in the file's order."""
    calendar = FiscalCalendar(config.year_start_month)
    tables = {}
    for name in FILES:
        found, _ = find_input(folder, name)
        if found is None:
            continue
        table, _ = read_table(found)
        if table is None:
            continue
        seen: dict[str, int] = {}
        rows = []
        for _, cells in table.rows:
            key = _key(name, cells, calendar)
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:  # comments may repeat a key: each is its own row
                key = f"{key}\x1f#{seen[key]}"
            rows.append((key, dict(cells)))
        tables[name] = (list(table.columns), rows)
    return tables


def _key(name: str, cells: dict[str, str], calendar: FiscalCalendar) -> str:
    parts = []
    for column in KEYS[name]:
        text = cells.get(column, "").strip()
        if column in _PERIOD_COLUMNS and text:
            with suppress(ValueError):  # not a period: the text as it is
                text = calendar.label(calendar.parse(text))
        parts.append(text)
    return "\x1f".join(parts)


def _cells_text(cells: dict[str, str]) -> str:
    return json.dumps(cells, sort_keys=True, ensure_ascii=False)


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 120})

        @sa.event.listens_for(engine, "connect")
        def _no_driver_transactions(dbapi_connection: Any, _: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy says BEGIN itself

        @sa.event.listens_for(engine, "begin")
        def _immediate(connection: Connection) -> None:
            # Take the write lock at the start: a second writer waits (up to the timeout)
            # instead of failing half-way.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _shown(url: str) -> str:
    """A URL as messages show it: without its password."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def _why(err: Exception) -> str:
    text = str(getattr(err, "orig", None) or err).strip().splitlines()
    return text[0] if text else type(err).__name__
