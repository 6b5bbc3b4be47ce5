"""``/api/v1/districts/{district}/versions``: published roster versions, diff, rollback."""

from __future__ import annotations

from fastapi import APIRouter, Request

from rostersync import manage
from rostersync.web.api_v1._core import (
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
def list_versions(request: Request, caller: CallerDep, district: str) -> list[RosterVersionOut]:
    """Published roster versions, newest first."""
    d = district_for(store_of(request), caller, district, "read")
    return [
        RosterVersionOut.model_validate(v.as_dict())
        for v in manage.list_versions(store_of(request), d.id)
    ]


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
