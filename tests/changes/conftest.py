"""A real store for the change-flow tests: SQLite always, PostgreSQL when
ROSTERSYNC_TEST_POSTGRES_URL is set (each test in its own throwaway schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from rostersync.store import Store, make_engine

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


def pg_schema_url(schema: str) -> str:
    """The test PostgreSQL URL with ``schema`` first on the search path."""
    assert PG_URL
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """A database URL for a fresh, empty store."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/chg.db"
        return
    schema = f"chg_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)  # type: ignore[arg-type]
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(make_engine(store_url))
    s.upgrade()
    try:
        yield s
    finally:
        s.dispose()
