"""Shared fixtures: an isolated data directory and environment for every test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from support.postgres import fresh_pg_schema
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


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL with a fresh, empty schema (skips when no test server is configured)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    with fresh_pg_schema(base) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store database: a SQLite file, then (when configured) a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    with fresh_pg_schema(base) as url:
        yield url


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
