"""SQLite's bulk path: the rows a publish inserts are built into scratch SQLite files first.

Python's ``sqlite3`` binds values one at a time, which capped a publish at about 120,000
rows/s. ADBC's SQLite driver binds Arrow columns straight from Polars, in C. It carries its own
copy of SQLite, and two copies of SQLite in one process must never share a file (each drops
the other's POSIX locks when it closes it), so ADBC only ever writes scratch files of the
publish's own: one per entity, two at a time, each closed before the publish transaction
attaches it and copies its rows into the roster table.

* **Whole** (the roster table is empty: the store's first publish of that entity): the scratch
  holds the roster table under its exact definition, read from the store itself, with the rows
  and then the lookup indexes built there. ``INSERT INTO t SELECT * FROM s.t`` into the empty
  table then takes SQLite's transfer optimization: records and index entries are copied as
  they are, in order, instead of being decoded, encoded again and inserted into every index
  in random key order. Building the indexes in the scratch files also lets two entities' index
  builds run at once, where the store's one writer could build only one at a time.
* **Rows** (the table holds rows already): the scratch holds a plain table, copied with
  ``INSERT … SELECT`` in rowid batches.

Both kinds are tested to be what the publish reads (``tests/store``), including that every
roster table's whole scratch is transfer-compatible with the store's table.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import adbc_driver_sqlite.dbapi as _adbc_sqlite
import polars as pl

from rostersync.errors import StoreError
from rostersync.store._bulk import insert_columns, q
from rostersync.store.engine import SQLITE_PAGE_BYTES
from rostersync.store.schema import roster_table_name

#: What the driver raises (a full disk, an unwritable temp directory…).
StagingError: type[Exception] = _adbc_sqlite.Error

#: Scratch files built at once (one thread and one ADBC connection each).
WORKERS = 2
#: Page cache of a scratch connection: SQLite sorts index keys in memory up to this size.
_CACHE_KIB = 256 * 1024


#: Start of a scratch directory's name; the host and process ID follow.
SCRATCH_PREFIX = "rostersync-publish-"


def error(exc: BaseException) -> StoreError:
    """The one-line error of a scratch file that could not be made or written."""
    return StoreError(
        f"Cannot stage the rows to publish in the temp directory {tempfile.gettempdir()}: {exc}",
        hint="free space there, or point TMPDIR at a directory with room "
        "(about 250 bytes per roster row); nothing was published",
    )


@contextmanager
def directory() -> Iterator[Path]:
    """A temporary directory for one publish's scratch files, removed when it ends.

    Its name carries the host and process ID, so that a publish also removes what publishes
    killed on this host left behind (a mega district's scratch files take 1.7 GB).
    """
    own = f"{SCRATCH_PREFIX}{socket.gethostname()}-"
    try:
        _remove_leftovers(Path(tempfile.gettempdir()), own)
        made = tempfile.TemporaryDirectory(
            prefix=f"{own}{os.getpid()}-", ignore_cleanup_errors=True
        )
    except OSError as exc:
        raise error(exc) from exc
    with made as name:
        yield Path(name)


def _remove_leftovers(temp: Path, own: str) -> None:
    for path in temp.glob(f"{own}*-*"):
        # "<pid>-<random>", and the random part has no "-": a host named like this one plus
        # "-<digits>" does not pass for it.
        pid, _, rest = path.name[len(own) :].partition("-")
        if pid.isdigit() and "-" not in rest and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@dataclass(frozen=True)
class Scratch:
    """One entity's staged rows: a scratch file, the schema name the publish attaches it
    as, the table inside it and in the store (the roster table), and whether it is ``whole``."""

    entity: str
    path: str
    schema: str
    table: str
    whole: bool
    rows: int

    @property
    def source(self) -> str:
        """The scratch table as the publish transaction names it."""
        return f"{self.schema}.{q(self.table)}"


def wholes(dbapi_conn: Any, entities: list[str]) -> dict[str, list[str]]:
    """The ``definition`` of each of ``entities`` whose roster table holds no row yet (of any
    district, any version): those are staged whole."""
    out = {}
    for entity in entities:
        table = roster_table_name(entity)
        if dbapi_conn.execute(f"SELECT 1 FROM {q(table)} LIMIT 1").fetchone() is None:
            out[entity] = definition(dbapi_conn, table)
    return out


def definition(dbapi_conn: Any, table: str) -> list[str]:
    """The store's own ``CREATE`` statements of a table and its indexes, table first.

    Taken from ``sqlite_master`` rather than from the SQLAlchemy metadata, so a scratch table
    matches the store's table exactly (column order, types, the partial indexes' conditions)
    whatever migrations built it: the transfer optimization requires it.
    """
    rows = dbapi_conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
        "ORDER BY type = 'index', name",
        (table,),
    ).fetchall()
    return [str(row[0]) for row in rows]


def build(
    directory: Path,
    frames: dict[str, pl.DataFrame],
    wholes: dict[str, list[str]],
) -> dict[str, Scratch]:
    """Write each entity's encoded rows (``frames``) into a scratch file in ``directory``.

    ``wholes`` maps the entities to build whole to their ``definition``. The largest entities
    start first, so the two workers finish together. Returns when every file is complete and
    closed (or raises the first error).
    """
    order = sorted(frames, key=lambda name: -frames[name].height)
    jobs = [
        Scratch(
            entity=name,
            path=str(directory / f"{name}.db"),
            schema=f"rostersync_stage_{i}",
            table=roster_table_name(name),
            whole=name in wholes,
            rows=frames[name].height,
        )
        for i, name in enumerate(order)
    ]
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="rs-stage") as pool:
        futures = [
            pool.submit(_write, job, frames[job.entity], wholes.get(job.entity)) for job in jobs
        ]
        try:
            for future in futures:
                future.result()
        except BaseException:
            pool.shutdown(cancel_futures=True)  # the files not started yet are not needed
            raise
    return {job.entity: job for job in jobs}


def _write(job: Scratch, frame: pl.DataFrame, ddl: list[str] | None) -> None:
    """Fill one scratch file. It is the publish's own and thrown away after it: no journal,
    no fsync."""
    with _adbc_sqlite.connect(job.path, autocommit=True) as conn, conn.cursor() as cursor:
        for pragma in (
            f"page_size = {SQLITE_PAGE_BYTES}",
            "journal_mode = OFF",
            "synchronous = OFF",
            f"cache_size = -{_CACHE_KIB}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        if ddl is None:
            cursor.adbc_ingest(job.table, frame, mode="create")
            return
        table, indexes = ddl[0], ddl[1:]
        cursor.execute(table)
        cursor.adbc_ingest(job.table, frame, mode="append")
        # Indexes after the rows: one sort each instead of inserts in random key order.
        for index in indexes:
            cursor.execute(index)


def copy_sql(scratch: Scratch) -> str:
    """The statement that copies a whole scratch into the store's empty roster table.

    Exactly ``INSERT INTO t SELECT * FROM s.t``: a column list or a WHERE clause would turn
    the transfer optimization off.
    """
    return f"INSERT INTO main.{q(scratch.table)} SELECT * FROM {scratch.source}"


def copy(
    dbapi_conn: Any,
    scratch: Scratch,
    *,
    batch_size: int,
    after_batch: Callable[[], None],
) -> None:
    """Copy a scratch's rows into the store's roster table (inside the publish transaction)."""
    cursor = dbapi_conn.cursor()
    try:
        if scratch.whole:
            # Into a table that is still empty, one transfer; if another district's publish
            # filled it meanwhile, SQLite falls back to inserting row by row (still correct).
            cursor.execute(copy_sql(scratch))
            after_batch()
            return
        cols = ", ".join(q(c) for c in insert_columns(scratch.entity))
        sql = (
            f"INSERT INTO main.{q(scratch.table)} ({cols}) SELECT {cols} FROM {scratch.source} "
            "WHERE rowid > ? AND rowid <= ? ORDER BY rowid"
        )
        for offset in range(0, scratch.rows, batch_size):
            cursor.execute(sql, (offset, offset + batch_size))
            after_batch()
    finally:
        cursor.close()
