"""PostgreSQL: each district's roster rows live in a partition of their own (migration 0009).

Why: a district's first publish writes millions of rows. Inserted into live indexes, every row
costs a B-tree descent per index, in random key order once the indexes outgrow memory; loaded
into a bare table and indexed afterwards, the same indexes are built by one sort each, several
times cheaper. So the first publish of a district builds its partition aside — a new table with
a ``CHECK`` of its district, ``COPY … FREEZE`` into it, primary key and lookup indexes built,
statistics taken — and attaches it to the roster table, all inside the publish transaction: a
publish that fails or is killed leaves no partition behind, and other districts' readers and
writers are never blocked (attaching takes only a SHARE UPDATE EXCLUSIVE lock on the parent).

Later publishes write through the partition's live indexes; they write rows in proportion to the
changes (about 1 % a day), where index inserts are cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import polars as pl
import sqlalchemy as sa

from rostersync.store import _bulk
from rostersync.store._bulk import q
from rostersync.store.schema import partition_name, roster_table_name, roster_tables

#: ``maintenance_work_mem`` of a first load's index builds (for that transaction only): with
#: PostgreSQL's default 64 MB, sorting a multi-million-row index spills to disk in many runs.
INDEX_BUILD_MEMORY: Final = "512MB"


def exists(dbapi_conn: Any, entity: str, district_id: int) -> bool:
    """Whether the district's partition of an entity's roster table exists."""
    with dbapi_conn.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", (q(partition_name(entity, district_id)),))
        row = cursor.fetchone()
    return row is not None and row[0] is not None


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
        columns = ", ".join(q(c.name) for c in index.columns)
        where = index.dialect_options["postgresql"]["where"]
        predicate = f" WHERE {where}" if where is not None else ""
        statements.append(f"CREATE INDEX {q(name)} ON {q(partition)} ({columns}){predicate}")
    return statements


def load_fresh(
    dbapi_conn: Any,
    entity: str,
    district_id: int,
    rows: pl.DataFrame,
    *,
    batch_size: int,
    after_batch: Callable[[], None],
) -> None:
    """Create, fill, index and attach a district's partition, in the caller's transaction.

    ``rows`` are encoded for PostgreSQL (``_bulk.encode``) and sorted by ``sourcedId``.
    """
    partition = partition_name(entity, district_id)
    parent = q(roster_table_name(entity))
    district = int(district_id)
    with dbapi_conn.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {q(partition)} (LIKE {parent} INCLUDING DEFAULTS, "
            f"CONSTRAINT {q('ck_' + partition)} CHECK (district_id = {district}))"
        )
    if rows.height:
        _bulk.insert_rows(
            dbapi_conn,
            "postgresql",
            entity,
            rows,
            table=partition,
            batch_size=batch_size,
            after_batch=after_batch,
            freeze=True,
        )
    with dbapi_conn.cursor() as cursor:
        cursor.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
        for statement in _index_statements(entity, partition):
            cursor.execute(statement)
        # Statistics now, in the transaction: the provider's first queries after the commit are
        # planned with them (a fresh table otherwise looks empty until autovacuum analyzes it).
        cursor.execute(f"ANALYZE {q(partition)}")
        # The CHECK proves every row belongs here, so ATTACH skips scanning the partition.
        cursor.execute(
            f"ALTER TABLE {parent} ATTACH PARTITION {q(partition)} FOR VALUES IN ({district})"
        )


def analyze(conn: sa.Connection, entity: str, district_id: int) -> None:
    """Refresh the statistics of one district's partition (outside a transaction block)."""
    conn.exec_driver_sql(f"ANALYZE {q(partition_name(entity, district_id))}")
