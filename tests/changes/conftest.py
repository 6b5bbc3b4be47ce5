"""A real store for the change-flow tests: SQLite always, PostgreSQL when
ROSTERSYNC_TEST_POSTGRES_URL is set (each test in its own throwaway schema)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from rostersync.store import Store, make_engine
from support.postgres import fresh_pg_schema

PG_URL = os.environ.get("ROSTERSYNC_TEST_POSTGRES_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not PG_URL, reason="needs ROSTERSYNC_TEST_POSTGRES_URL"),
        ],
    ),
]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """A database URL for a fresh, empty store."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/chg.db"
        return
    assert PG_URL
    with fresh_pg_schema(PG_URL, prefix="chg") as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(make_engine(store_url))
    s.upgrade()
    try:
        yield s
    finally:
        s.dispose()
