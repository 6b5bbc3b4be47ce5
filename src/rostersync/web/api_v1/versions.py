"""``/api/v1/districts/{district}/versions``: published roster versions, diff, rollback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from rostersync import manage
from rostersync.manage.versions import MAX_PAGE as MAX_VERSIONS_PAGE
from rostersync.web.api_v1._core import (
    MAX_ID,
    ApiRoute,
    CallerDep,
    NewerVersion,
    OlderVersion,
    Version,
    district_for,
    store_of,
)
from rostersync.web.api_v1.models import EntityDiffOut, RosterVersionOut, VersionDiffOut

router = APIRouter(route_class=ApiRoute, tags=["roster versions"])
BASE = "/districts/{district}/versions"
#: The most sourcedIds listed per entity and kind in a diff.
DIFF_IDS = 1000


@router.get(BASE, response_model=list[RosterVersionOut])
def list_versions(
    request: Request,
    caller: CallerDep,
    district: str,
    limit: Annotated[int, Query(ge=1, le=MAX_VERSIONS_PAGE, description="versions per page")] = 100,
    before: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="only versions numbered below this (the next page)"),
    ] = None,
) -> list[RosterVersionOut]:
    """Published roster versions, newest first, a page at a time: the next page is
    ``?before=<the last version listed>``."""
    d = district_for(store_of(request), caller, district, "read")
    found = manage.list_versions(store_of(request), d.id, limit=limit, before=before)
    return [RosterVersionOut.model_validate(v.as_dict()) for v in found]


@router.get(BASE + "/diff", response_model=VersionDiffOut)
def diff_versions(
    request: Request,
    caller: CallerDep,
    district: str,
    a: OlderVersion,
    b: NewerVersion,
) -> VersionDiffOut:
    """The sourcedIds added, updated and deleted per entity (at most 1000 of each)."""
    d = district_for(store_of(request), caller, district, "read")
    diff = manage.diff_versions(store_of(request), d.id, a, b)
    return VersionDiffOut(
        district_id=d.id,
        a=a,
        b=b,
        entities={
            name: EntityDiffOut(
                added=e.added.head(DIFF_IDS).to_list(),
                updated=e.updated.head(DIFF_IDS).to_list(),
                deleted=e.deleted.head(DIFF_IDS).to_list(),
            )
            for name, e in diff.items()
        },
    )


@router.post(BASE + "/{version}/rollback", response_model=RosterVersionOut)
def rollback(
    request: Request, caller: CallerDep, district: str, version: Version
) -> RosterVersionOut:
    """Publish version ``version``'s content as a new version."""
    d = district_for(store_of(request), caller, district, "write")
    new = manage.rollback_version(store_of(request), caller.actor, d.id, version)
    return RosterVersionOut.model_validate(new.as_dict())
