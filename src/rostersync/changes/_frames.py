"""Saving and loading a run's change set (Parquet per entity and part) and hold overrides."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import polars as pl
import sqlalchemy as sa

from rostersync.changes.diff import ChangeSet, EntityChanges, base_counts
from rostersync.changes.tables import change_set_frames, hold_overrides
from rostersync.model import ENTITIES
from rostersync.store import Store, VersionDiff
from rostersync.store.engine import translate_errors

PARTS = ("added", "updated", "updated_before", "deleted", "fields")


def _to_bytes(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf, compression="zstd")
    return buf.getvalue()


def save_changes(store: Store, run_id: int, changes: ChangeSet) -> None:
    """Store a run's change set: full rows per part (Parquet) and the store's sourcedId lists."""
    rows = [
        {
            "run_id": run_id,
            "entity": name,
            "part": part,
            "row_count": getattr(ch, part).height,
            "data": _to_bytes(getattr(ch, part)),
        }
        for name, ch in changes.entities.items()
        if ch.total
        for part in PARTS
    ]
    with translate_errors(store.engine), store.engine.begin() as conn:
        conn.execute(change_set_frames.delete().where(change_set_frames.c.run_id == run_id))
        if rows:
            conn.execute(change_set_frames.insert(), rows)
    store.save_change_set(
        run_id,
        {
            name: VersionDiff(
                added=ch.added["sourcedId"],
                updated=ch.updated["sourcedId"],
                deleted=ch.deleted["sourcedId"],
            )
            for name, ch in changes.entities.items()
        },
    )


def load_changes(store: Store, run_id: int, base_version: int | None = None) -> ChangeSet:
    """A run's stored change set (entities without changes come back empty).

    ``base_total``/``base_counts`` are not stored; they are 0/empty here (the run's
    ``change_summary`` keeps the counts).
    """
    stmt = sa.select(change_set_frames).where(change_set_frames.c.run_id == run_id)
    with translate_errors(store.engine), store.engine.connect() as conn:
        found = list(conn.execute(stmt))
    frames: dict[str, dict[str, pl.DataFrame]] = {}
    for row in found:
        frames.setdefault(row.entity, {})[row.part] = pl.read_parquet(io.BytesIO(row.data))
    out: dict[str, EntityChanges] = {}
    for name, ent in ENTITIES.items():
        parts = frames.get(name, {})
        empty = ent.empty()
        fields = parts.get(
            "fields",
            pl.DataFrame(
                schema={"sourcedId": pl.Utf8, "field": pl.Utf8, "before": pl.Utf8, "after": pl.Utf8}
            ),
        )
        out[name] = EntityChanges(
            entity=name,
            base_total=0,
            candidate_total=0,
            added=parts.get("added", empty),
            updated=parts.get("updated", empty),
            updated_before=parts.get("updated_before", empty),
            deleted=parts.get("deleted", empty),
            fields=fields,
            base_counts=base_counts(name, empty),
        )
    return ChangeSet(out, base_version)


def has_changes(store: Store, run_id: int) -> bool:
    stmt = sa.select(sa.func.count()).where(change_set_frames.c.run_id == run_id)
    with translate_errors(store.engine), store.engine.connect() as conn:
        return bool(conn.execute(stmt).scalar())


def grant_override(
    store: Store, district_id: int, until: date, *, actor: str, reason: str | None = None
) -> None:
    """Allow runs of a district to go over the hold threshold up to ``until`` (inclusive)."""
    with translate_errors(store.engine), store.engine.begin() as conn:
        conn.execute(
            hold_overrides.insert().values(
                district_id=district_id,
                until=until,
                reason=reason,
                created_by=actor,
                created_at=datetime.now(UTC),
            )
        )
    store.audit(actor, "hold_override", district_id, until=until.isoformat(), reason=reason)


def override_until(store: Store, district_id: int) -> date | None:
    """The latest date up to which the district's runs may go over the threshold, if any."""
    stmt = sa.select(sa.func.max(hold_overrides.c.until)).where(
        hold_overrides.c.district_id == district_id
    )
    with translate_errors(store.engine), store.engine.connect() as conn:
        value = conn.execute(stmt).scalar()
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


__all__ = ["grant_override", "has_changes", "load_changes", "save_changes"]
