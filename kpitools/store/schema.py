"""The history store's tables (SQLAlchemy Core): one schema for SQLite and PostgreSQL.

- ``ingests``: one row per ingest of a data folder, with when it was recorded, where from,
  why (an optional reason, shown with restatements), and the layout of each of its files
  (columns in order and the keys of its rows in order), so the folder can be written back
  exactly as it was.
- ``versions``: the rows of the contract's files, each kept once per change: a row whose key
  (a measure and period for values) already had a version with other cells is a
  restatement.
- ``publications``: what each run published: period, service, the ingest its data came
  from, the as-of time asked for and the hashes of the files.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

ingests = Table(
    "ingests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("source", Text, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("layout", Text, nullable=False),  # JSON: file -> {"columns": [...], "keys": [...]}
)

versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file", String(32), nullable=False),
    Column("key", Text, nullable=False),
    Column("ingest_id", Integer, ForeignKey("ingests.id"), nullable=False),
    Column("cells", Text, nullable=False),  # JSON: column -> text, as the file had it
    Index("versions_by_key", "file", "key", "ingest_id"),
)

publications = Table(
    "publications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("ingest_id", Integer, ForeignKey("ingests.id"), nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=True),
    Column("period", String(32), nullable=False),
    Column("service", Text, nullable=False),
    Column("files", Text, nullable=False),  # JSON: file name -> sha256
    Index("publications_by_report", "period", "service"),
)
