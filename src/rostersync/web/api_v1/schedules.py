"""``/api/v1/districts/{district}/schedule``: the Sync Schedule, set it, its next runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from rostersync.manage.schedules import MAX_NEXT_RUNS, set_schedule, show_schedule
from rostersync.web.api_v1._core import ApiRoute, CallerDep, district_for, store_of
from rostersync.web.api_v1.models import ConfigVersionOut, Model

router = APIRouter(route_class=ApiRoute, tags=["schedules"])
BASE = "/districts/{district}/schedule"
Count = Annotated[int, Query(ge=1, le=MAX_NEXT_RUNS, description="how many next runs")]


class NextRunOut(Model):
    at: datetime
    kind: str


class ScheduleOut(Model):
    district_id: int
    schedule: dict[str, Any]
    summary: str
    active: bool
    expired: bool
    next_runs: list[NextRunOut]
    last_run_at: datetime | None
    last_trigger: str | None
    running_run: int | None
    scheduler_running: bool
    problems: list[str]


@router.get(BASE, response_model=ScheduleOut)
def get_schedule(request: Request, caller: CallerDep, district: str, count: Count = 3) -> Any:
    """The district's Sync Schedule, its next runs, its last run, and whether a scheduler is
    running (``scheduler_running: false``: nothing will start the scheduled syncs)."""
    d = district_for(store_of(request), caller, district, "read")
    return show_schedule(store_of(request), d.id, count=count).as_dict()


@router.get(BASE + "/next", response_model=list[NextRunOut])
def next_runs(request: Request, caller: CallerDep, district: str, count: Count = 1) -> Any:
    """When the district syncs next by itself (an empty list: never)."""
    d = district_for(store_of(request), caller, district, "read")
    return [n.as_dict() for n in show_schedule(store_of(request), d.id, count=count).next_runs]


@router.put(BASE, response_model=ConfigVersionOut)
def put_schedule(
    request: Request,
    caller: CallerDep,
    district: str,
    body: Annotated[
        dict[str, Any],
        Body(
            description="the `sync_schedule` section: every, days, at, timezone, starts, "
            "expires, first_day_of_school, retry_interrupted",
            examples=[{"every": "weekly", "days": ["mon", "thu"], "at": "02:30"}],
        ),
    ],
) -> Any:
    """Set the Sync Schedule: saved as a new configuration version (422 names every problem,
    e.g. ``sync_schedule.at``). An unchanged schedule keeps the version."""
    d = district_for(store_of(request), caller, district, "write")
    return set_schedule(store_of(request), caller.actor, d.id, body).as_dict()
