"""The published roster and its versions: publish (one transaction), read back, diff, restore.

A publish diffs the candidate roster against the current version column-wise (row hashes joined
on ``sourcedId``), then in ONE transaction claims the next version number, closes the replaced
and deleted rows (``valid_to = V``) and bulk-inserts the added and changed ones
(``valid_from = V``). If anything fails before the commit, nothing of version V exists and the
previous version keeps serving. History is never rewritten: a restore publishes an old version's
content as a new version.

Record timestamps: every row a publish writes (an added or changed record) gets the publish's
time as its ``dateLastModified``; unchanged records keep their row, hence their time. The row
hash leaves ``dateLastModified`` out (``_hashing``), so the stamp never counts as a change, and a
source that sends its own ``dateLastModified`` changes neither the hash nor the stamp (the
source's value is replaced: consumers filter on when *this* hub's copy changed). A restore is a
publish like any other: the records it brings back to an old version's content get the
*restore's* time, not the time they had in that version, so a consumer polling
``dateLastModified > T`` learns about the rollback. The rows a publish closes because their
records were deleted get ``deleted_at`` (the publish time): the OneRoster provider serves them
as ``tobedeleted`` for a retention period (``export/oneroster/query.py``).

On PostgreSQL, the entities a district has no rows of yet (its first publish) are built as
unattached partitions on connections of their own and attached by that same transaction (see
``_partitions``): still nothing of V is visible before the commit. On SQLite, the rows to
insert are first built into scratch files that the transaction attaches and copies from (see
``_staging``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from rostersync.clock import as_utc, utcnow
from rostersync.errors import FatalError, PublishConflict, SourceDataError, VersionNotFound
from rostersync.logs import get_logger
from rostersync.model import ENTITIES, TIMESTAMP, Roster, conform
from rostersync.store import _bulk, _partitions, _staging
from rostersync.store._hashing import hash_tag, row_hashes
from rostersync.store.engine import (
    SQLITE_AUTOCHECKPOINT_PAGES,
    SQLITE_CACHE_KIB,
    SQLITE_PUBLISH_CACHE_KIB,
    describe,
    translate_errors,
)
from rostersync.store.plans import PublishPlan
from rostersync.store.records import (
    EntityCounts,
    RosterVersion,
    VersionDiff,
    dumps,
    loads,
)
from rostersync.store.schema import partition_name, roster_table_name, roster_versions

#: Rows per executemany / COPY batch during a publish.
DEFAULT_BATCH_SIZE = 50_000
#: A publish refreshes PostgreSQL's statistics of a table when it changed at least this share
#: of the district's rows (autovacuum's default analyze threshold is 10 % of a table too).
ANALYZE_CHANGED_SHARE = 0.1
VERSION_STATUSES = ("published", "restored")

log = get_logger("store")


class _Unchecked:
    """Type of :data:`UNCHECKED`: publish without checking which version is current."""


#: Default of ``publish(expected_base=…)``: the caller does not pin the base version.
UNCHECKED = _Unchecked()


def _version_record(row: Any) -> RosterVersion:
    stored = loads(row.counts)
    counts = {name: EntityCounts(**stored[name]) for name in ENTITIES if name in stored}
    created = as_utc(row.created_at)
    assert created is not None
    return RosterVersion(
        district_id=row.district_id,
        version=row.version,
        created_at=created,
        run_id=row.run_id,
        note=row.note,
        status=row.status,
        counts=counts,
        hash_tag=row.hash_tag,
    )


def _prepare(roster: Roster) -> dict[str, pl.DataFrame]:
    """Conform every table, check its IDs, and add row hashes. Missing tables count as empty."""
    unknown = sorted(set(roster) - set(ENTITIES))
    if unknown:
        raise FatalError(f"Cannot publish: unknown roster tables {unknown}")
    prepared: dict[str, pl.DataFrame] = {}
    for name, entity in ENTITIES.items():
        table = roster.get(name)
        try:
            table = entity.empty() if table is None else conform(entity, table)
        except KeyError as exc:
            raise FatalError(f"Cannot publish: {exc.args[0]}") from exc
        missing = table["sourcedId"].null_count()
        if missing:
            raise SourceDataError(
                f"{name}: {missing} record(s) have no sourcedId",
                hint="every record needs an ID; check the attribute mapping of sourcedId",
            )
        # Sorted, a repeated ID sits next to its twin: cheaper than hashing millions of IDs
        # (``is_duplicated`` took 2 s of a mega publish, the sort 0.2 s).
        ids = table["sourcedId"].sort()
        repeats = ids.filter(ids == ids.shift(1))
        if repeats.len():
            raise SourceDataError(
                f"{name}: {repeats.n_unique()} sourcedId value(s) occur more than once, "
                f"e.g. {repeats[0]!r}",
                hint="each record must have a unique sourcedId; check uniqueness_domains "
                "and sis_prefix",
            )
        prepared[name] = table.with_columns(row_hashes(name, table))
    return prepared


def _diff(new: pl.DataFrame, old: pl.DataFrame) -> VersionDiff:
    """Columnar diff of two ``sourcedId, row_hash`` frames.

    Two anti-joins on the (sourcedId, row_hash) pair leave only the changed records on each
    side, so everything after them works on the ~1 % that changed instead of materializing a
    full outer join of millions of rows.
    """
    pair = ["sourcedId", "row_hash"]
    new_pairs, old_pairs = new.select(pair), old.select(pair)
    fresh = new_pairs.join(old_pairs, on=pair, how="anti")["sourcedId"]  # added or updated
    gone = old_pairs.join(new_pairs, on=pair, how="anti")["sourcedId"]  # deleted or updated
    in_both = fresh.is_in(gone.implode())
    return VersionDiff(
        added=fresh.filter(~in_both).sort(),
        updated=fresh.filter(in_both).sort(),
        deleted=gone.filter(~gone.is_in(fresh.implode())).sort(),
    )


@dataclass(frozen=True)
class _Plan:
    """What a publish writes, worked out before its transaction opens: per entity the candidate
    (conformed, with row hashes), the base version's hashes, the diff, its counts and the rows
    to insert (added and updated, sorted by sourcedId)."""

    tables: dict[str, pl.DataFrame]
    olds: dict[str, pl.DataFrame]
    diffs: dict[str, VersionDiff]
    counts: dict[str, EntityCounts]
    writes: dict[str, pl.DataFrame]


def _changes(
    table: pl.DataFrame, old: pl.DataFrame, published_at: datetime
) -> tuple[VersionDiff, pl.DataFrame]:
    """The diff of a candidate table against the base version's hashes, and the rows to
    insert (the added and updated records, sorted by sourcedId, stamped ``published_at``)."""
    stamp = pl.lit(published_at, dtype=TIMESTAMP).alias("dateLastModified")
    if old.is_empty():  # a first publish: every record is added, and sorting once is enough
        rows = table.sort("sourcedId").with_columns(stamp)
        ids = rows["sourcedId"]
        return VersionDiff(added=ids, updated=ids.clear(), deleted=ids.clear()), rows
    diff = _diff(table, old)
    writing = pl.concat([diff.added, diff.updated])
    rows = table.filter(pl.col("sourcedId").is_in(writing.implode())).sort("sourcedId")
    return diff, rows.with_columns(stamp)


def _planned(
    tables: dict[str, pl.DataFrame], plan: PublishPlan, published_at: datetime
) -> dict[str, tuple[VersionDiff, pl.DataFrame]] | None:
    """The diffs and rows to insert a caller's plan names, or None when the plan does not fit
    the candidate (then the publish diffs by itself)."""
    out: dict[str, tuple[VersionDiff, pl.DataFrame]] = {}
    stamp = pl.lit(published_at, dtype=TIMESTAMP).alias("dateLastModified")
    for name, table in tables.items():
        planned = plan.entities.get(name)
        if planned is None:
            return None
        added, updated, deleted = (
            ids.cast(pl.Utf8).rename("sourcedId").sort()
            for ids in (planned.added, planned.updated, planned.deleted)
        )
        writing = pl.concat([added, updated])
        rows = table.filter(pl.col("sourcedId").is_in(writing.implode())).sort("sourcedId")
        if rows.height != writing.len() or deleted.is_in(table["sourcedId"].implode()).any():
            return None
        out[name] = (
            VersionDiff(added=added, updated=updated, deleted=deleted),
            rows.with_columns(stamp),
        )
    return out


def _unchanged(new: pl.DataFrame, old: pl.DataFrame) -> pl.DataFrame:
    """``sourcedId, row_hash`` of the records whose hash is the same on both sides."""
    pair = ["sourcedId", "row_hash"]
    return new.select(pair).join(old.select(pair), on=pair, how="semi")


@dataclass(frozen=True)
class _Txn:
    """What every write of one publish transaction shares."""

    dbapi: Any
    dialect: str
    district_id: int
    version: int
    batch_size: int
    after_batch: Callable[[], None]
    published_at: datetime


def _write_entity(
    txn: _Txn, name: str, plan: _Plan, scratch: _staging.Scratch | None, *, rehash: bool
) -> None:
    """One entity's part of the publish: close its replaced and deleted rows, insert its added
    and updated ones (copied from ``scratch`` on SQLite), and, when the base version was hashed
    by another Polars release (``rehash``), re-tag the unchanged rows with this one's hashes."""
    diff = plan.diffs[name]
    target = (
        partition_name(name, txn.district_id)
        if txn.dialect == "postgresql"
        else roster_table_name(name)
    )
    for closing, deleted_at in ((diff.updated, None), (diff.deleted, txn.published_at)):
        if closing.len():
            _bulk.close_rows(
                txn.dbapi,
                txn.dialect,
                table=target,
                district_id=txn.district_id,
                version=txn.version,
                ids=closing,
                batch_size=txn.batch_size,
                after_batch=txn.after_batch,
                deleted_at=deleted_at,
            )
    rows = plan.writes[name]
    if scratch is not None:
        _staging.copy(txn.dbapi, scratch, batch_size=txn.batch_size, after_batch=txn.after_batch)
    elif rows.height:  # PostgreSQL, into the district's attached partition
        encoded = _bulk.encode(
            name, rows, dialect=txn.dialect, district_id=txn.district_id, version=txn.version
        )
        _bulk.insert_rows(
            txn.dbapi,
            name,
            encoded,
            table=target,
            batch_size=txn.batch_size,
            after_batch=txn.after_batch,
        )
    unchanged = _unchanged(plan.tables[name], plan.olds[name]) if rehash else None
    if unchanged is not None and unchanged.height:
        # Keep the invariant "current rows carry the current version's tag".
        _bulk.retag_rows(
            txn.dbapi,
            txn.dialect,
            table=target,
            district_id=txn.district_id,
            hashes=unchanged,
            batch_size=txn.batch_size,
            after_batch=txn.after_batch,
        )


class RosterVersions:
    """Versioned roster operations of :class:`~rostersync.store.Store` (a mixin)."""

    engine: Engine

    @contextmanager
    def _raw(
        self, *, write: bool, attach: tuple[_staging.Scratch, ...] = ()
    ) -> Iterator[tuple[sa.Connection, Any]]:
        """A connection (in a transaction when writing) and its DBAPI connection.

        ``attach`` (SQLite): scratch files attached for the transaction (SQLite attaches only
        outside a transaction).
        """
        with translate_errors(self.engine), self.engine.connect() as conn:
            dbapi: Any = conn.connection.driver_connection
            if not write:
                yield conn, dbapi
                return
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:  # only for this write; set outside the transaction, reset after it
                dbapi.execute(f"PRAGMA cache_size = -{SQLITE_PUBLISH_CACHE_KIB}")
                # The commit does not checkpoint: publish() does, once the scratch files are gone.
                dbapi.execute("PRAGMA wal_autocheckpoint = 0")
            attached: list[str] = []
            try:
                for scratch in attach:
                    dbapi.execute(f"ATTACH DATABASE ? AS {scratch.schema}", (scratch.path,))
                    attached.append(scratch.schema)
                with conn.begin():
                    yield conn, dbapi
            finally:
                for schema in attached:
                    dbapi.execute(f"DETACH DATABASE {schema}")
                if sqlite:
                    dbapi.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
                    dbapi.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_AUTOCHECKPOINT_PAGES}")

    # -- versions ---------------------------------------------------------------------------

    def current_version(self, district_id: int) -> int | None:
        """The newest published version of a district's roster, or None before the first."""
        stmt = sa.select(sa.func.max(roster_versions.c.version)).where(
            roster_versions.c.district_id == district_id
        )
        with translate_errors(self.engine), self.engine.connect() as conn:
            value = conn.execute(stmt).scalar()
        return int(value) if value is not None else None

    def list_versions(
        self, district_id: int, *, limit: int | None = None, before: int | None = None
    ) -> list[RosterVersion]:
        """Versions of a district's roster, newest first: every one, or a page of ``limit``
        versions numbered below ``before``."""
        stmt = (
            sa.select(roster_versions)
            .where(roster_versions.c.district_id == district_id)
            .order_by(roster_versions.c.version.desc())
        )
        if before is not None:
            stmt = stmt.where(roster_versions.c.version < before)
        if limit is not None:
            stmt = stmt.limit(limit)
        with translate_errors(self.engine), self.engine.connect() as conn:
            return [_version_record(row) for row in conn.execute(stmt)]

    def get_version(self, district_id: int, version: int | None = None) -> RosterVersion:
        """One version (None: the current one); VersionNotFound if it does not exist."""
        number = self.current_version(district_id) if version is None else version
        if number is None:
            raise VersionNotFound(
                "This district has no published roster yet",
                hint="run a sync first (`rostersync sync run --config …`)",
            )
        stmt = sa.select(roster_versions).where(
            roster_versions.c.district_id == district_id, roster_versions.c.version == number
        )
        with translate_errors(self.engine), self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            raise VersionNotFound(
                f"Roster version {number} does not exist",
                hint="see `rostersync versions list --district …`",
            )
        return _version_record(row)

    # -- reading ----------------------------------------------------------------------------

    def read_version(
        self, district_id: int, version: int | None = None, *, entities: Sequence[str] = ()
    ) -> Roster:
        """A whole version (None: current), each table in its canonical schema, by sourcedId;
        only the tables named in ``entities`` when it is given."""
        number = self.get_version(district_id, version).version
        unknown = sorted(set(entities) - set(ENTITIES))
        if unknown:
            raise FatalError(f"Unknown roster table {', '.join(unknown)}")
        with self._raw(write=False) as (conn, dbapi):
            dialect = conn.dialect.name
            return {
                name: _bulk.read_rows(dbapi, dialect, name, district_id, number)
                for name in (entities or ENTITIES)
            }

    def read_current_hashes(self, district_id: int, entity: str) -> pl.DataFrame:
        """``sourcedId, row_hash`` of an entity's current rows, hashed the way this process
        hashes (re-hashed when the stored hashes were made by another Polars release)."""
        if entity not in ENTITIES:
            raise FatalError(f"Unknown roster table {entity!r}")
        current = self.current_version(district_id)
        if current is None:
            return pl.DataFrame(schema={"sourcedId": pl.Utf8, "row_hash": pl.Int64})
        tag = self.get_version(district_id, current).hash_tag
        with self._raw(write=False) as (conn, dbapi):
            return self._hashes(dbapi, conn.dialect.name, entity, district_id, current, tag)

    @staticmethod
    def _hashes(
        dbapi: Any, dialect: str, entity: str, district_id: int, version: int, tag: str
    ) -> pl.DataFrame:
        if tag == hash_tag():
            return _bulk.read_hashes(dbapi, dialect, entity, district_id, version)
        # Slow path: the stored hashes came from another Polars release and cannot be compared.
        rows = _bulk.read_rows(dbapi, dialect, entity, district_id, version)
        return rows.select("sourcedId", row_hashes(entity, rows))

    def _base_hashes(
        self, district_id: int, base: int | None, base_tag: str
    ) -> tuple[str, dict[str, pl.DataFrame]]:
        """The dialect, and ``sourcedId, row_hash`` of every entity as of ``base``."""
        with self._raw(write=False) as (conn, dbapi):
            dialect = conn.dialect.name
            if base is None:
                empty = pl.DataFrame(schema={"sourcedId": pl.Utf8, "row_hash": pl.Int64})
                return dialect, dict.fromkeys(ENTITIES, empty)
            return dialect, {
                name: self._hashes(dbapi, dialect, name, district_id, base, base_tag)
                for name in ENTITIES
            }

    # -- diff ---------------------------------------------------------------------------------

    def diff_versions(self, district_id: int, a: int, b: int) -> dict[str, VersionDiff]:
        """What changed from version ``a`` to version ``b``, per entity."""
        self.get_version(district_id, a)
        self.get_version(district_id, b)
        tags = {v.hash_tag for v in self.list_versions(district_id)}
        # Stored hashes are comparable only if every version's rows were hashed alike.
        tag = hash_tag() if tags == {hash_tag()} else ""
        with self._raw(write=False) as (conn, dbapi):
            dialect = conn.dialect.name
            out: dict[str, VersionDiff] = {}
            for name in ENTITIES:
                old = self._hashes(dbapi, dialect, name, district_id, a, tag)
                new = self._hashes(dbapi, dialect, name, district_id, b, tag)
                out[name] = _diff(new, old)
        return out

    # -- writing ------------------------------------------------------------------------------

    def publish(
        self,
        district_id: int,
        roster: Roster,
        *,
        run_id: int | None = None,
        note: str | None = None,
        status: str = "published",
        batch_size: int = DEFAULT_BATCH_SIZE,
        expected_base: int | _Unchecked | None = UNCHECKED,
        plan: PublishPlan | None = None,
        _fail_after_batches: int | None = None,
    ) -> RosterVersion:
        """Publish ``roster`` as the district's next version, atomically.

        ``expected_base`` is the version the caller computed ``roster`` from (``None``: no
        version yet). When given, the publish is refused with ``PublishConflict`` if another
        version became current since, instead of silently undoing that version's changes; the
        version-number claim below closes the window between this check and the write.

        ``plan`` (see :mod:`rostersync.store.plans`): the per-entity changes the caller already
        computed against the current version; the publish then writes them without reading the
        base version's hashes or diffing again.

        ``_fail_after_batches`` is a test hook: raise after that many write batches, proving a
        publish that dies half-way leaves the previous version intact.
        """
        if status not in VERSION_STATUSES:
            raise FatalError(f"Unknown roster version status {status!r}")
        tag = hash_tag()
        base = self.current_version(district_id)
        if not isinstance(expected_base, _Unchecked) and base != expected_base:
            raise PublishConflict(
                f"District {district_id}: roster version {base} was published after version "
                f"{expected_base}, which this roster was built from",
                hint="nothing was published; run the sync again to build on the newest version",
            )
        base_tag = self.get_version(district_id, base).hash_tag if base is not None else tag
        version = (base or 0) + 1
        # The version's created_at and every stamp it writes (dateLastModified, deleted_at),
        # in whole milliseconds: OneRoster shows timestamps to the millisecond, and a consumer
        # filtering on dateLastModified > (a time it was shown) must not get the same records
        # back because the stored stamp had microseconds beyond it.
        now = utcnow()
        published_at = now.replace(microsecond=now.microsecond // 1000 * 1000)
        batches = 0

        def after_batch() -> None:
            nonlocal batches
            batches += 1
            if _fail_after_batches is not None and batches >= _fail_after_batches:
                raise FatalError(f"publish interrupted after {batches} batch(es) (test hook)")

        planned = None
        if plan is not None and plan.base_version == base and base_tag == tag:
            tables = _prepare(roster)
            planned = _planned(tables, plan, published_at)
            if planned is None:
                log.warning("publish_plan_ignored", district_id=district_id, base=base)
        if planned is not None:
            dialect = self.engine.dialect.name
            empty = pl.DataFrame(schema={"sourcedId": pl.Utf8, "row_hash": pl.Int64})
            olds = dict.fromkeys(ENTITIES, empty)  # only read to re-tag, which a plan rules out
            changes = planned
        else:
            # The base version's hashes stream in from the database while the candidate is
            # conformed, checked and hashed here (both wait outside the GIL most of the time).
            with ThreadPoolExecutor(max_workers=1) as pool:
                reading = pool.submit(self._base_hashes, district_id, base, base_tag)
                try:
                    tables = _prepare(roster)
                except BaseException:
                    reading.cancel()
                    raise
                dialect, olds = reading.result()
            changes = {name: _changes(tables[name], olds[name], published_at) for name in ENTITIES}
        work = _Plan(
            tables=tables,
            olds=olds,
            diffs={name: diff for name, (diff, _rows) in changes.items()},
            counts={
                name: diff.counts(total=tables[name].height)
                for name, (diff, _rows) in changes.items()
            },
            writes={name: rows for name, (_diff, rows) in changes.items()},
        )
        del changes
        with ExitStack() as cleanup:
            scratches: dict[str, _staging.Scratch] = {}
            if dialect == "sqlite":
                scratch_dir = cleanup.enter_context(_staging.directory())
                scratches = self._stage(scratch_dir, district_id, version, work)
            published = self._write(
                district_id,
                version,
                work,
                scratches,
                run_id=run_id,
                note=note,
                status=status,
                base_tag=base_tag,
                batch_size=batch_size,
                after_batch=after_batch,
                published_at=published_at,
            )
        if dialect == "sqlite":
            self._checkpoint()
        return published

    def _checkpoint(self) -> None:
        """SQLite: copy the pages the publish committed to the WAL into the database file.

        SQLite would do it inside the commit (past 1,000 pages in the WAL). The scratch files
        still existed then, their pages (as many again) unwritten in the OS page cache, and a
        mega first publish's checkpoint took 6–8 s on the 2-core reference machine; once they
        are deleted it takes about 2 s (the same pages, written after the kernel dropped the
        scratch ones). ``PASSIVE``: it never waits for a reader, and copies what no reader's
        snapshot still needs; later checkpoints copy the rest. The version is committed either
        way, so a checkpoint that fails (a full disk) is logged, not raised.
        """
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except DBAPIError as exc:
            log.warning("checkpoint_failed", store=describe(self.engine), error=str(exc.orig))

    def _stage(
        self, directory: Path, district_id: int, version: int, plan: _Plan
    ) -> dict[str, _staging.Scratch]:
        """SQLite: build the rows to insert into scratch files (see ``_staging``); entities
        whose roster table is still empty are built whole, indexes included."""
        writes = {name: rows for name, rows in plan.writes.items() if rows.height}
        with self._raw(write=False) as (_conn, dbapi):
            wholes = _staging.wholes(dbapi, list(writes))
        frames = {
            name: _bulk.encode(
                name, rows, dialect="sqlite", district_id=district_id, version=version
            )
            for name, rows in writes.items()
        }
        try:
            return _staging.build(directory, frames, wholes)
        except (OSError, _staging.StagingError) as exc:
            raise _staging.error(exc) from exc

    def _write(
        self,
        district_id: int,
        version: int,
        plan: _Plan,
        scratches: dict[str, _staging.Scratch],
        *,
        run_id: int | None,
        note: str | None,
        status: str,
        base_tag: str,
        batch_size: int,
        after_batch: Callable[[], None],
        published_at: datetime,
    ) -> RosterVersion:
        """The publish transaction: claim ``version``, close rows, insert rows, commit."""
        tag = hash_tag()
        dialect = self.engine.dialect.name
        fresh: list[str] = []
        try:
            with self._raw(write=True, attach=tuple(scratches.values())) as (conn, dbapi):
                # Claim the version number first: a concurrent publish of the same number
                # fails here, before any roster row is written.
                conn.execute(
                    roster_versions.insert().values(
                        district_id=district_id,
                        version=version,
                        created_at=published_at,
                        run_id=run_id,
                        note=note,
                        status=status,
                        counts=dumps({n: c.as_dict() for n, c in plan.counts.items()}),
                        hash_tag=tag,
                    )
                )
                txn = _Txn(
                    dbapi, dialect, district_id, version, batch_size, after_batch, published_at
                )
                if dialect == "postgresql":
                    fresh = [
                        name
                        for name in plan.tables
                        if _bulk.partition_state(dbapi, name, district_id) != "attached"
                    ]
                    self._load_partitions(txn, plan, fresh)
                for name in plan.tables:
                    if name not in fresh:
                        _write_entity(txn, name, plan, scratches.get(name), rehash=base_tag != tag)
        except BaseException as exc:
            if fresh:  # built aside but never attached: nothing may be left behind
                _partitions.discard(self.engine, district_id, fresh)
            if not isinstance(exc, IntegrityError):
                raise
            raise PublishConflict(
                f"Roster version {version} was published by another run meanwhile",
                hint="run the sync again to diff against the new version",
            ) from exc
        if dialect == "postgresql":
            # A mass change shifts the statistics the provider's joins are planned with; a daily
            # ~1 % change does not, and analyzing a multi-million-row table after it cost
            # seconds of every publish. Freshly loaded partitions were analyzed in the load.
            self._analyze(
                district_id,
                [
                    name
                    for name, c in plan.counts.items()
                    if name not in fresh
                    and c.changed
                    and c.changed >= ANALYZE_CHANGED_SHARE * max(c.total, c.deleted)
                ],
            )
        return self.get_version(district_id, version)

    def _load_partitions(self, txn: _Txn, plan: _Plan, fresh: list[str]) -> None:
        """PostgreSQL: the district has no rows of the ``fresh`` entities yet; build their
        partitions aside on connections of their own, then attach them in ``txn``."""
        if not fresh:
            return
        loads = [
            _partitions.FreshLoad(
                name,
                plan.writes[name],
                partial(
                    _bulk.encode,
                    name,
                    dialect=txn.dialect,
                    district_id=txn.district_id,
                    version=txn.version,
                ),
            )
            for name in fresh
        ]
        _partitions.stage(
            self.engine,
            txn.district_id,
            loads,
            batch_size=txn.batch_size,
            after_batch=txn.after_batch,
        )
        del loads
        for name in fresh:
            _partitions.attach(txn.dbapi, name, txn.district_id)

    def _analyze(self, district_id: int, entities: list[str]) -> None:
        """Refresh PostgreSQL's planner statistics of the district partitions a publish changed.

        Without it, queries planned after a mass change (the OneRoster provider's joins of
        enrollments and users) can pick nested loops over whole tables and run for minutes.
        """
        if not entities:
            return
        with translate_errors(self.engine), self.engine.connect() as conn:
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            for name in entities:
                _partitions.analyze(auto, name, district_id)

    def restore(self, district_id: int, version: int, *, note: str | None = None) -> RosterVersion:
        """Publish the content of an old version as a NEW version (status ``restored``)."""
        roster = self.read_version(district_id, version)
        return self.publish(
            district_id, roster, note=note or f"restore of version {version}", status="restored"
        )
