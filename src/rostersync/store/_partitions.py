"""PostgreSQL: each district's roster rows live in a partition of their own (migration 0009).

Why: a district's first publish writes millions of rows. Inserted into live indexes, every row
costs a B-tree descent per index, in random key order once the indexes outgrow memory; loaded
into a bare table and indexed afterwards, the same indexes are built by one sort each, several
times cheaper. So the first publish of a district builds its partitions aside and attaches them.

The build uses both cores: it runs on connections of its own, two at a time (a server process
parses one COPY stream at a time, so one connection kept a core idle). Each partition is first
created with a ``CHECK`` of its district and committed, unattached: readers only ever query the
roster tables, so an unattached table is invisible to them. Rows go in by several COPY streams
at once (a big table's rows in slices), then primary keys and lookup indexes are built, then
statistics taken. Only then does the publish transaction ATTACH the partitions (the CHECK
lets PostgreSQL skip scanning them, and it adopts the indexes) and commit.

Nothing half-done is ever served: until the publish commits, no roster table shows a row of
the new partitions. If the publish fails, the staged tables are dropped; if the process is
killed, they stay unattached and the next publish of the district drops them before building
anew (the version claim keeps two publishes of one district from ever overlapping). Attaching
takes only a SHARE UPDATE EXCLUSIVE lock on the roster table, so other districts' readers and
writers never wait.

Later publishes write through the partition's live indexes; they write rows in proportion to
the changes (about 1 % a day), where index inserts are cheap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from rostersync.store import _bulk
from rostersync.store._bulk import q
from rostersync.store.schema import partition_name, roster_table_name, roster_tables

#: ``maintenance_work_mem`` of a first load's index builds (their sessions only): with
#: PostgreSQL's default 64 MB, sorting a multi-million-row index spills to disk in many runs.
INDEX_BUILD_MEMORY: Final = "512MB"
#: Connections a first load works on at once (one per core of the reference machine).
LOAD_CONNECTIONS: Final = 2
#: Rows per COPY stream: a table bigger than this is loaded by several streams at once.
ROWS_PER_STREAM: Final = 1_000_000


def _index_statements(entity: str, partition: str) -> list[str]:
    """The partition's copies of the roster table's primary key and lookup indexes.

    They must match the parent's definitions exactly (columns, collation, predicate), so that
    ATTACH adopts them instead of building a second set; the tests check that it does.
    """
    table = roster_tables[entity]
    parent = roster_table_name(entity)
    key = ", ".join(q(c.name) for c in table.primary_key.columns)
    statements = [
        f"ALTER TABLE {q(partition)} ADD CONSTRAINT {q('pk_' + partition)} PRIMARY KEY ({key})"
    ]
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        name = str(index.name).replace(parent, partition, 1)
        columns = ", ".join(
            q(e.name) if isinstance(e, sa.Column) else str(e) for e in index.expressions
        )
        where = index.dialect_options["postgresql"]["where"]
        predicate = f" WHERE {where}" if where is not None else ""
        statements.append(f"CREATE INDEX {q(name)} ON {q(partition)} ({columns}){predicate}")
    return statements


@dataclass(frozen=True)
class FreshLoad:
    """One entity's rows for a district that has no partition of it yet: ``rows`` in the
    canonical schema with ``row_hash``, sorted by sourcedId; ``encode`` turns a slice of them
    into storage form (done in the loading threads, beside the COPY streams)."""

    entity: str
    rows: pl.DataFrame
    encode: Callable[[pl.DataFrame], pl.DataFrame]


class _Staging:
    """Steps of a staged load, each on a pooled connection, at most two at a time.

    Each entity moves through its steps on its own (create, COPY slices, index builds,
    statistics), so a small table's indexes are built while a big one's rows still stream in;
    the permits keep the database to one busy connection per core.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.steps = ThreadPoolExecutor(32, thread_name_prefix="rostersync-load")
        self.permits = threading.BoundedSemaphore(LOAD_CONNECTIONS)

    def step(self, work: Callable[[], None]) -> Future[None]:
        def run() -> None:
            with self.permits:
                work()

        return self.steps.submit(run)

    def sql(self, *statements: str) -> Callable[[], None]:
        """A step running ``statements`` in one transaction."""

        def work() -> None:
            with self.engine.connect() as conn, conn.begin():
                for statement in statements:
                    conn.exec_driver_sql(statement)

        return work

    @staticmethod
    def wait(futures: Sequence[Future[None]]) -> None:
        """Wait for every future; then raise the first failure."""
        errors = [f.exception() for f in futures]
        for error in errors:
            if error is not None:
                raise error


def stage(
    engine: Engine,
    district_id: int,
    loads: Sequence[FreshLoad],
    *,
    batch_size: int,
    after_batch: Callable[[], None],
) -> None:
    """Build the district's partitions of ``loads`` as committed, unattached tables.

    On failure some may exist: the publish drops them with ``discard`` (it also does after a
    failure later in its transaction)."""
    staging = _Staging(engine)
    district = int(district_id)
    lock = threading.Lock()

    def counted() -> None:
        with lock:
            after_batch()

    def copy(load: FreshLoad, rows: pl.DataFrame) -> Callable[[], None]:
        def work() -> None:
            with engine.connect() as conn, conn.begin():
                _bulk.insert_rows(
                    conn.connection.driver_connection,
                    load.entity,
                    load.encode(rows),
                    table=partition_name(load.entity, district),
                    batch_size=batch_size,
                    after_batch=counted,
                )

        return work

    def flow(load: FreshLoad) -> None:
        name = partition_name(load.entity, district)
        staging.wait(
            [
                staging.step(
                    staging.sql(
                        f"DROP TABLE IF EXISTS {q(name)}",  # a killed publish's leftover
                        f"CREATE TABLE {q(name)} (LIKE {q(roster_table_name(load.entity))} "
                        f"INCLUDING DEFAULTS, CONSTRAINT {q('ck_' + name)} "
                        f"CHECK (district_id = {district}))",
                    )
                )
            ]
        )
        # A big table goes in by several COPY streams at once, a server process each.
        slices = [
            load.rows.slice(offset, ROWS_PER_STREAM)
            for offset in range(0, load.rows.height, ROWS_PER_STREAM)
        ]
        staging.wait([staging.step(copy(load, rows)) for rows in slices])
        memory = f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'"
        staging.wait(
            [
                staging.step(staging.sql(memory, statement))
                for statement in _index_statements(load.entity, name)
            ]
        )
        # Statistics in the build: the provider's first queries after the commit are planned
        # with them (a fresh table otherwise looks empty until autovacuum analyzes it).
        staging.wait([staging.step(staging.sql(f"ANALYZE {q(name)}"))])

    biggest_first = sorted(loads, key=lambda load: -load.rows.height)
    try:
        with ThreadPoolExecutor(len(loads), thread_name_prefix="rostersync-flow") as flows:
            staging.wait([flows.submit(flow, load) for load in biggest_first])
    finally:
        staging.steps.shutdown(wait=True)  # the caller ``discard``s whatever a failure left


def attach(dbapi_conn: Any, entity: str, district_id: int) -> None:
    """Attach a staged partition, in the publish transaction (the CHECK spares the scan)."""
    with dbapi_conn.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {q(roster_table_name(entity))} ATTACH PARTITION "
            f"{q(partition_name(entity, district_id))} FOR VALUES IN ({int(district_id)})"
        )


def discard(engine: Engine, district_id: int, entities: Sequence[str]) -> None:
    """Drop staged (never attached) partitions after a failed publish; best effort."""
    for entity in entities:
        name = partition_name(entity, district_id)
        try:
            with engine.connect() as conn, conn.begin():
                dbapi = conn.connection.driver_connection
                if _bulk.partition_state(dbapi, entity, district_id) == "staged":
                    conn.exec_driver_sql(f"DROP TABLE {q(name)}")
        except sa.exc.SQLAlchemyError:
            pass  # the next publish of the district drops a leftover before building anew


def analyze(conn: sa.Connection, entity: str, district_id: int) -> None:
    """Refresh the statistics of one district's partition (outside a transaction block)."""
    conn.exec_driver_sql(f"ANALYZE {q(partition_name(entity, district_id))}")
