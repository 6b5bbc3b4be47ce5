"""Sync Schedule of a district: show it with its next runs, set it, and when the next run is.

The schedule is the ``sync_schedule`` section of the district's configuration; setting it saves
a new configuration version (the scheduler picks it up from there). The next runs and the last
run come from the scheduler's own view (:func:`rostersync.schedule.service.schedule_overview`),
so the API, the CLI and the scheduler agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rostersync.clock import utcnow
from rostersync.manage.configs import ConfigVersionInfo
from rostersync.manage.sections import current_section, replace_section
from rostersync.schedule.service import schedule_overview
from rostersync.store import Store

SECTION = "sync_schedule"
#: The most next runs one answer lists.
MAX_NEXT_RUNS = 50


@dataclass(frozen=True)
class NextRun:
    at: datetime
    kind: str

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "kind": self.kind}


@dataclass(frozen=True)
class ScheduleInfo:
    """A district's Sync Schedule, what it means, and whether anything will run it."""

    district_id: int
    schedule: dict[str, Any]
    summary: str
    active: bool
    expired: bool
    next_runs: list[NextRun]
    last_run_at: datetime | None
    last_trigger: str | None
    running_run: int | None
    scheduler_running: bool
    problems: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "district_id": self.district_id,
            "schedule": self.schedule,
            "summary": self.summary,
            "active": self.active,
            "expired": self.expired,
            "next_runs": [n.as_dict() for n in self.next_runs],
            "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None,
            "last_trigger": self.last_trigger,
            "running_run": self.running_run,
            "scheduler_running": self.scheduler_running,
            "problems": self.problems,
        }


def show_schedule(
    store: Store, district: str | int, *, count: int = 3, now: datetime | None = None
) -> ScheduleInfo:
    """The district's schedule and its next ``count`` runs (1 to 50)."""
    count = max(1, min(count, MAX_NEXT_RUNS))
    d = store.get_district(district)
    section = current_section(store, d.id, SECTION)
    overview = schedule_overview(store, now or utcnow(), count=count, district_id=d.id)
    views = overview.sources
    nexts = sorted(
        {(at, kind) for v in views for at, kind in zip(v.next_runs, v.next_kinds, strict=True)}
    )
    lasts = [(v.last_slot, v.last_trigger) for v in views if v.last_slot is not None]
    last_at, last_trigger = max(lasts, key=lambda x: x[0]) if lasts else (None, None)
    running = next((v.running_run for v in views if v.running_run is not None), None)
    return ScheduleInfo(
        district_id=d.id,
        schedule=section,
        summary=views[0].summary if views else "manual only (no scheduled syncs)",
        active=bool(views),
        expired=bool(views) and all(v.expired for v in views),
        next_runs=[NextRun(at, kind) for at, kind in nexts[:count]],
        last_run_at=last_at,
        last_trigger=last_trigger,
        running_run=running,
        scheduler_running=any(s["running"] for s in overview.schedulers),
        problems=[p.message for p in overview.problems],
    )


def set_schedule(
    store: Store, actor: str, district: str | int, schedule: dict[str, Any]
) -> ConfigVersionInfo:
    """Save ``schedule`` as the district's Sync Schedule (a new configuration version)."""
    info, _ = replace_section(store, actor, district, SECTION, schedule)
    return info
