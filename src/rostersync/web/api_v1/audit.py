"""``/api/v1/audit``: the audit log, scoped to the caller's districts; filters; CSV export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from rostersync.admin import audit
from rostersync.store import AuditEntry
from rostersync.web.api_v1._core import ApiRoute, Caller, CallerDep, district_for, store_of
from rostersync.web.api_v1.models import AuditEntryOut

router = APIRouter(route_class=ApiRoute, tags=["audit"])

DistrictQ = Annotated[str | None, Query(description="a district's id, name or slug")]
SinceQ = Annotated[str | None, Query(description="YYYY-MM-DD or an ISO 8601 time (UTC default)")]
LimitQ = Annotated[int, Query(ge=1, le=100_000)]


def _entries(
    request: Request, caller: Caller, district: str | None, since: str | None, limit: int
) -> list[AuditEntry]:
    store = store_of(request)
    district_id = None if district is None else district_for(store, caller, district, "read").id
    return audit.list_entries(
        store,
        caller=caller.account,
        district_id=district_id,
        since=None if since is None else audit.parse_since(since),
        limit=limit,
    )


@router.get("/audit", response_model=list[AuditEntryOut])
def list_audit(
    request: Request,
    caller: CallerDep,
    district: DistrictQ = None,
    since: SinceQ = None,
    limit: LimitQ = 1000,
) -> list[AuditEntryOut]:
    """Entries newest first: those of the caller's districts (operators: every one)."""
    return [
        AuditEntryOut(
            id=e.id,
            at=e.at,
            actor=e.actor,
            action=e.action,
            district_id=e.district_id,
            detail=e.detail,
        )
        for e in _entries(request, caller, district, since, limit)
    ]


@router.get(
    "/audit.csv",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "the entries as CSV",
        }
    },
)
def export_audit(
    request: Request,
    caller: CallerDep,
    district: DistrictQ = None,
    since: SinceQ = None,
    limit: LimitQ = 1000,
) -> Response:
    """The same entries as CSV (``detail`` as JSON in one column)."""
    text = audit.to_csv(_entries(request, caller, district, since, limit))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
