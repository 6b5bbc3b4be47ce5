"""Bulk movement of roster rows between Polars and the database, on each backend's fast path.

Writes: PostgreSQL gets ``COPY … FROM STDIN`` fed with Polars-written CSV; SQLite copies the
rows ``_staging`` built.
Reads: SQLite aggregates ranges of rowids into one JSON array per column, which Polars parses;
PostgreSQL streams ``COPY (SELECT …) TO STDOUT`` CSV into ``pl.read_csv``. Both go through one
storage encoding: dates and timestamps as ISO text (UTC), booleans as integers/booleans, lists
as JSON arrays, so the values read back equal the values written, bit for bit, and hash the
same.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import polars as pl

from rostersync.model import ENTITIES, conform
from rostersync.store.schema import partition_name, roster_table_name

_TS_FORMAT_OUT = "%Y-%m-%d %H:%M:%S%.6f"
_TS_FORMAT_IN = "%Y-%m-%d %H:%M:%S%.f"


def q(name: str) -> str:
    """Quote an identifier (canonical names are camelCase; one of them is ``primary``)."""
    return '"' + name.replace('"', '""') + '"'


def _json_list(column: str) -> pl.Expr:
    """A List(Utf8) column as JSON array text, null kept null (columnar, correctly escaped)."""
    wrapped = pl.struct(pl.col(column).alias("v")).struct.json_encode()
    text = wrapped.str.strip_prefix('{"v":').str.strip_suffix("}")
    return pl.when(pl.col(column).is_null()).then(None).otherwise(text).alias(column)


def encode(
    entity: str, table: pl.DataFrame, *, dialect: str, district_id: int, version: int
) -> pl.DataFrame:
    """Rows ready to insert: district_id, canonical columns (storage form), row_hash, valid_from.

    ``table`` holds the conformed canonical columns plus ``row_hash``.
    """
    exprs: list[pl.Expr] = [pl.lit(district_id, pl.Int64).alias("district_id")]
    for f in ENTITIES[entity].fields:
        col = pl.col(f.name)
        if isinstance(f.dtype, pl.List):
            exprs.append(_json_list(f.name))
        elif isinstance(f.dtype, pl.Datetime):
            utc = col.dt.convert_time_zone("UTC").dt.strftime(_TS_FORMAT_OUT)
            exprs.append((utc + "+00:00" if dialect != "sqlite" else utc).alias(f.name))
        elif f.dtype == pl.Date and dialect == "sqlite":
            exprs.append(col.dt.strftime("%Y-%m-%d").alias(f.name))
        else:
            exprs.append(col)
    exprs += [pl.col("row_hash"), pl.lit(version, pl.Int64).alias("valid_from")]
    return table.select(exprs)


def insert_columns(entity: str) -> list[str]:
    return ["district_id", *ENTITIES[entity].field_names, "row_hash", "valid_from"]


def insert_rows(
    dbapi_conn: Any,
    entity: str,
    rows: pl.DataFrame,
    *,
    table: str,
    batch_size: int,
    after_batch: Callable[[], None],
) -> None:
    """PostgreSQL: COPY encoded rows into ``table``; ``after_batch`` runs between batches
    (fault injection). SQLite inserts what ``_staging`` built instead."""
    # psycopg is the postgres extra: imported here, so a SQLite-only install works.
    from psycopg.copy import QueuedLibpqWriter

    cols = ", ".join(q(c) for c in insert_columns(entity))
    sql = f"COPY {q(table)} ({cols}) FROM STDIN (FORMAT csv)"
    cursor = dbapi_conn.cursor()
    try:
        # One COPY for all batches; a writer thread sends each batch while Polars formats
        # the next, so the client's CSV work overlaps the server's parsing. Polars quotes
        # empty strings, so an unquoted empty field is a NULL exactly as COPY reads it.
        with cursor.copy(sql, writer=QueuedLibpqWriter(cursor)) as copy:
            for offset in range(0, rows.height, batch_size):
                buffer = io.BytesIO()
                rows.slice(offset, batch_size).write_csv(
                    buffer, include_header=False, quote_style="necessary"
                )
                copy.write(buffer.getbuffer())
                after_batch()
    finally:
        cursor.close()


def close_rows(
    dbapi_conn: Any,
    dialect: str,
    *,
    table: str,
    district_id: int,
    version: int,
    ids: pl.Series,
    batch_size: int,
    after_batch: Callable[[], None],
    deleted_at: datetime | None = None,
) -> None:
    """Close the current rows of ``ids`` (``valid_to = version``), in batches; ``deleted_at``
    (the publish time) marks them as closed because their records were deleted.

    PostgreSQL gets one ``= ANY(array)`` UPDATE per batch (primary-key lookups inside the
    server): a per-row ``executemany`` costs a statement round trip per ID, which made closing
    the ~60,000 rows of a 1 % change of a mega district take seconds. SQLite runs in-process,
    where ``executemany`` of a prepared statement is already cheap.
    """
    table, sid = q(table), q("sourcedId")
    stamp: Any = deleted_at
    if deleted_at is not None and dialect == "sqlite":  # stored as SQLAlchemy stores DateTime
        stamp = deleted_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    cursor = dbapi_conn.cursor()
    try:
        for offset in range(0, ids.len(), batch_size):
            chunk = ids.slice(offset, batch_size).to_list()
            if dialect == "sqlite":
                cursor.executemany(
                    f"UPDATE {table} SET valid_to = ?, deleted_at = ? WHERE district_id = ? "
                    f"AND {sid} = ? AND valid_to IS NULL",
                    [(version, stamp, district_id, value) for value in chunk],
                )
            else:
                cursor.execute(
                    f"UPDATE {table} SET valid_to = %s, deleted_at = %s WHERE district_id = %s "
                    f"AND {sid} = ANY(%s) AND valid_to IS NULL",
                    (version, stamp, district_id, chunk),
                )
            after_batch()
    finally:
        cursor.close()


def retag_rows(
    dbapi_conn: Any,
    dialect: str,
    *,
    table: str,
    district_id: int,
    hashes: pl.DataFrame,
    batch_size: int,
    after_batch: Callable[[], None],
) -> None:
    """Set the ``row_hash`` of current rows to ``hashes`` (``sourcedId, row_hash``), in batches:
    the first publish after a Polars release that hashes differently re-tags every unchanged
    row of the district.

    PostgreSQL gets one UPDATE per batch joined to the batch's two arrays (``unnest``), as
    ``close_rows`` does, instead of a statement per row. The server's own work dominates
    either way: every updated row is a new tuple with an entry in each index (bulk-loaded
    pages leave no room for HOT updates), about 35,000 rows/s, so the first publish after such
    an upgrade takes minutes for a mega district. SQLite runs in-process, where
    ``executemany`` of a prepared statement is already cheap (a 700,000-row re-tag publish
    took 4–5 s, against PostgreSQL's 23 s).
    """
    table, sid = q(table), q("sourcedId")
    cursor = dbapi_conn.cursor()
    try:
        for offset in range(0, hashes.height, batch_size):
            chunk = hashes.slice(offset, batch_size)
            if dialect == "sqlite":
                cursor.executemany(
                    f"UPDATE {table} SET row_hash = ? WHERE district_id = ? AND {sid} = ? "
                    "AND valid_to IS NULL",
                    chunk.select(
                        "row_hash", pl.lit(district_id).alias("district_id"), "sourcedId"
                    ).iter_rows(),
                )
            else:
                cursor.execute(
                    f"UPDATE {table} AS t SET row_hash = v.row_hash "
                    "FROM unnest(%s::text[], %s::bigint[]) AS v(sourced_id, row_hash) "
                    f"WHERE t.district_id = %s AND t.{sid} = v.sourced_id AND t.valid_to IS NULL",
                    (chunk["sourcedId"].to_list(), chunk["row_hash"].to_list(), district_id),
                )
            after_batch()
    finally:
        cursor.close()


def version_filter(district_id: int, version: int | None) -> str:
    """WHERE clause selecting a district's rows of ``version`` (None: the current rows).

    The integers are inlined (after ``int()``) because PostgreSQL's COPY takes no parameters.
    """
    where = f"district_id = {int(district_id)} AND "
    if version is None:
        return where + "valid_to IS NULL"
    v = int(version)
    return where + f"valid_from <= {v} AND (valid_to IS NULL OR valid_to > {v})"


def _storage_dtype(dtype: pl.DataType) -> pl.DataType:
    return pl.Int64() if dtype == pl.Boolean else pl.Utf8()


def _select_pg(name: str, dtype: pl.DataType) -> str:
    """A roster column as PostgreSQL's COPY writes it in the storage form SQLite keeps."""
    if isinstance(dtype, pl.Datetime):
        return f"to_char({q(name)} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
    if dtype == pl.Date:
        return f"to_char({q(name)}, 'YYYY-MM-DD')"
    if dtype == pl.Boolean:
        return f"{q(name)}::int"
    return q(name)


def _decode(entity: str, frame: pl.DataFrame) -> pl.DataFrame:
    exprs: list[pl.Expr] = []
    for f in ENTITIES[entity].fields:
        col = pl.col(f.name)
        if isinstance(f.dtype, pl.List):
            exprs.append(col.str.json_decode(f.dtype))
        elif isinstance(f.dtype, pl.Datetime):
            exprs.append(col.str.to_datetime(_TS_FORMAT_IN, time_unit="us", time_zone="UTC"))
        elif f.dtype == pl.Date:
            exprs.append(col.str.to_date("%Y-%m-%d"))
        elif f.dtype == pl.Boolean:
            exprs.append(col.cast(pl.Boolean))
        else:
            exprs.append(col)
    # Sorted here, not in SQL, so the order never depends on the database's collation.
    return conform(entity, frame.with_columns(exprs)).sort("sourcedId")


def _fetch_pg(dbapi_conn: Any, sql: str, schema: pl.Schema) -> pl.DataFrame:
    """PostgreSQL: run a SELECT through COPY and return its rows as a frame of ``schema``
    (storage types)."""
    cursor = dbapi_conn.cursor()
    try:
        buffer = io.BytesIO()
        with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
        if buffer.tell() == 0:
            return pl.DataFrame(schema=schema)
        buffer.seek(0)
        return pl.read_csv(
            buffer,
            has_header=False,
            new_columns=list(schema.names()),
            schema=schema,
            # PostgreSQL writes NULL unquoted and '' quoted; only the former becomes null.
            empty_string_is_null=True,
        )
    finally:
        cursor.close()


def read_rows(
    dbapi_conn: Any, dialect: str, entity: str, district_id: int, version: int | None
) -> pl.DataFrame:
    """One entity's table as of ``version`` (None: current), conformed to the canonical schema."""
    fields = ENTITIES[entity].fields
    schema = pl.Schema({f.name: _storage_dtype(f.dtype) for f in fields})
    if dialect == "sqlite":
        return _decode(entity, _read_rows_sqlite(dbapi_conn, entity, district_id, version, schema))
    select = ", ".join(f"{_select_pg(f.name, f.dtype)} AS {q(f.name)}" for f in fields)
    sql = (
        f"SELECT {select} FROM {q(roster_table_name(entity))} "
        f"WHERE {version_filter(district_id, version)}"
    )
    return _decode(entity, _fetch_pg(dbapi_conn, sql, schema))


#: Rowids of a SQLite roster table read per query by ``_read_rows_sqlite`` (a query's JSON
#: text is about twice the rows' size: some 75 MB at 250,000 enrollments).
_ROWS_CHUNK_ROWS = 250_000


def _read_rows_sqlite(
    dbapi_conn: Any, entity: str, district_id: int, version: int | None, schema: pl.Schema
) -> pl.DataFrame:
    """A version's rows of a SQLite roster table (storage types).

    Python's ``sqlite3`` hands rows over as tuples of Python objects, and building a frame
    from them cost about 5 µs a row: 34–41 s for the 7M rows of ``bench/store.py``. Read as
    JSON arrays (``_scan_sqlite``) they take 19–20 s.
    """
    return _scan_sqlite(dbapi_conn, entity, district_id, version, schema, _ROWS_CHUNK_ROWS)


def _scan_sqlite(
    dbapi_conn: Any,
    entity: str,
    district_id: int,
    version: int | None,
    schema: pl.Schema,
    chunk_rows: int,
) -> pl.DataFrame:
    """The ``schema`` columns of a district's version in a SQLite roster table.

    Each query aggregates a range of ``chunk_rows`` rowids into one JSON array per column
    (SQLite escapes every value, whatever it holds; all arrays follow the same row order),
    which Polars parses in Rust. ``NOT INDEXED`` keeps it a scan in rowid order: left to
    itself, SQLite answered ``district_id = ? AND valid_to IS NULL`` through a partial lookup
    index and fetched every row by rowid, 9.8 s instead of 2.5 s for a mega district's 6M
    enrollments' hashes. The ranges cover the whole table, other districts' rows included: a
    SQLite store usually holds one.
    """
    table = q(roster_table_name(entity))
    where = version_filter(district_id, version)
    arrays = ", ".join(f"json_group_array({q(name)})" for name in schema.names())
    parts: list[pl.DataFrame] = []
    cursor = dbapi_conn.cursor()
    try:
        low, high = cursor.execute(f"SELECT min(rowid), max(rowid) FROM {table}").fetchone()
        for start in range(low or 0, (high or -1) + 1, chunk_rows):
            texts = cursor.execute(
                f"SELECT {arrays} FROM {table} NOT INDEXED "
                f"WHERE rowid >= ? AND rowid < ? AND {where}",
                (start, start + chunk_rows),
            ).fetchone()
            if texts[0] == "[]":  # json_decode would make one null row of an empty array
                continue
            parts.append(
                pl.DataFrame(
                    [
                        pl.Series(name, [text]).str.json_decode(pl.List(dtype)).explode()
                        for (name, dtype), text in zip(schema.items(), texts, strict=True)
                    ]
                )
            )
    finally:
        cursor.close()
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def read_hashes(
    dbapi_conn: Any, dialect: str, entity: str, district_id: int, version: int | None
) -> pl.DataFrame:
    """``sourcedId, row_hash`` of one entity's rows as of ``version`` (None: current)."""
    if dialect == "postgresql":
        return _read_hashes_pg(dbapi_conn, entity, district_id, version)
    return _read_hashes_sqlite(dbapi_conn, entity, district_id, version)


#: Rowids of a SQLite roster table read per query by ``_read_hashes_sqlite``.
_HASH_CHUNK_ROWS = 1_000_000


def _read_hashes_sqlite(
    dbapi_conn: Any, entity: str, district_id: int, version: int | None
) -> pl.DataFrame:
    """The hashes a SQLite publish diffs against (``_scan_sqlite`` of two columns)."""
    return _scan_sqlite(dbapi_conn, entity, district_id, version, _HASH_SCHEMA, _HASH_CHUNK_ROWS)


def partition_state(dbapi_conn: Any, entity: str, district_id: int) -> str:
    """PostgreSQL: the district's partition of an entity is ``attached``, ``staged`` (built
    but never attached: a killed first publish's leftover, see ``_partitions``) or ``absent``."""
    with dbapi_conn.cursor() as cursor:
        cursor.execute(
            "SELECT relispartition FROM pg_class WHERE oid = to_regclass(%s)",
            (q(partition_name(entity, district_id)),),
        )
        row = cursor.fetchone()
    if row is None:
        return "absent"
    return "attached" if row[0] else "staged"


#: Heap pages of a partition read per query by ``_read_hashes_pg`` (128 MiB of table).
_HASH_CHUNK_PAGES = 16_384
_HASH_SCHEMA = pl.Schema({"sourcedId": pl.Utf8(), "row_hash": pl.Int64()})


def _read_hashes_pg(
    dbapi_conn: Any, entity: str, district_id: int, version: int | None
) -> pl.DataFrame:
    """The hashes a publish diffs against, read in a few large values instead of row by row.

    A ``COPY`` hands the client one message per row: for a mega district's 8 million rows the
    Python side of that loop cost seconds of every daily publish. Instead, each query
    aggregates the rows of a range of the partition's heap pages (a TID range scan: no sort,
    no index) into two values: the IDs as UTF-8 joined by NUL bytes (which PostgreSQL text
    cannot contain) and the hashes as comma-joined decimals, both in the same row order; Polars
    splits them column-wise.
    """
    partition = q(partition_name(entity, district_id))
    with dbapi_conn.cursor(binary=True) as cursor:
        # Only an attached partition holds published rows (an unattached one is a killed
        # first publish's leftover, see _partitions).
        if partition_state(dbapi_conn, entity, district_id) != "attached":
            return pl.DataFrame(schema=_HASH_SCHEMA)
        cursor.execute(
            "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::bigint",
            (partition,),
        )
        pages = int(cursor.fetchone()[0])
        ids: list[str] = []
        hashes: list[str] = []
        where = version_filter(district_id, version)
        for start in range(0, pages, _HASH_CHUNK_PAGES):
            end = start + _HASH_CHUNK_PAGES
            cursor.execute(
                f"SELECT string_agg(convert_to({q('sourcedId')}, 'UTF8'), '\\x00'::bytea), "
                f"string_agg(row_hash::text, ',') FROM {partition} "
                f"WHERE ctid >= '({start},0)'::tid AND ctid < '({end},0)'::tid AND {where}"
            )
            chunk_ids, chunk_hashes = cursor.fetchone()
            if chunk_ids is not None:
                ids.append(bytes(chunk_ids).decode())
                hashes.append(chunk_hashes)
    if not ids:
        return pl.DataFrame(schema=_HASH_SCHEMA)
    return pl.DataFrame(
        {
            "sourcedId": pl.Series(ids).str.split("\x00").explode(),
            "row_hash": pl.Series(hashes).str.split(",").explode().cast(pl.Int64),
        }
    )
