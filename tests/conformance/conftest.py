"""The conformance suite's session fixture (see :mod:`conformance_data`): the same district
synced, served and exported from a SQLite store, then (when configured) a PostgreSQL one; and
the demo district (``rostersync demo``'s size and rules) on SQLite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from conformance_data import Synced, sync_twice

from support.postgres import fresh_pg_schema

PG_ENV = "ROSTERSYNC_TEST_POSTGRES_URL"


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
    with fresh_pg_schema(base, prefix="rs_conf") as url:
        yield from sync_twice(tmp_path_factory, database_url=url)
