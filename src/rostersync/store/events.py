"""Per-record events of published versions: what each version created, updated or deleted.

A version's events are derived from the versioned roster tables themselves — rows the version
opened (``valid_from``) and closed (``valid_to``): opened only = created, both = updated, closed
only = deleted; an update to status ``tobedeleted`` is a deletion too. A restored version (a
rollback) is a publish like any other, so its events are the ones that undo what it rolls back.

:func:`write_events` brings ``roster_events`` up to the district's current version (each version
in one transaction with its mark, so two writers never write one version twice); the feed calls
it before it reads, and a sync may call it after publishing. Events older than
:data:`RETENTION_DAYS` are dropped as new ones are written.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from rostersync.clock import as_utc, utcnow
from rostersync.model import ENTITIES
from rostersync.store._store import Store
from rostersync.store.schema import (
    roster_event_marks,
    roster_events,
    roster_tables,
    roster_versions,
)

#: How long events are kept (days); a consumer further behind starts again from a full read.
RETENTION_DAYS = 30
#: The entities, in the order a version's events are listed.
ORDER = tuple(ENTITIES)
_ATTRS: dict[str, tuple[str, ...]] = {
    "orgs": ("type",),
    "academicSessions": ("orgSourcedId",),
    "courses": ("orgSourcedId",),
    "classes": ("schoolSourcedId",),
    "enrollments": ("schoolSourcedId", "role"),
    "users": ("role", "primaryOrgSourcedId", "orgSourcedIds"),
    "userContacts": ("studentSourcedId", "contactSourcedId"),
}


def _rows(conn: sa.Connection, entity: str, district_id: int, where: Any) -> pl.DataFrame:
    t = roster_tables[entity]
    cols = ["sourcedId", "status", *_ATTRS.get(entity, ())]
    result = conn.execute(
        sa.select(*(t.c[c] for c in cols)).where(t.c.district_id == district_id, where)
    )
    return pl.DataFrame(
        [tuple(r) for r in result], schema=dict.fromkeys(cols, pl.Utf8()), orient="row"
    )


def _user_scope(
    conn: sa.Connection, district_id: int, ids: list[str], version: int
) -> dict[str, tuple[str | None, list[str]]]:
    """sourcedId → (role, schools) of users as of ``version`` (their newest row up to it)."""
    if not ids:
        return {}
    t = roster_tables["users"]
    out: dict[str, tuple[str | None, list[str]]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        rows = conn.execute(
            sa.select(t.c.sourcedId, t.c.role, t.c.primaryOrgSourcedId, t.c.orgSourcedIds)
            .where(
                t.c.district_id == district_id,
                t.c.sourcedId.in_(chunk),
                t.c.valid_from <= version,
            )
            .order_by(t.c.valid_from)
        )
        for r in rows:
            out[r.sourcedId] = (r.role, _user_schools(r.primaryOrgSourcedId, r.orgSourcedIds))
    return out


def _user_schools(primary: str | None, orgs: str | None) -> list[str]:
    found: list[str] = [primary] if primary else []
    try:
        listed = json.loads(orgs) if orgs else []
    except ValueError:
        listed = []
    for org in listed if isinstance(listed, list) else []:
        if isinstance(org, str) and org not in found:
            found.append(org)
    return found


def _school_ids(conn: sa.Connection, district_id: int) -> set[str]:
    t = roster_tables["orgs"]
    rows = conn.execute(
        sa.select(t.c.sourcedId).where(t.c.district_id == district_id, t.c.type == "school")
    )
    return {r.sourcedId for r in rows}


def _scope(
    conn: sa.Connection,
    entity: str,
    frame: pl.DataFrame,
    district_id: int,
    version: int,
    schools: set[str],
) -> list[tuple[str | None, str | None]]:
    """(role, schools JSON or None) for each row of ``frame``."""
    rows = frame.to_dicts()
    if entity == "orgs":
        return [
            (None, json.dumps([r["sourcedId"]]) if r["type"] == "school" else None) for r in rows
        ]
    if entity in ("academicSessions", "courses"):
        return [
            (None, json.dumps([r["orgSourcedId"]]) if r["orgSourcedId"] in schools else None)
            for r in rows
        ]
    if entity == "classes":
        return [(None, json.dumps([r["schoolSourcedId"]])) for r in rows]
    if entity == "enrollments":
        return [(r["role"], json.dumps([r["schoolSourcedId"]])) for r in rows]
    if entity == "users":
        return [
            (r["role"], json.dumps(_user_schools(r["primaryOrgSourcedId"], r["orgSourcedIds"])))
            for r in rows
        ]
    if entity == "demographics":
        users = _user_scope(conn, district_id, [r["sourcedId"] for r in rows], version)
        return [_pair(users.get(r["sourcedId"])) for r in rows]
    if entity == "userContacts":
        ids = [r["studentSourcedId"] for r in rows] + [r["contactSourcedId"] for r in rows]
        users = _user_scope(conn, district_id, ids, version)
        out: list[tuple[str | None, str | None]] = []
        for r in rows:
            contact = users.get(r["contactSourcedId"])
            student = users.get(r["studentSourcedId"])
            out.append((contact[0] if contact else None, json.dumps(student[1] if student else [])))
        return out
    return [(None, None) for _ in rows]


def _pair(found: tuple[str | None, list[str]] | None) -> tuple[str | None, str | None]:
    if found is None:
        return (None, json.dumps([]))
    return (found[0], json.dumps(found[1]))


def version_events(conn: sa.Connection, district_id: int, version: int) -> list[dict[str, Any]]:
    """The events of one published version, in feed order (entity, then sourcedId)."""
    at = conn.execute(
        sa.select(roster_versions.c.created_at).where(
            roster_versions.c.district_id == district_id, roster_versions.c.version == version
        )
    ).scalar_one()
    schools = _school_ids(conn, district_id)
    out: list[dict[str, Any]] = []
    for entity in ORDER:
        t = roster_tables[entity]
        opened = _rows(conn, entity, district_id, t.c.valid_from == version)
        closed = _rows(conn, entity, district_id, t.c.valid_to == version)
        if opened.is_empty() and closed.is_empty():
            continue
        was = set(closed["sourcedId"].to_list())
        opened = opened.with_columns(
            pl.when(pl.col("status") == "tobedeleted")
            .then(pl.lit("deleted"))
            .when(pl.col("sourcedId").is_in(list(was)))
            .then(pl.lit("updated"))
            .otherwise(pl.lit("created"))
            .alias("_action")
        )
        gone = closed.filter(~pl.col("sourcedId").is_in(opened["sourcedId"].to_list()))
        gone = gone.with_columns(pl.lit("deleted").alias("_action"))
        both = pl.concat([opened, gone], how="diagonal_relaxed").sort("sourcedId")
        scopes = _scope(conn, entity, both, district_id, version, schools)
        for row, (role, where) in zip(both.to_dicts(), scopes, strict=True):
            out.append(
                {
                    "district_id": district_id,
                    "version": version,
                    "entity": entity,
                    "sourced_id": row["sourcedId"],
                    "action": row["_action"],
                    "role": role,
                    "schools": where,
                    "at": at,
                }
            )
    return out


def written_version(conn: sa.Connection, district_id: int) -> int | None:
    return conn.execute(
        sa.select(roster_event_marks.c.version).where(
            roster_event_marks.c.district_id == district_id
        )
    ).scalar()


def write_events(store: Store, district_id: int) -> int:
    """Write the events of every version published since the last call; how many were written."""
    written = 0
    while True:
        try:
            count = _write_next(store, district_id)
        except sa.exc.IntegrityError:  # another writer claimed this version first
            continue
        if count is None:
            return written
        written += count


def _write_next(store: Store, district_id: int) -> int | None:
    """Write the next version's events; None when every version's are written."""
    while True:
        with store.engine.begin() as conn:
            done = written_version(conn, district_id)
            current = conn.execute(
                sa.select(sa.func.max(roster_versions.c.version)).where(
                    roster_versions.c.district_id == district_id
                )
            ).scalar()
            if current is None or (done is not None and done >= current):
                return None
            version = (done or 0) + 1
            events = version_events(conn, district_id, version)
            if done is None:
                claimed = conn.execute(
                    roster_event_marks.insert().values(district_id=district_id, version=version)
                ).rowcount
            else:
                claimed = conn.execute(
                    roster_event_marks.update()
                    .where(
                        roster_event_marks.c.district_id == district_id,
                        roster_event_marks.c.version == done,
                    )
                    .values(version=version)
                ).rowcount
            if not claimed:  # another writer got this version first
                continue
            for i in range(0, len(events), 1000):
                conn.execute(roster_events.insert(), events[i : i + 1000])
            _prune(conn, district_id)
            return len(events)


def _prune(conn: sa.Connection, district_id: int) -> None:
    """Drop the district's events past the retention period, remembering where they ended."""
    t = roster_events
    cutoff = utcnow() - timedelta(days=RETENTION_DAYS)
    old = t.c.district_id == district_id, t.c.at < cutoff
    last = conn.execute(sa.select(sa.func.max(t.c.id)).where(*old)).scalar()
    if last is None:
        return
    conn.execute(t.delete().where(*old))
    conn.execute(
        roster_event_marks.update()
        .where(roster_event_marks.c.district_id == district_id)
        .values(pruned_below=int(last))
    )


def read_events(
    store: Store,
    district_id: int,
    after: int,
    limit: int,
    entities: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """Events with an id above ``after``, oldest first (of ``entities`` when given)."""
    t = roster_events
    stmt = (
        sa.select(t)
        .where(t.c.district_id == district_id, t.c.id > after)
        .order_by(t.c.id)
        .limit(limit)
    )
    if entities is not None:
        stmt = stmt.where(t.c.entity.in_(entities))
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        {
            "id": r.id,
            "version": r.version,
            "entity": r.entity,
            "sourcedId": r.sourced_id,
            "action": r.action,
            "role": r.role,
            "schools": json.loads(r.schools) if r.schools is not None else None,
            "at": as_utc(r.at),
        }
        for r in rows
    ]


def latest_event(store: Store, district_id: int) -> int | None:
    """The id of the district's newest event."""
    with store.engine.connect() as conn:
        value = conn.execute(
            sa.select(sa.func.max(roster_events.c.id)).where(
                roster_events.c.district_id == district_id
            )
        ).scalar()
    return None if value is None else int(value)


def pruned_below(store: Store, district_id: int) -> int | None:
    """The id of the newest event dropped past the retention period (a cursor below it has
    lost events), or None when none was dropped."""
    with store.engine.connect() as conn:
        value = conn.execute(
            sa.select(roster_event_marks.c.pruned_below).where(
                roster_event_marks.c.district_id == district_id
            )
        ).scalar()
    return None if value is None else int(value)
