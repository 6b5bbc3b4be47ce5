"""The conformance suite's session fixture (see :mod:`conformance_data`): the same district
synced, served and exported from a SQLite store, then (when configured) a PostgreSQL one; and
the demo district (``rostersync demo``'s size and rules) on SQLite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from conformance_data import Synced, sync_twice

PG_ENV = "ROSTERSYNC_TEST_POSTGRES_URL"


def _pg_schema_url(base_url: str) -> Iterator[str]:
    """A fresh schema on the test server (unique name), dropped afterwards."""
    name = f"rs_conf_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    base = sa.make_url(base_url)
    if base.get_driver_name() != "psycopg":
        base = base.set(drivername="postgresql+psycopg")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    try:
        yield base.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        admin.dispose()


@pytest.fixture(
    scope="session",
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("demo", marks=pytest.mark.slow),
    ],
)
def synced(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Synced]:
    """A district synced through the real path (with a rollback), served, and exported as CSV."""
    if request.param in ("sqlite", "demo"):
        yield from sync_twice(tmp_path_factory, demo=request.param == "demo")
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    for url in _pg_schema_url(base):
        yield from sync_twice(tmp_path_factory, database_url=url)
