"""A held run's change set: per-entity diffs with before/after values, paged and searchable,
the threshold that tripped, and Approve / Reject (a reason required) — over the sync package's
``approval.approve`` and ``approval.reject``, as ``/api/v1`` uses them; pages are read from the
stored frames (``manage.changes``, ``manage.change_review``), never the whole set.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from rostersync import manage
from rostersync.manage.change_review import review_page
from rostersync.manage.changes import change_counts
from rostersync.sync import approval
from rostersync.web.console.deps import (
    PREFIX,
    ConsoleError,
    RunId,
    SessionDep,
    actor,
    district_for,
    render,
    store_of,
)
from rostersync.web.console.home import run_summary
from rostersync.web.console.routing import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute)
CHANGES = PREFIX + "/d/{district}/runs/{run_id}/changes"
PAGE = 25
Kind = Literal["added", "updated", "deleted"]


def _page(
    request: Request,
    session: SessionDep,
    district: str,
    run_id: RunId,
    *,
    entity: str,
    kind: Kind,
    search: str,
    offset: int,
    status: int = 200,
    reject_error: str | None = None,
) -> Response:
    d = district_for(request, session, district)
    store = store_of(request)
    run = manage.show_run(store, run_id, d.id)
    total, counts = change_counts(store, run)
    with_changes = [n for n, c in counts.items() if c["added"] or c["updated"] or c["deleted"]]
    shown = entity or (with_changes[0] if with_changes else "")
    if shown and shown not in counts:
        known = ", ".join(with_changes) or "none"
        raise ConsoleError(404, f"Run {run_id} has no changes of {shown!r} (entities: {known})")
    page = (
        review_page(store, run, shown, kind, offset=offset, limit=PAGE, search=search or None)
        if shown
        else None
    )
    summary = run.change_summary
    base = summary.get("base_version")
    data = {
        "run": run_summary(run),
        "base_version": base if isinstance(base, int) else None,
        "total": total,
        "entities": counts,
        "hold_reasons": summary.get("hold_reasons", []),
        "trips": summary.get("trips", []),
        "page": page.as_dict()
        if page
        else {"entity": "", "kind": kind, "search": None, "total": 0, "offset": 0, "limit": PAGE},
    }
    return render(
        request,
        "changes.html",
        data,
        session=session,
        district=d,
        status=status,
        active="runs",
        reject_error=reject_error,
    )


@router.get(CHANGES, include_in_schema=False)
def show_changes(
    request: Request,
    session: SessionDep,
    district: str,
    run_id: RunId,
    entity: Annotated[str, Query(max_length=64)] = "",
    kind: Kind = "updated",
    search: Annotated[str, Query(max_length=200)] = "",
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    """The change set of a run (held or not), one entity and kind of change a page."""
    return _page(
        request, session, district, run_id, entity=entity, kind=kind, search=search, offset=offset
    )


@router.post(CHANGES + "/approve", include_in_schema=False)
def approve(request: Request, session: SessionDep, district: str, run_id: RunId) -> Response:
    """Publish a held run's changes."""
    d = district_for(request, session, district, "write")
    manage.show_run(store_of(request), run_id, d.id)
    version = approval.approve(store_of(request), run_id, actor=actor(session))
    return RedirectResponse(
        f"{PREFIX}/d/{d.slug}/versions?published={version.version}", status_code=303
    )


@router.post(CHANGES + "/reject", include_in_schema=False)
def reject(
    request: Request,
    session: SessionDep,
    district: str,
    run_id: RunId,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Discard a held run: nothing is published. A reason is required."""
    d = district_for(request, session, district, "write")
    manage.show_run(store_of(request), run_id, d.id)
    if not reason.strip():
        return _page(
            request,
            session,
            district,
            run_id,
            entity="",
            kind="updated",
            search="",
            offset=0,
            status=422,
            reject_error="Give the reason for rejecting (it is kept with the run)",
        )
    approval.reject(store_of(request), run_id, reason=reason.strip(), actor=actor(session))
    return RedirectResponse(f"{PREFIX}/d/{d.slug}/runs/{run_id}", status_code=303)
