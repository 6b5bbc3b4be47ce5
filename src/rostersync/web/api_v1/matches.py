"""``/api/v1/districts/{district}/matches``: manual match / unmatch and the syncs' re-links.

The JSON twin of ``rostersync matches list|link|unlink`` over :mod:`rostersync.manage.matches`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from rostersync import manage
from rostersync.sync.links import LinkRecord
from rostersync.web.api_v1._core import ApiRoute, CallerDep, district_for, store_of

router = APIRouter(route_class=ApiRoute, tags=["matches"])
BASE = "/districts/{district}/matches"

RecordId = Annotated[str, Field(min_length=1, max_length=512, description="a sourcedId")]
Entity = Annotated[
    str,
    Field(min_length=1, max_length=64, description="entity type (student…) or table (users…)"),
]
Note = Annotated[str | None, Field(default=None, max_length=2000, description="why (audited)")]


class MatchOut(BaseModel):
    """One decision: ``from_id`` is published as (``relink``, ``link``) or kept apart from
    (``apart``) ``to_id``."""

    id: int
    entity: str
    from_id: str
    to_id: str
    kind: Literal["relink", "link", "apart"]
    confidence: float | None
    detail: str | None
    run_id: int | None
    created_by: str
    created_at: datetime
    ended_at: datetime | None
    ended_by: str | None

    @classmethod
    def of(cls, record: LinkRecord) -> MatchOut:
        return cls.model_validate(record.as_dict())


class LinkIn(BaseModel):
    """Join ``other`` into ``keep`` (both published records) from the next sync on."""

    model_config = ConfigDict(extra="forbid")
    entity: Entity
    keep: RecordId
    other: RecordId
    note: Note


class UnlinkIn(BaseModel):
    """Split two matched records; they stay apart."""

    model_config = ConfigDict(extra="forbid")
    entity: Entity
    first: RecordId
    second: RecordId
    note: Note


@router.get(BASE, response_model=list[MatchOut])
def list_matches(
    request: Request,
    caller: CallerDep,
    district: str,
    entity: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[Literal["relink", "link", "apart"] | None, Query()] = None,
    record: Annotated[str | None, Query(min_length=1, max_length=512)] = None,
    include_reversed: bool = False,
    limit: Annotated[int, Query(ge=1, le=manage.matches.MAX_LISTED)] = 100,
) -> list[MatchOut]:
    """The match decisions in force (or also the reversed ones), newest first."""
    d = district_for(store_of(request), caller, district, "read")
    rows = manage.list_matches(
        store_of(request),
        d.id,
        entity=entity,
        kind=kind,
        record=record,
        include_reversed=include_reversed,
        limit=limit,
    )
    return [MatchOut.of(r) for r in rows]


@router.post(BASE, response_model=MatchOut, status_code=201)
def link(request: Request, caller: CallerDep, district: str, body: LinkIn) -> MatchOut:
    """Join two published records into one from the next sync on (``keep``'s values win)."""
    d = district_for(store_of(request), caller, district, "write")
    row = manage.link_records(
        store_of(request), caller.actor, d.id, body.entity, body.keep, body.other, note=body.note
    )
    return MatchOut.of(row)


@router.post(BASE + "/unlink", response_model=MatchOut)
def unlink(request: Request, caller: CallerDep, district: str, body: UnlinkIn) -> MatchOut:
    """Split two matched records (a manual link or a sync's re-link); returns the decision
    that keeps them apart."""
    d = district_for(store_of(request), caller, district, "write")
    row = manage.unlink_records(
        store_of(request),
        caller.actor,
        d.id,
        body.entity,
        body.first,
        body.second,
        note=body.note,
    )
    return MatchOut.of(row)
