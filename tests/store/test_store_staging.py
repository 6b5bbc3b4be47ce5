"""SQLite's bulk path (``store/_staging``): scratch files built through ADBC, copied whole into
empty roster tables by SQLite's transfer optimization, or in row batches into filled ones."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from rostersync.errors import FatalError, StoreError
from rostersync.model import ENTITIES, Roster
from rostersync.store import Store, _bulk, _staging, make_engine
from rostersync.store._hashing import row_hashes
from rostersync.store.engine import SQLITE_PAGE_BYTES
from rostersync.store.schema import roster_tables

RosterEqual = Callable[..., None]


def _index_sql(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
        # the versioned roster tables only (roster_events, the apps' feed, is not one of them)
        names = {t.name for t in roster_tables.values()}
        return {str(r[1]) for r in rows if r[0] in names}


def _encoded(roster: Roster, district_id: int) -> dict[str, pl.DataFrame]:
    out = {}
    for name in ENTITIES:
        table = roster[name]
        hashed = table.with_columns(row_hashes(name, table)).sort("sourcedId")
        out[name] = _bulk.encode(name, hashed, dialect="sqlite", district_id=district_id, version=1)
    return out


def _stage(
    store_path: Path,
    directory: Path,
    frames: dict[str, pl.DataFrame],
    *,
    indexes: bool = True,
) -> dict[str, _staging.Scratch]:
    """Whole scratch files of ``frames``, from the store's definitions (``indexes=False``:
    without the tables' indexes)."""
    directory.mkdir()
    with sqlite3.connect(store_path) as conn:
        wholes = _staging.wholes(conn, list(frames))
    assert set(wholes) == set(frames)  # a fresh store: every table is empty
    if not indexes:
        wholes = {name: ddl[:1] for name, ddl in wholes.items()}
    return _staging.build(directory, frames, wholes)


def _opcodes(conn: sqlite3.Connection, sql: str) -> set[str]:
    return {str(row[1]) for row in conn.execute(f"EXPLAIN {sql}")}


def test_every_whole_scratch_is_copied_by_the_transfer_optimization(
    sqlite_store: Store, store_path: Path, make_roster: Callable[..., Roster], tmp_path: Path
) -> None:
    """The fast copy needs SQLite to find the scratch table and its indexes identical to the
    store's: then the compiled copy reads raw records (``RowData``), for every roster table.
    The control, a scratch without the lookup indexes, compiles to a decode-and-insert copy."""
    frames = _encoded(make_roster(), 1)
    whole = _stage(store_path, tmp_path / "whole", frames)
    bare = _stage(store_path, tmp_path / "bare", frames, indexes=False)
    conn = sqlite3.connect(store_path)
    try:
        for name in ENTITIES:
            conn.execute(f"ATTACH DATABASE ? AS {whole[name].schema}", (whole[name].path,))
            assert "RowData" in _opcodes(conn, _staging.copy_sql(whole[name])), name
            conn.execute(f"DETACH DATABASE {whole[name].schema}")
            if not roster_tables[name].indexes:  # the primary key is part of the table
                continue
            conn.execute(f"ATTACH DATABASE ? AS {bare[name].schema}", (bare[name].path,))
            assert "RowData" not in _opcodes(conn, _staging.copy_sql(bare[name])), name
            conn.execute(f"DETACH DATABASE {bare[name].schema}")
    finally:
        conn.close()


def test_a_whole_scratch_copied_into_a_table_filled_meanwhile_is_still_exact(
    sqlite_store: Store,
    store_path: Path,
    make_roster: Callable[..., Roster],
    roster_equal: RosterEqual,
    tmp_path: Path,
) -> None:
    """A publish stages whole when the table was empty; if another district's publish filled
    it before the transaction, SQLite copies row by row instead, into every index."""
    first = sqlite_store.create_district("Springfield")
    second = sqlite_store.create_district("Shelbyville")
    theirs, ours = make_roster(seed=1), make_roster(n_users=30, seed=2)
    scratches = _stage(store_path, tmp_path / "scratch", _encoded(ours, second.id))
    sqlite_store.publish(first.id, theirs)  # fills every roster table
    conn = sqlite3.connect(store_path, isolation_level=None)
    try:
        for scratch in scratches.values():
            conn.execute(f"ATTACH DATABASE ? AS {scratch.schema}", (scratch.path,))
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO roster_versions (district_id, version, created_at, status, counts, "
            "hash_tag) VALUES (?, 1, '2026-01-01 00:00:00', 'published', '{}', ?)",
            (second.id, sqlite_store.get_version(first.id).hash_tag),
        )
        for scratch in scratches.values():
            _staging.copy(conn, scratch, batch_size=7, after_batch=list)
        conn.execute("COMMIT")
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    # Copied by hand, not published: the rows carry no publish stamp.
    roster_equal(sqlite_store.read_version(second.id), ours, stamped=False)
    roster_equal(sqlite_store.read_version(first.id), theirs)


@pytest.mark.parametrize("fail", [False, True])
def test_sqlite_first_publish_copies_whole_tables(
    sqlite_store: Store,
    store_path: Path,
    make_roster: Callable[..., Roster],
    roster_equal: RosterEqual,
    fail: bool,
) -> None:
    """A first publish into an empty store brings its indexes along: afterwards every index is
    defined as before, consistent (``integrity_check``) and used by the lookups; a publish
    that fails between two tables' copies leaves nothing."""
    district = sqlite_store.create_district("Springfield")
    before = _index_sql(sqlite_store)
    assert len(before) == sum(len(t.indexes) for t in roster_tables.values())
    roster = make_roster()
    if fail:
        with pytest.raises(FatalError, match="test hook"):
            sqlite_store.publish(district.id, roster, _fail_after_batches=2)
        assert sqlite_store.current_version(district.id) is None
    else:
        sqlite_store.publish(district.id, roster)
        roster_equal(sqlite_store.read_version(district.id), roster)
    assert _index_sql(sqlite_store) == before
    conn = sqlite3.connect(store_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        class_id = roster["enrollments"]["classSourcedId"][0]
        lookup = (
            "SELECT count(*) FROM roster_enrollments WHERE district_id = ? "
            'AND "classSourcedId" = ? AND valid_to IS NULL'
        )
        plan = " ".join(str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {lookup}", (1, "x")))
        assert "ix_roster_enrollments_cur_classSourcedId" in plan
        expected = 0 if fail else (roster["enrollments"]["classSourcedId"] == class_id).sum()
        assert conn.execute(lookup, (district.id, class_id)).fetchone() == (expected,)
        left = conn.execute("SELECT count(*) FROM roster_users").fetchone()
        assert left == (0 if fail else roster["users"].height,)
    finally:
        conn.close()


def test_a_second_district_and_a_daily_change_stage_rows(
    sqlite_store: Store, make_roster: Callable[..., Roster], roster_equal: RosterEqual
) -> None:
    """Into tables that hold rows already, a publish copies row batches (small batches here,
    so a table takes several); every version reads back exactly."""
    first = sqlite_store.create_district("Springfield")
    second = sqlite_store.create_district("Shelbyville")
    sqlite_store.publish(first.id, make_roster(seed=1))
    theirs = make_roster(n_users=50, seed=3)
    sqlite_store.publish(second.id, theirs, batch_size=4)
    changed = make_roster(n_users=55, seed=3)
    sqlite_store.publish(second.id, changed, batch_size=4)
    roster_equal(sqlite_store.read_version(second.id, 1), theirs)
    roster_equal(sqlite_store.read_version(second.id), changed)
    roster_equal(sqlite_store.read_version(first.id), make_roster(seed=1))


def test_sqlite_publish_without_a_usable_temp_directory_is_a_clear_error(
    sqlite_store: Store,
    make_roster: Callable[..., Roster],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    district = sqlite_store.create_district("Springfield")
    missing = tmp_path / "no-such-dir"
    monkeypatch.setattr(tempfile, "tempdir", str(missing))
    with pytest.raises(StoreError) as info:
        sqlite_store.publish(district.id, make_roster())
    assert str(missing) in str(info.value)
    assert "TMPDIR" in (info.value.hint or "")
    assert sqlite_store.current_version(district.id) is None


def test_a_scratch_that_cannot_be_written_raises_the_error_a_publish_translates(
    make_roster: Callable[..., Roster], tmp_path: Path
) -> None:
    """The driver's own error (here: no such directory) is what ``publish`` turns into the
    one-line ``StoreError`` above, and no worker is left writing."""
    frames = _encoded(make_roster(), 1)
    with pytest.raises(_staging.StagingError, match=r"failed to open .*gone"):
        _staging.build(tmp_path / "gone", frames, {})


def test_a_publish_removes_what_killed_publishes_on_this_host_left(
    sqlite_store: Store,
    make_roster: Callable[..., Roster],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Scratch directories are named by host and process: those of dead processes on this host
    go; a live process's, and other hosts' (a shared TMPDIR), stay."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    dead = _finished_pid()
    host = socket.gethostname()
    leftovers = {
        "dead": temp / f"{_staging.SCRATCH_PREFIX}{host}-{dead}-x1",
        "live": temp / f"{_staging.SCRATCH_PREFIX}{host}-{os.getpid()}-x2",
        "elsewhere": temp / f"{_staging.SCRATCH_PREFIX}other-host-{dead}-x3",
        "similar host": temp / f"{_staging.SCRATCH_PREFIX}{host}-{dead}-{dead}-x4",
    }
    for path in leftovers.values():
        path.mkdir()
        (path / "users.db").write_bytes(b"rows")
    district = sqlite_store.create_district("Springfield")
    sqlite_store.publish(district.id, make_roster())
    assert sorted(p.name for p in temp.iterdir()) == sorted(
        leftovers[k].name for k in ("live", "elsewhere", "similar host")
    )


def _finished_pid() -> int:
    """The ID of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_store_can_attach_a_scratch_per_entity() -> None:
    """A publish attaches up to one scratch file per entity; SQLite's attach limit allows it."""
    conn = sqlite3.connect(":memory:")
    assert len(ENTITIES) <= conn.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED)
    conn.close()


def test_a_new_store_has_16k_pages_and_an_existing_one_keeps_its_own(
    tmp_path: Path, make_roster: Callable[..., Roster], roster_equal: RosterEqual
) -> None:
    def page_size(path: Path) -> int:
        with sqlite3.connect(path) as conn:
            return int(conn.execute("PRAGMA page_size").fetchone()[0])

    fresh = tmp_path / "fresh.db"
    made = Store(make_engine(f"sqlite:///{fresh}"))
    made.upgrade()
    made.dispose()
    assert page_size(fresh) == SQLITE_PAGE_BYTES
    older = tmp_path / "older.db"
    with sqlite3.connect(older) as conn:  # a store made before: SQLite's default pages, WAL
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE kept (x INTEGER)")
    store = Store(make_engine(f"sqlite:///{older}"))
    store.upgrade()
    district = store.create_district("Springfield")
    roster = make_roster()
    store.publish(district.id, roster)
    roster_equal(store.read_version(district.id), roster)
    store.dispose()
    assert page_size(older) == 4096
