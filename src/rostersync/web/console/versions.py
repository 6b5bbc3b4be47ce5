"""Published roster versions: the list, the diff of two, and rollback with a confirmation step —
over ``manage.list_versions``, ``manage.version_diff`` (reads only the rows that changed) and
``manage.rollback_version``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from rostersync import manage
from rostersync.manage.version_diff import version_diff
from rostersync.web.console.deps import (
    NAV_PAGES,
    PREFIX,
    ConsoleError,
    SessionDep,
    VersionNumber,
    actor,
    district_for,
    render,
    store_of,
)
from rostersync.web.console.routing import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute)
NAV_PAGES.add("versions")
VERSIONS = PREFIX + "/d/{district}/versions"
#: The most sourcedIds a diff lists per entity and kind (the counts are always whole).
LISTED = 20
MAX_VERSION = 2**31 - 1


@router.get(VERSIONS, include_in_schema=False)
def versions_page(
    request: Request,
    session: SessionDep,
    district: str,
    a: Annotated[int | None, Query(ge=0, le=MAX_VERSION)] = None,
    b: Annotated[int | None, Query(ge=0, le=MAX_VERSION)] = None,
) -> Response:
    """The versions, newest first; with ``a`` and ``b``, what changed from ``a`` to ``b``."""
    d = district_for(request, session, district)
    store = store_of(request)
    versions = manage.list_versions(store, d.id)
    diff = None
    if a is not None and b is not None:
        found = version_diff(store, d.id, a, b, listed=LISTED)
        diff = {
            "a": a,
            "b": b,
            "entities": {
                name: {
                    kind: {"count": getattr(e, kind), "first": e.first[kind]}
                    for kind in ("added", "updated", "deleted")
                }
                for name, e in found.items()
            },
        }
    data = {
        "versions": [{**v.as_dict(), "total_changed": v.total_changed} for v in versions],
        "diff": diff,
        "published": request.query_params.get("published"),
    }
    return render(request, "versions.html", data, session=session, district=d, active="versions")


@router.get(VERSIONS + "/{version}/rollback", include_in_schema=False)
def confirm_rollback(
    request: Request, session: SessionDep, district: str, version: VersionNumber
) -> Response:
    """Ask before rolling back: what the new version will be, and what it undoes."""
    d = district_for(request, session, district, "write")
    store = store_of(request)
    versions = {v.version: v for v in manage.list_versions(store, d.id)}
    if version not in versions:
        raise ConsoleError(404, f"{d.name} has no version {version}", hint="see the versions")
    current = max(versions)
    data = {"version": versions[version].as_dict(), "current": current}
    return render(request, "rollback.html", data, session=session, district=d, active="versions")


@router.post(VERSIONS + "/{version}/rollback", include_in_schema=False)
def rollback(
    request: Request,
    session: SessionDep,
    district: str,
    version: VersionNumber,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Publish version ``version``'s content as a new version (confirmed)."""
    d = district_for(request, session, district, "write")
    if confirm != "yes":
        raise ConsoleError(
            422, "The rollback was not confirmed", hint="tick the confirmation box and submit again"
        )
    new = manage.rollback_version(store_of(request), actor(session), d.id, version)
    return RedirectResponse(f"{PREFIX}/d/{d.slug}/versions?published={new.version}", 303)
