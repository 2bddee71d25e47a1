"""The first schema: ingests, versions of rows, publications.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("layout", sa.Text, nullable=False),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("file", sa.String(32), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("ingest_id", sa.Integer, sa.ForeignKey("ingests.id"), nullable=False),
        sa.Column("cells", sa.Text, nullable=False),
    )
    op.create_index("versions_by_key", "versions", ["file", "key", "ingest_id"])
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ingest_id", sa.Integer, sa.ForeignKey("ingests.id"), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("service", sa.Text, nullable=False),
        sa.Column("files", sa.Text, nullable=False),
    )
    op.create_index("publications_by_report", "publications", ["period", "service"])


def downgrade() -> None:
    op.drop_table("publications")
    op.drop_index("versions_by_key", table_name="versions")
    op.drop_table("versions")
    op.drop_table("ingests")
