"""Re-linking and manual match, kept: the identity decisions a sync applies and records.

The ``record_links`` table holds, per district, which records are one (see
:mod:`rostersync.pipeline.matches` for what each kind does). A sync reads the decisions in
force before its pipeline, hands the pipeline the last published roster to re-link against
(:class:`PublishedVersion`, read lazily), and keeps the re-links it found once its candidate is
published or held. An admin adds and reverses decisions through
:mod:`rostersync.manage.matches`; a reversed decision keeps its row, ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from rostersync.clock import utcnow
from rostersync.errors import FatalError
from rostersync.pipeline import DECISIONS_SCHEMA, KINDS
from rostersync.store import Store
from rostersync.store.schema import record_links


@dataclass(frozen=True)
class LinkRecord:
    """One kept decision."""

    id: int
    district_id: int
    entity: str
    from_id: str
    to_id: str
    kind: str
    confidence: float | None
    detail: str | None
    run_id: int | None
    created_by: str
    created_at: datetime
    ended_at: datetime | None = None
    ended_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "entity": self.entity,
            "from_id": self.from_id,
            "to_id": self.to_id,
            "kind": self.kind,
            "confidence": self.confidence,
            "detail": self.detail,
            "run_id": self.run_id,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "ended_by": self.ended_by,
        }


def _record(row: Any) -> LinkRecord:
    return LinkRecord(
        id=row.id,
        district_id=row.district_id,
        entity=row.entity,
        from_id=row.from_id,
        to_id=row.to_id,
        kind=row.kind,
        confidence=row.confidence,
        detail=row.detail,
        run_id=row.run_id,
        created_by=row.created_by,
        created_at=row.created_at,
        ended_at=row.ended_at,
        ended_by=row.ended_by,
    )


def list_links(
    store: Store,
    district_id: int,
    *,
    entity: str | None = None,
    kind: str | None = None,
    record: str | None = None,
    ended: bool = False,
    limit: int | None = None,
) -> list[LinkRecord]:
    """Decisions of a district, newest first: in force (or also the reversed ones when
    ``ended``), of one entity, kind, or touching one record's ID."""
    t = record_links
    stmt = sa.select(t).where(t.c.district_id == district_id)
    if not ended:
        stmt = stmt.where(t.c.ended_at.is_(None))
    if entity is not None:
        stmt = stmt.where(t.c.entity == entity)
    if kind is not None:
        stmt = stmt.where(t.c.kind == kind)
    if record is not None:
        stmt = stmt.where(sa.or_(t.c.from_id == record, t.c.to_id == record))
    stmt = stmt.order_by(t.c.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    with store.engine.connect() as conn:
        return [_record(row) for row in conn.execute(stmt)]


def read_decisions(store: Store, district_id: int) -> pl.DataFrame:
    """The decisions in force, as the pipeline takes them (oldest first)."""
    t = record_links
    stmt = (
        sa.select(t.c.entity, t.c.from_id, t.c.to_id, t.c.kind)
        .where(t.c.district_id == district_id, t.c.ended_at.is_(None))
        .order_by(t.c.id)
    )
    with store.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(stmt)]
    return pl.DataFrame(rows, schema=DECISIONS_SCHEMA, orient="row")


def add_link(
    conn: sa.Connection,
    district_id: int,
    *,
    entity: str,
    from_id: str,
    to_id: str,
    kind: str,
    created_by: str,
    confidence: float | None = None,
    detail: str | None = None,
    run_id: int | None = None,
) -> int:
    """Insert one decision in the caller's transaction; returns its id."""
    if kind not in KINDS:
        raise FatalError(f"unknown decision kind {kind!r}")
    result = conn.execute(
        record_links.insert().values(
            district_id=district_id,
            entity=entity,
            from_id=from_id,
            to_id=to_id,
            kind=kind,
            confidence=confidence,
            detail=detail,
            run_id=run_id,
            created_by=created_by,
            created_at=utcnow(),
        )
    )
    key = result.inserted_primary_key
    return int(key[0]) if key else 0


def end_link(conn: sa.Connection, link_id: int, ended_by: str) -> None:
    """Reverse one decision in the caller's transaction (its row stays, ended)."""
    conn.execute(
        record_links.update()
        .where(record_links.c.id == link_id, record_links.c.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_by=ended_by)
    )


def keep_relinks(store: Store, district_id: int, run_id: int, links: pl.DataFrame) -> int:
    """Record the re-links a run found (those not already in force); returns how many."""
    if links.height == 0:
        return 0
    current = read_decisions(store, district_id)
    fresh = links.join(
        current.select("entity", "from_id"), on=["entity", "from_id"], how="anti"
    ).unique(["entity", "from_id"], keep="first", maintain_order=True)
    now = utcnow()
    rows = fresh.select(
        pl.lit(district_id).alias("district_id"),
        "entity",
        "from_id",
        "to_id",
        pl.lit("relink").alias("kind"),
        "confidence",
        "detail",
        pl.lit(run_id).alias("run_id"),
        pl.lit(f"run {run_id}").alias("created_by"),
    ).to_dicts()
    with store.engine.begin() as conn:
        conn.execute(record_links.insert(), [{**r, "created_at": now} for r in rows])
    return fresh.height


@dataclass
class PublishedVersion:
    """The district's roster as of one published version, read table by table when asked
    (the IDs alone first: most syncs need no more)."""

    store: Store
    district_id: int
    version: int
    _ids: dict[str, pl.Series] = field(default_factory=dict)
    _tables: dict[str, pl.DataFrame] = field(default_factory=dict)

    @classmethod
    def current(cls, store: Store, district_id: int) -> PublishedVersion | None:
        """The current version, or None before the first publish."""
        version = store.current_version(district_id)
        return None if version is None else cls(store, district_id, version)

    def ids(self, entity: str) -> pl.Series:
        if entity in self._tables:
            return self._tables[entity]["sourcedId"]
        if entity not in self._ids:
            if self.store.current_version(self.district_id) == self.version:
                found = self.store.read_current_hashes(self.district_id, entity)
                self._ids[entity] = found["sourcedId"]
            else:
                return self.table(entity)["sourcedId"]
        return self._ids[entity]

    def table(self, entity: str) -> pl.DataFrame:
        if entity not in self._tables:
            read = self.store.read_version(self.district_id, self.version, entities=[entity])
            self._tables[entity] = read[entity]
        return self._tables[entity]
