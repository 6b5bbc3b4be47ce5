"""Shared fixtures: an isolated data directory and environment for every test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from support.webhooks import Receiver, serve_posts

if TYPE_CHECKING:
    from rostersync.store import Store


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own data directory and no ROSTERSYNC_* settings from the caller."""
    import os

    for key in list(os.environ):
        if key.startswith("ROSTERSYNC_") and not key.startswith("ROSTERSYNC_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ROSTERSYNC_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real webhook receiver on 127.0.0.1 that records every request it is sent."""
    state = Receiver(url="")
    with serve_posts(state.answer) as url:
        state.url = url
        yield state


# --- the store on SQLite always, and on PostgreSQL when ROSTERSYNC_TEST_POSTGRES_URL is set ----

PG_ENV = "ROSTERSYNC_TEST_POSTGRES_URL"


def _fresh_pg_schema(base_url: str) -> Iterator[str]:
    """A brand-new schema on the test server, as a URL whose search_path points at it.

    The name is unique per process and call, so parallel test runs never collide; the schema is
    dropped (with everything in it) afterwards.
    """
    import uuid

    import sqlalchemy as sa

    name = f"rs_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
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


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL with a fresh, empty schema (skips when no test server is configured)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    yield from _fresh_pg_schema(base)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store database: a SQLite file, then (when configured) a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    yield from _fresh_pg_schema(base)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated, empty store on each backend of ``store_url``."""
    from rostersync.store import Store, make_engine

    instance = Store(make_engine(store_url))
    instance.upgrade()
    yield instance
    instance.dispose()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """The file of ``sqlite_store``."""
    return tmp_path / "store.db"


@pytest.fixture
def sqlite_store(store_path: Path) -> Iterator[Store]:
    """A migrated SQLite store in a file of its own, for tests of SQLite's own behaviour."""
    from rostersync.store import Store, make_engine

    instance = Store(make_engine(f"sqlite:///{store_path}"))
    instance.upgrade()
    yield instance
    instance.dispose()
