"""Bulk writes: PostgreSQL partitions per district, a SQLite-only install, and migration 0009."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from rostersync.errors import FatalError
from rostersync.model import ENTITIES, Roster
from rostersync.store import District, Store, make_engine
from rostersync.store._migrate import alembic_config
from rostersync.store.schema import partition_name, roster_table_name, roster_tables

RosterEqual = Callable[..., None]
PARTITION_DEFS = """
    SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = CAST(:parent AS regclass)
"""
INDEX_COUNT = "SELECT count(*) FROM pg_index WHERE indrelid = CAST(:table AS regclass)"
ATTACHED_INDEXES = """
    SELECT count(*) FROM pg_index x JOIN pg_inherits i ON i.inhrelid = x.indexrelid
    WHERE x.indrelid = CAST(:table AS regclass)
"""


def _quoted(name: str) -> str:
    return '"' + name + '"'


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    store = Store(make_engine(pg_url))
    store.upgrade()
    yield store
    store.dispose()


def test_first_publish_attaches_one_indexed_partition_per_entity(
    pg_store: Store, make_roster: Callable[..., Roster], roster_equal: RosterEqual
) -> None:
    a = pg_store.create_district("Springfield")
    b = pg_store.create_district("Shelbyville")
    pg_store.publish(a.id, make_roster(n_users=30, seed=1))
    pg_store.publish(b.id, make_roster(n_users=10, seed=2))
    pg_store.publish(a.id, make_roster(n_users=31, seed=1))  # a later publish: live partition
    with pg_store.engine.connect() as conn:
        for entity in ENTITIES:
            parent = _quoted(roster_table_name(entity))
            parts = dict(conn.execute(sa.text(PARTITION_DEFS), {"parent": parent}).all())
            assert parts == {
                partition_name(entity, a.id): f"FOR VALUES IN ({a.id})",
                partition_name(entity, b.id): f"FOR VALUES IN ({b.id})",
            }
            wanted = 1 + len(roster_tables[entity].indexes)  # primary key + lookup indexes
            for part in parts:
                table = {"table": _quoted(part)}
                # ATTACH adopted the indexes built after the load: none built twice.
                assert conn.execute(sa.text(INDEX_COUNT), table).scalar() == wanted
                assert conn.execute(sa.text(ATTACHED_INDEXES), table).scalar() == wanted
    roster_equal(pg_store.read_version(a.id), make_roster(n_users=31, seed=1))
    roster_equal(pg_store.read_version(b.id), make_roster(n_users=10, seed=2))


def test_failed_first_publish_leaves_no_partition(
    pg_store: Store, make_roster: Callable[..., Roster], roster_equal: RosterEqual
) -> None:
    district = pg_store.create_district("Springfield")
    with pytest.raises(FatalError, match="test hook"):
        pg_store.publish(district.id, make_roster(), batch_size=4, _fail_after_batches=3)
    assert pg_store.current_version(district.id) is None
    with pg_store.engine.connect() as conn:
        for entity in ENTITIES:
            name = _quoted(partition_name(entity, district.id))
            assert conn.execute(sa.text("SELECT to_regclass(:n)"), {"n": name}).scalar() is None
    pg_store.publish(district.id, make_roster())  # and the retry loads cleanly
    roster_equal(pg_store.read_version(district.id), make_roster())


def _downgrade(engine: sa.Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def test_migration_0009_keeps_every_row_both_ways(
    store: Store,
    district: District,
    make_roster: Callable[..., Roster],
    roster_equal: RosterEqual,
) -> None:
    """Rows published before the upgrade read back equal after it, and after a downgrade."""
    other = store.create_district("Shelbyville")
    store.publish(district.id, make_roster(n_users=20, seed=3))
    store.publish(district.id, make_roster(n_users=22, seed=3))
    store.publish(other.id, make_roster(n_users=5, seed=4))
    before = {v: store.read_version(district.id, v) for v in (1, 2)}
    _downgrade(store.engine, "0008")
    store.upgrade()
    for v, roster in before.items():
        roster_equal(store.read_version(district.id, v), roster)
    roster_equal(store.read_version(other.id), make_roster(n_users=5, seed=4))
    store.publish(district.id, make_roster(n_users=23, seed=3))  # and publishing goes on
    roster_equal(store.read_version(district.id), make_roster(n_users=23, seed=3))
    _downgrade(store.engine, "0008")  # below 0014: the store's stamps are gone again
    roster_equal(store.read_version(district.id, 2), before[2], stamped=False)
    roster_equal(store.read_version(district.id), make_roster(n_users=23, seed=3), stamped=False)


def test_migration_0014_fills_timestamps_and_deletion_times_both_ways(
    store: Store, district: District, make_roster: Callable[..., Roster]
) -> None:
    """Rows stored before 0014 get their version's publish time, rows deleted before it their
    deletion time; a downgrade empties the stamps again and drops the deletion times."""
    first = make_roster(n_users=20, seed=3)
    v1 = store.publish(district.id, first)
    v2 = store.publish(district.id, {**first, "users": first["users"].head(15)})  # 5 deleted
    _downgrade(store.engine, "0009")
    for version in (1, 2):
        users = store.read_version(district.id, version)["users"]
        assert users["dateLastModified"].null_count() == users.height
    store.upgrade()
    stamps = store.read_version(district.id, 2)["users"]["dateLastModified"]
    assert set(stamps) == {v1.created_at}  # unchanged since version 1
    t = roster_tables["users"]
    with store.engine.connect() as conn:
        deleted = conn.execute(
            sa.select(t.c.sourcedId, t.c.deleted_at).where(
                t.c.district_id == district.id, t.c.deleted_at.is_not(None)
            )
        ).all()
    assert sorted(sid for sid, _ in deleted) == [f"ps-u-{i:05d}" for i in range(15, 20)]
    assert {when.replace(tzinfo=None) for _, when in deleted} == {
        v2.created_at.replace(tzinfo=None)
    }


def test_a_killed_first_publish_leftover_is_ignored_then_replaced(
    pg_store: Store, make_roster: Callable[..., Roster], roster_equal: RosterEqual
) -> None:
    """A first publish killed after staging leaves an unattached table: it never reads as
    published rows, and the next publish of the district drops it and builds anew."""
    district = pg_store.create_district("Springfield")
    leftover = _quoted(partition_name("users", district.id))
    with pg_store.engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE TABLE {leftover} (LIKE "roster_users" INCLUDING DEFAULTS)')
        conn.exec_driver_sql(
            f'INSERT INTO {leftover} (district_id, "sourcedId", row_hash, valid_from) '
            f"VALUES ({district.id}, 'ghost', 1, 1)"
        )
    assert pg_store.read_current_hashes(district.id, "users").height == 0
    version = pg_store.publish(district.id, make_roster())
    assert version.counts["users"].added == 40
    roster_equal(pg_store.read_version(district.id), make_roster())
    with pg_store.engine.connect() as conn:
        attached = conn.exec_driver_sql(
            "SELECT relispartition FROM pg_class WHERE oid = to_regclass(%s)", (leftover,)
        ).scalar()
    assert attached is True


def test_a_sqlite_store_works_without_the_postgres_extra(tmp_path: Path) -> None:
    """psycopg comes with the ``postgres`` extra: nothing a SQLite store runs may import it."""
    import subprocess
    import sys

    script = f"""
import sys
sys.modules["psycopg"] = None  # as if the postgres extra were not installed
import polars as pl
from rostersync.model import conform, empty_roster
from rostersync.store import Store, make_engine
store = Store(make_engine("sqlite:///{tmp_path / "store.db"}"))
store.upgrade()
district = store.create_district("Springfield")
roster = empty_roster()
roster["orgs"] = conform("orgs", pl.DataFrame({{"sourcedId": ["d1"], "name": ["Springfield"]}}))
store.publish(district.id, roster)
print(store.read_version(district.id)["orgs"]["name"].to_list())
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['Springfield']"
