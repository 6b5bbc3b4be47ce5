"""``/api/v1/districts/{district}/runs``: list, show, events, start a sync in the background;
the change set of a run (show, approve, reject) and hold overrides (list, create, revoke)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from rostersync import manage
from rostersync.config import validate_config
from rostersync.errors import FatalError
from rostersync.manage.changes import MAX_PAGE, change_counts, change_page
from rostersync.schedule.runner import RunRequest, execute_run
from rostersync.settings import Settings
from rostersync.store import RunRecord, Store
from rostersync.sync import approval
from rostersync.sync.changesets import grant_override, list_overrides, revoke_override
from rostersync.sync.events import read_events
from rostersync.sync.run import run_sync
from rostersync.web.api_v1._core import (
    MAX_ID,
    ApiError,
    ApiRoute,
    CallerDep,
    OverrideId,
    RunId,
    district_for,
    settings_of,
    store_of,
)
from rostersync.web.api_v1.models import (
    ChangePageOut,
    ChangeSetOut,
    FieldChangeOut,
    OverrideCreate,
    OverrideOut,
    OverrideRevoke,
    Reject,
    RosterVersionOut,
    RunEventOut,
    RunOut,
    RunStart,
)

router = APIRouter(route_class=ApiRoute)
RUNS = "/districts/{district}/runs"
#: How long starting a sync waits for the district's run lock and the run's record.
START_WAIT_SECONDS = 10.0


def run_out(run: RunRecord) -> RunOut:
    return RunOut.model_validate(run.__dict__)


@router.get(RUNS, response_model=list[RunOut], tags=["runs"])
def list_runs(
    request: Request,
    caller: CallerDep,
    district: str,
    limit: Annotated[int, Query(ge=1, le=manage.MAX_RUNS_LISTED)] = 20,
) -> list[RunOut]:
    """The district's runs, newest first."""
    d = district_for(store_of(request), caller, district, "read")
    return [run_out(r) for r in manage.list_runs(store_of(request), d.id, limit)]


@router.get(RUNS + "/{run_id}", response_model=RunOut, tags=["runs"])
def show_run(request: Request, caller: CallerDep, district: str, run_id: RunId) -> RunOut:
    d = district_for(store_of(request), caller, district, "read")
    return run_out(manage.show_run(store_of(request), run_id, d.id))


@router.get(RUNS + "/{run_id}/events", response_model=list[RunEventOut], tags=["runs"])
def run_events(
    request: Request, caller: CallerDep, district: str, run_id: RunId
) -> list[RunEventOut]:
    """What happened in the run, oldest first."""
    store = store_of(request)
    d = district_for(store, caller, district, "read")
    manage.show_run(store, run_id, d.id)
    return [RunEventOut.model_validate(e.to_dict()) for e in read_events(store.engine, run_id)]


@dataclass(frozen=True)
class _SyncWithSettings:
    """The sync package's run function, with this server's settings."""

    settings: Settings

    def __call__(self, store: Store, request: RunRequest) -> object:
        return run_sync(
            store,
            request.district_id,
            request.source,
            trigger=request.trigger,
            run_id=request.run_id,
            settings=self.settings,
        )


def _start(store: Store, settings: Settings, district_id: int, source: str) -> int:
    """Run a sync in a thread under the district's lock; the run's id once it is recorded."""
    started = threading.Event()
    found: dict[str, object] = {}

    def on_locked(run_id: int) -> None:
        found["run_id"] = run_id
        started.set()

    def work() -> None:
        try:
            execute_run(
                store,
                _SyncWithSettings(settings),
                district_id=district_id,
                source=source,
                on_locked=on_locked,
            )
        except Exception as exc:  # reported to the waiting request
            found["error"] = exc
        finally:
            started.set()

    threading.Thread(target=work, name=f"api-sync-{district_id}", daemon=True).start()
    if not started.wait(START_WAIT_SECONDS):
        raise FatalError("the sync did not start in time", hint="see GET …/runs for its run")
    error = found.get("error")
    if isinstance(error, Exception):
        raise error
    run_id = found["run_id"]
    assert isinstance(run_id, int)
    return run_id


@router.post(RUNS, response_model=RunOut, status_code=202, tags=["runs"])
def start_run(
    request: Request, caller: CallerDep, district: str, body: RunStart | None = None
) -> RunOut:
    """Start a sync of the district's newest configuration; it runs in the background
    (follow it with GET …/runs/{run_id} and …/events). 409 while another sync runs."""
    store = store_of(request)
    d = district_for(store, caller, district, "write")
    version, config_body = store.get_config_version(d.id)
    config = validate_config(config_body, f"configuration version {version}")
    names = [s.name for s in config.sources]
    source = body.source if body is not None and body.source is not None else names[0]
    if source not in names:
        raise ApiError(
            422,
            "invalid_input",
            f"source: {source!r} is not a source of the configuration",
            hint=f"use one of {', '.join(names)}",
        )
    run_id = _start(store, settings_of(request), d.id, source)
    store.audit(caller.actor, "run.start", d.id, run_id=run_id, source=source)
    return run_out(store.get_run(run_id))


# --- change sets ------------------------------------------------------------------------------

CHANGES = "/districts/{district}/changes/{run_id}"


@router.get(CHANGES, response_model=ChangeSetOut, tags=["change sets"])
def show_changes(request: Request, caller: CallerDep, district: str, run_id: RunId) -> ChangeSetOut:
    """A run's change set: counts per entity, and why it was held (read from the stored
    counts: the changes themselves are paged with GET …/changes/{run_id}/{entity})."""
    store = store_of(request)
    d = district_for(store, caller, district, "read")
    run = manage.show_run(store, run_id, d.id)
    summary = dict(run.change_summary)
    base = summary.get("base_version")
    total, entities = change_counts(store, run)
    return ChangeSetOut(
        run_id=run.id,
        district_id=run.district_id,
        status=run.status,
        base_version=base if isinstance(base, int) else None,
        total=total,
        entities=entities,
        summary=summary,
    )


@router.get(CHANGES + "/{entity}", response_model=ChangePageOut, tags=["change sets"])
def page_changes(
    request: Request,
    caller: CallerDep,
    district: str,
    run_id: RunId,
    entity: str,
    kind: Annotated[Literal["added", "updated", "deleted"], Query()] = "added",
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> ChangePageOut:
    """One page of a run's changes of one entity (``users``, ``classes``…): the sourcedIds,
    and for updated records every changed field with its value before and after. Only the
    page is read from the stored change set."""
    store = store_of(request)
    d = district_for(store, caller, district, "read")
    run = manage.show_run(store, run_id, d.id)
    page = change_page(store, run, entity, kind, offset, limit)
    return ChangePageOut(
        run_id=run_id,
        entity=entity,
        kind=kind,
        total=page.total,
        offset=offset,
        limit=limit,
        sourced_ids=page.sourced_ids,
        fields=[FieldChangeOut.model_validate(f) for f in page.fields],
    )


@router.post(CHANGES + "/approve", response_model=RosterVersionOut, tags=["change sets"])
def approve_changes(
    request: Request, caller: CallerDep, district: str, run_id: RunId
) -> RosterVersionOut:
    """Publish a held run's change set (409 when the run is not held or was superseded)."""
    store = store_of(request)
    d = district_for(store, caller, district, "write")
    manage.show_run(store, run_id, d.id)
    version = approval.approve(store, run_id, actor=caller.actor)
    return RosterVersionOut.model_validate(version.as_dict())


@router.post(CHANGES + "/reject", response_model=RunOut, tags=["change sets"])
def reject_changes(
    request: Request, caller: CallerDep, district: str, run_id: RunId, body: Reject
) -> RunOut:
    """Discard a held run: nothing is published."""
    store = store_of(request)
    d = district_for(store, caller, district, "write")
    manage.show_run(store, run_id, d.id)
    approval.reject(store, run_id, reason=body.reason, actor=caller.actor)
    return run_out(store.get_run(run_id))


# --- hold overrides ---------------------------------------------------------------------------

OVERRIDES = "/districts/{district}/overrides"


@router.get(OVERRIDES, response_model=list[OverrideOut], tags=["overrides"])
def get_overrides(request: Request, caller: CallerDep, district: str) -> list[OverrideOut]:
    d = district_for(store_of(request), caller, district, "read")
    return [
        OverrideOut.model_validate(o.to_dict()) for o in list_overrides(store_of(request), d.id)
    ]


@router.post(OVERRIDES, response_model=OverrideOut, status_code=201, tags=["overrides"])
def create_override(
    request: Request, caller: CallerDep, district: str, body: OverrideCreate
) -> OverrideOut:
    """Let runs go over the hold threshold up to ``until`` (replaces earlier grants)."""
    d = district_for(store_of(request), caller, district, "write")
    o = grant_override(store_of(request), d.id, body.until, actor=caller.actor, reason=body.reason)
    return OverrideOut.model_validate(o.to_dict())


@router.post(OVERRIDES + "/{override_id}/revoke", response_model=OverrideOut, tags=["overrides"])
def revoke(
    request: Request,
    caller: CallerDep,
    district: str,
    override_id: OverrideId,
    body: OverrideRevoke,
) -> OverrideOut:
    d = district_for(store_of(request), caller, district, "write")
    o = revoke_override(
        store_of(request),
        d.id,
        actor=caller.actor,
        reason=body.reason,
        today=datetime.now(UTC).date(),
        override_id=override_id,
    )
    return OverrideOut.model_validate(o.to_dict())
