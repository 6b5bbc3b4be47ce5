"""The gradebook's storage: one row per category, line item, result and score scale of a district
(``gradebook_objects``), written whole by a PUT or POST and marked ``tobedeleted`` by a DELETE.

Writes are idempotent by sourcedId (PUT creates or replaces; the same PUT twice leaves one row
with the second body), and a write of several objects (a bulk POST, an import from the SIS) is
one transaction: all of them or none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from rostersync.clock import as_utc
from rostersync.export.oneroster.gradebook_model import SHAPES, Kind, columns
from rostersync.store.schema import gradebook_objects

g = gradebook_objects.c
#: Columns a filter or sort may name, by their JSON name (refs by ``<ref>.sourcedId``).
FILTERABLE: dict[str, tuple[str, str]] = {
    "sourcedId": ("sourcedId", "text"),
    "status": ("status", "text"),
    "dateLastModified": ("dateLastModified", "datetime"),
    "title": ("title", "text"),
    "class.sourcedId": ("classSourcedId", "text"),
    "school.sourcedId": ("schoolSourcedId", "text"),
    "lineItem.sourcedId": ("lineItemSourcedId", "text"),
    "student.sourcedId": ("studentSourcedId", "text"),
    "category.sourcedId": ("categorySourcedId", "text"),
    "gradingPeriod.sourcedId": ("academicSessionSourcedId", "text"),
    "academicSession.sourcedId": ("academicSessionSourcedId", "text"),
    "scoreScale.sourcedId": ("scoreScaleSourcedId", "text"),
}


@dataclass(frozen=True)
class Stored:
    """One gradebook object as stored."""

    kind: Kind
    sourced_id: str
    status: str
    modified: datetime
    body: dict[str, Any]
    origin: str

    @classmethod
    def from_row(cls, row: sa.RowMapping) -> Stored:
        return cls(
            row["kind"],
            row["sourcedId"],
            row["status"],
            as_utc(row["dateLastModified"]),
            json.loads(row["body"]),
            row["origin"],
        )


def upsert(
    conn: sa.Connection,
    district_id: int,
    kind: Kind,
    sourced_id: str,
    body: Mapping[str, Any],
    origin: str,
    now: datetime,
) -> bool:
    """Create or replace one object (active again if it was deleted); ``True`` if created
    (absent or deleted before)."""
    values = {
        "status": "active",
        "dateLastModified": now,
        "body": json.dumps(body, sort_keys=True),
        "origin": origin,
        **columns(SHAPES[kind], body),
    }
    key = (g.district_id == district_id, g.kind == kind, g.sourcedId == sourced_id)
    before = conn.execute(sa.select(g.status).where(*key)).scalar()
    if before is None:
        conn.execute(
            gradebook_objects.insert().values(
                district_id=district_id, kind=kind, sourcedId=sourced_id, **values
            )
        )
        return True
    conn.execute(gradebook_objects.update().where(*key).values(**values))
    return bool(before != "active")


def mark_deleted(
    conn: sa.Connection, district_id: int, kind: Kind, sourced_ids: Iterable[str], now: datetime
) -> int:
    """Mark active objects ``tobedeleted``; how many were."""
    ids = list(sourced_ids)
    if not ids:
        return 0
    result = conn.execute(
        gradebook_objects.update()
        .where(
            g.district_id == district_id,
            g.kind == kind,
            g.sourcedId.in_(ids),
            g.status == "active",
        )
        .values(status="tobedeleted", dateLastModified=now)
    )
    return int(result.rowcount or 0)


def read(
    conn: sa.Connection,
    district_id: int,
    kind: Kind,
    where: Sequence[sa.ColumnElement[bool]],
    *,
    order_by: sa.ColumnElement[Any] | None = None,
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Stored], int]:
    """A page of objects of ``kind`` matching ``where`` and the total count."""
    conds = [g.district_id == district_id, g.kind == kind, *where]
    total = int(conn.execute(sa.select(sa.func.count()).where(*conds)).scalar() or 0)
    column = order_by if order_by is not None else g.sourcedId
    order = [column.desc() if descending else column.asc(), g.sourcedId.asc()]
    stmt = sa.select(gradebook_objects).where(*conds).order_by(*order).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = conn.execute(stmt).mappings().all()
    return [Stored.from_row(r) for r in rows], total


def results_of_line_item(conn: sa.Connection, district_id: int, line_item: str) -> list[str]:
    """The active results of a line item (deleted with it)."""
    return list(
        conn.execute(
            sa.select(g.sourcedId).where(
                g.district_id == district_id,
                g.kind == "results",
                g.lineItemSourcedId == line_item,
                g.status == "active",
            )
        ).scalars()
    )
