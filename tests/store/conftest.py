"""The history store's tests run on SQLite and on a real PostgreSQL server.

PostgreSQL is the server ``KPITOOLS_TEST_POSTGRES`` names (``.ci/run`` starts one on
loopback); each test gets a database of its own. Without it the PostgreSQL tests skip on a
laptop, and fail under CI.
"""

from __future__ import annotations

import os
import uuid

import pytest

POSTGRES_ENV = "KPITOOLS_TEST_POSTGRES"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'history.db'}"
        return
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        message = f"{POSTGRES_ENV} names no PostgreSQL server"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}, and CI must run this test (.ci/run starts one)")
        pytest.skip(message)
    import sqlalchemy as sa

    name = f"kpitools_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
