"""The console's home: the districts the admin may see, the district switcher, and a district's
overview (its published version, last runs, held runs) — a view over ``rostersync.manage``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from rostersync import manage
from rostersync.admin import authz
from rostersync.errors import ConfigurationError
from rostersync.schedule.service import schedule_overview
from rostersync.store import RunRecord, Store
from rostersync.sync.events import read_events
from rostersync.web.console.deps import (
    PREFIX,
    SessionDep,
    actor,
    district_for,
    render,
    sessions_of,
    store_of,
    visible_districts,
)
from rostersync.web.console.routing import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute)


def run_summary(run: RunRecord) -> dict[str, Any]:
    """A run as the console's lists show it (and their JSON twins return it)."""
    duration = None
    if run.started_at is not None and run.finished_at is not None:
        duration = round((run.finished_at - run.started_at).total_seconds(), 1)
    return {
        "id": run.id,
        "status": run.status,
        "trigger": run.trigger,
        "source": run.source,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": duration,
        "roster_version": run.roster_version,
        "error": run.error,
    }


def source_health(store: Store, runs: list[RunRecord]) -> dict[str, Any] | None:
    """How the sources looked in the last finished run: its error, or the warnings the
    extraction raised (counts announced vs received, pages refused…)."""
    done = next((r for r in runs if r.status not in {"pending", "running"}), None)
    if done is None:
        return None
    warnings = [e.message for e in read_events(store.engine, done.id) if e.kind == "warning"]
    return {
        "run_id": done.id,
        "ok": done.status != "failed" and not warnings,
        "error": done.error if done.status == "failed" else None,
        "warnings": warnings[:10],
        "more_warnings": max(0, len(warnings) - 10),
    }


@router.get("/", include_in_schema=False)
def root() -> Response:
    return RedirectResponse(PREFIX + "/", status_code=303)


def _home_page(
    request: Request, session: Any, *, status: int = 200, error: str | None = None, name: str = ""
) -> Response:
    districts = visible_districts(request, session)
    data: dict[str, Any] = {
        "account": {"name": session.account.name, "role": session.account.role},
        "districts": [{"id": d.id, "name": d.name, "slug": d.slug} for d in districts],
    }
    if error is not None:
        data["error"] = {"field": "name", "message": error}
    return render(request, "home.html", data, session=session, status=status, name=name)


@router.get(PREFIX, include_in_schema=False)
@router.get(PREFIX + "/", include_in_schema=False)
def home(request: Request, session: SessionDep) -> Response:
    """The last district shown, or the list of districts to pick from."""
    districts = visible_districts(request, session)
    shown = [d for d in districts if d.id == session.shown_district_id]
    if shown and request.query_params.get("all") is None:
        return RedirectResponse(f"{PREFIX}/d/{shown[0].slug}/", status_code=303)
    return _home_page(request, session)


@router.post(PREFIX + "/districts", include_in_schema=False)
def create_district(
    request: Request, session: SessionDep, name: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """A new district (operators), then straight to its Application Gallery."""
    authz.require(session.account, "write", None)
    try:
        created = manage.create_district(store_of(request), actor(session), name.strip())
    except ConfigurationError as exc:
        return _home_page(request, session, status=422, error=exc.message, name=name)
    sessions_of(request).show_district(session, created.id)
    return RedirectResponse(f"{PREFIX}/d/{created.slug}/wizard", status_code=303)


@router.post(PREFIX + "/switch", include_in_schema=False)
def switch(
    request: Request, session: SessionDep, district: Annotated[str, Form(max_length=200)]
) -> Response:
    """The district switcher: show another district (one the admin may see)."""
    chosen = district_for(request, session, district, "read")
    sessions_of(request).show_district(session, chosen.id)
    return RedirectResponse(f"{PREFIX}/d/{chosen.slug}/", status_code=303)


@router.get(PREFIX + "/d/{district}/", include_in_schema=False)
def overview(request: Request, session: SessionDep, district: str) -> Response:
    """A district's overview: what is published, the last runs, the runs held for approval."""
    d = district_for(request, session, district, "read")
    if session.shown_district_id != d.id:
        sessions_of(request).show_district(session, d.id)
    store = store_of(request)
    summary = manage.show_district(store, d.id).as_dict()
    records = manage.list_runs(store, d.id, limit=20)
    runs = [run_summary(r) for r in records]
    data = {
        "district": summary,
        "last_run": runs[0] if runs else None,
        "next_runs": [s.as_dict() for s in schedule_overview(store, district_id=d.id).sources],
        "source_health": source_health(store, records),
        "held_runs": [r for r in runs if r["status"] == "held"],
        "recent_runs": runs[:10],
    }
    return render(request, "overview.html", data, session=session, district=d)
