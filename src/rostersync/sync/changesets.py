"""Saving and loading a run's change set (Parquet per entity and part) and hold overrides."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from rostersync.changes.diff import ChangeSet, EntityChanges, base_counts
from rostersync.changes.overrides import HoldOverride, override_in_force
from rostersync.clock import as_utc, utcnow
from rostersync.errors import ConfigurationError
from rostersync.model import ENTITIES
from rostersync.store import Store, VersionDiff
from rostersync.store.engine import translate_errors
from rostersync.store.schema import change_set_frames, hold_overrides

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


def _override(row: Any) -> HoldOverride:
    until = row.until if isinstance(row.until, date) else date.fromisoformat(str(row.until))
    return HoldOverride(
        id=row.id,
        district_id=row.district_id,
        until=until,
        reason=row.reason,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        revoked_at=as_utc(row.revoked_at),
        revoked_by=row.revoked_by,
        revoke_reason=row.revoke_reason,
    )


def grant_override(
    store: Store,
    district_id: int,
    until: date,
    *,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> HoldOverride:
    """Allow runs of a district to go over the hold threshold up to ``until`` (inclusive).

    The grant replaces every earlier one, even a longer one (the latest action wins).
    """
    at = now or utcnow()
    with translate_errors(store.engine), store.engine.begin() as conn:
        result = conn.execute(
            hold_overrides.insert().values(
                district_id=district_id,
                until=until,
                reason=reason,
                created_by=actor,
                created_at=at,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        new_id = int(key[0])
    store.audit(
        actor, "hold_override", district_id, override=new_id, until=until.isoformat(), reason=reason
    )
    return HoldOverride(new_id, district_id, until, reason, actor, at)


def list_overrides(store: Store, district_id: int) -> list[HoldOverride]:
    """Every grant of the district, oldest first, with its revocation if any."""
    stmt = (
        sa.select(hold_overrides)
        .where(hold_overrides.c.district_id == district_id)
        .order_by(hold_overrides.c.created_at, hold_overrides.c.id)
    )
    with translate_errors(store.engine), store.engine.connect() as conn:
        return [_override(r) for r in conn.execute(stmt)]


def active_override(
    store: Store, district_id: int, *, today: date, now: datetime | None = None
) -> HoldOverride | None:
    """The grant in force for a run decided now (district date ``today``), if any."""
    return override_in_force(list_overrides(store, district_id), now or utcnow(), today)


def revoke_override(
    store: Store,
    district_id: int,
    *,
    actor: str,
    reason: str,
    today: date,
    override_id: int | None = None,
    now: datetime | None = None,
) -> HoldOverride:
    """End the district's override in force now (or the grant ``override_id``): runs from
    now on are held by the threshold again. Raises ``NothingToRevoke`` when there is none."""
    at = now or utcnow()
    grants = list_overrides(store, district_id)
    if override_id is None:
        target = override_in_force(grants, at, today)
        if target is None:
            raise NothingToRevoke(
                "No hold override is in force for this district: nothing to revoke",
                hint="see `rostersync changes override list --district …`",
            )
    else:
        found = [g for g in grants if g.id == override_id]
        if not found:
            raise NothingToRevoke(
                f"Hold override {override_id} is not one of this district's overrides",
                hint="see `rostersync changes override list --district …`",
            )
        target = found[0]
        if target.revoked_at is not None:
            raise NothingToRevoke(
                f"Hold override {override_id} was already revoked on "
                f"{target.revoked_at.isoformat()} by {target.revoked_by}"
            )
    with translate_errors(store.engine), store.engine.begin() as conn:
        conn.execute(
            hold_overrides.update()
            .where(hold_overrides.c.id == target.id)
            .values(revoked_at=at, revoked_by=actor, revoke_reason=reason)
        )
    store.audit(
        actor,
        "hold_override_revoked",
        district_id,
        override=target.id,
        until=target.until.isoformat(),
        reason=reason,
    )
    return replace(target, revoked_at=at, revoked_by=actor, revoke_reason=reason)


class NothingToRevoke(ConfigurationError):
    """``changes override revoke`` found no override to end."""


__all__ = [
    "NothingToRevoke",
    "active_override",
    "grant_override",
    "has_changes",
    "list_overrides",
    "load_changes",
    "revoke_override",
    "save_changes",
]
