"""Schema and migrations: the checked-in migrations build exactly the declared tables."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from rostersync.errors import ConfigurationError, StoreUnavailable
from rostersync.model import ENTITIES
from rostersync.settings import load_settings
from rostersync.store import Store, make_engine, open_store
from rostersync.store._migrate import head_revision
from rostersync.store.schema import metadata, roster_tables


def test_roster_tables_are_derived_from_the_model() -> None:
    assert set(roster_tables) == set(ENTITIES)
    for name, entity in ENTITIES.items():
        columns = [c.name for c in roster_tables[name].columns]
        assert columns == [
            "district_id",
            *entity.field_names,
            "row_hash",
            "valid_from",
            "valid_to",
            "deleted_at",
        ]


def test_migrations_match_the_declared_schema(store: Store) -> None:
    """Fails when schema.py (or a canonical field) changes without a new migration."""
    ours = set(metadata.tables)

    def include(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        # SQLAlchemy cannot reflect expression indexes: those are checked below instead.
        return table in ours and not (type_ == "index" and str(name).endswith("_modified"))

    with store.engine.connect() as conn, warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*expression-based index")
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include}
        )
        assert compare_metadata(context, metadata) == []
    assert store.current_revision() == head_revision()
    sql = (
        "SELECT sql FROM sqlite_master WHERE name = :n"
        if store.engine.dialect.name == "sqlite"
        else "SELECT indexdef FROM pg_indexes"
        " WHERE indexname = :n AND schemaname = current_schema()"
    )
    with store.engine.connect() as conn:
        for name in roster_tables:
            index = f"ix_roster_{name}_modified"
            found = conn.execute(sa.text(sql), {"n": index}).scalar_one()
            assert "coalesce(deleted_at" in found.replace("COALESCE", "coalesce"), found


def test_open_store_on_a_fresh_data_dir_asks_for_upgrade(tmp_path: Path) -> None:
    settings = load_settings()
    with pytest.raises(StoreUnavailable) as info:
        open_store(settings)
    assert "rostersync db upgrade" in str(info.value)
    assert info.value.setting == "ROSTERSYNC_DATABASE_URL"
    assert not (tmp_path / "var" / "rostersync.db").exists()  # looking created nothing
    store = open_store(settings, upgrade=True)
    store.dispose()
    open_store(settings).dispose()  # ready now


def test_empty_database_asks_for_upgrade(store_url: str) -> None:
    store = Store(make_engine(store_url))
    with pytest.raises(StoreUnavailable, match="not been created yet"):
        store.check_ready()
    store.dispose()


def test_unreachable_database_is_one_line() -> None:
    store = Store(make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nothing"))
    with pytest.raises(StoreUnavailable) as info:
        store.check_ready()
    message = str(info.value)
    assert "\n" not in message
    assert "ROSTERSYNC_DATABASE_URL" in message
    assert "127.0.0.1" in message


@pytest.mark.parametrize("url", ["not a url", "mysql://root@localhost/db", ""])
def test_malformed_database_url(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        make_engine(url)
    assert info.value.setting == "ROSTERSYNC_DATABASE_URL"


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    engine.dispose()


def test_postgres_urls_use_psycopg3() -> None:
    for url in ("postgresql://u@localhost/db", "postgresql+psycopg2://u@localhost/db"):
        engine = make_engine(url)
        assert isinstance(engine, sa.Engine)
        assert engine.dialect.driver == "psycopg"


def test_a_full_disk_says_to_free_space_where_the_store_lives(tmp_path: Path) -> None:
    """The driver's "disk is full" gets a hint about space, not about reaching the database."""
    import sqlite3

    from rostersync.store.engine import unavailable

    sqlite_engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    full = unavailable(sqlite_engine, sqlite3.OperationalError("database or disk is full"))
    assert "database or disk is full" in str(full)
    assert f"free disk space where the store lives ({tmp_path})" in (full.hint or "")
    server = make_engine("postgresql+psycopg://rostersync@127.0.0.1:1/roster")
    pg_full = unavailable(server, OSError("could not extend file: No space left on device"))
    assert "free disk space on the database server" in (pg_full.hint or "")
    refused = unavailable(server, OSError("connection refused"))
    assert "running and reachable" in (refused.hint or "")
    sqlite_engine.dispose()
    server.dispose()
