"""SQLite's WAL checkpoint of a publish: not inside the commit but after it, once the scratch
files are gone (``RosterVersions._checkpoint``); the publish's pages end in the database file."""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from rostersync.errors import FatalError
from rostersync.model import Roster
from rostersync.store import Store
from rostersync.store.engine import SQLITE_AUTOCHECKPOINT_PAGES, SQLITE_WAL_KEEP_BYTES

RosterEqual = Callable[[Roster, Roster], None]


def _wal_frames(store_path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames of them copied into the database file), read from the
    wal-index header (the ``-shm`` file; sqlite.org/walformat.html): ``mxFrame`` at byte 16,
    ``nBackfill`` at byte 96, native byte order."""
    shm = Path(f"{store_path}-shm").read_bytes()
    (mx_frame,) = struct.unpack_from("=I", shm, 16)
    (backfilled,) = struct.unpack_from("=I", shm, 96)
    return mx_frame, backfilled


def test_a_publish_copies_its_pages_into_the_file_before_it_returns(
    sqlite_store: Store, store_path: Path, make_roster: Callable[..., Roster]
) -> None:
    district = sqlite_store.create_district("Springfield")
    # Control: a small write of another connection stays in the WAL (SQLite checkpoints
    # only past 1,000 pages), which is what the probe sees when nothing copied the pages.
    sqlite_store.audit("test", "control", district.id)
    frames, copied = _wal_frames(store_path)
    assert frames > copied

    sqlite_store.publish(district.id, make_roster())
    frames, copied = _wal_frames(store_path)
    assert frames > 0
    assert copied == frames


def test_the_publish_connection_checkpoints_as_usual_again_after_a_publish(
    sqlite_store: Store, make_roster: Callable[..., Roster]
) -> None:
    """Turning the commit's own checkpoint off is for the publish only, failed or not; the WAL
    file is cut back after a checkpoint."""
    district = sqlite_store.create_district("Springfield")

    def settings() -> list[int]:
        with sqlite_store.engine.connect() as conn:
            return [
                int(conn.exec_driver_sql(f"PRAGMA {name}").scalar_one())
                for name in ("wal_autocheckpoint", "journal_size_limit")
            ]

    expected = [SQLITE_AUTOCHECKPOINT_PAGES, SQLITE_WAL_KEEP_BYTES]
    assert settings() == expected
    with pytest.raises(FatalError, match="test hook"):
        sqlite_store.publish(district.id, make_roster(), _fail_after_batches=1)
    assert settings() == expected
    sqlite_store.publish(district.id, make_roster())
    assert settings() == expected


def test_a_reader_on_an_old_version_holds_back_the_checkpoint_not_the_publish(
    sqlite_store: Store,
    store_path: Path,
    make_roster: Callable[..., Roster],
    roster_equal: RosterEqual,
) -> None:
    """A reader still on the version before a publish keeps the publish's pages from being
    copied over its snapshot; the publish does not wait for it, and the next one catches up."""
    district = sqlite_store.create_district("Springfield")
    first = make_roster(seed=1)
    sqlite_store.publish(district.id, first)
    reader = sqlite3.connect(store_path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        before = reader.execute("SELECT count(*) FROM roster_users WHERE valid_to IS NULL")
        assert before.fetchone() == (first["users"].height,)
        second = make_roster(n_users=60, seed=2)
        sqlite_store.publish(district.id, second)
        frames, copied = _wal_frames(store_path)
        assert copied < frames  # the pages the reader may still read from the file stay
        still = reader.execute("SELECT count(*) FROM roster_users WHERE valid_to IS NULL")
        assert still.fetchone() == (first["users"].height,)
        reader.execute("COMMIT")
    finally:
        reader.close()
    roster_equal(sqlite_store.read_version(district.id), second)
    sqlite_store.publish(district.id, make_roster(n_users=61, seed=3))
    frames, copied = _wal_frames(store_path)
    assert copied == frames
