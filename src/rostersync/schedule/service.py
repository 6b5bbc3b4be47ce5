"""Running the scheduler: choose the executor, run the loop in a thread, describe the schedule.

``rostersync worker`` runs :class:`~rostersync.schedule.scheduler.Scheduler` in the
foreground; ``rostersync serve --with-scheduler`` calls :func:`start_scheduler_thread`.
Runs execute in-process unless a broker is configured (``ROSTERSYNC_BROKER_URL``), in which case
they go to the Celery workers.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa

from rostersync.clock import as_utc, utcnow
from rostersync.errors import ConfigurationError
from rostersync.logs import get_logger
from rostersync.schedule.executors import CeleryExecutor, Executor, InProcessExecutor
from rostersync.schedule.locks import RunLocks
from rostersync.schedule.nextrun import due_slot, is_expired, upcoming
from rostersync.schedule.runner import RunFunction, sync_run_function
from rostersync.schedule.scheduler import ScheduleProblem, Scheduler, load_scheduled_sources
from rostersync.settings import Settings
from rostersync.store import Store, open_store
from rostersync.store.schema import schedule_state, scheduler_heartbeats
from rostersync.sync.recovery import recover_interrupted_runs

log = get_logger("schedule.service")

ExecutorKind = Literal["auto", "inprocess", "celery"]
#: A scheduler whose last tick is older than this is reported as not running.
STALE_SCHEDULER = timedelta(minutes=5)


def make_executor(
    settings: Settings,
    store: Store,
    kind: ExecutorKind = "auto",
    *,
    run_function: RunFunction = sync_run_function,
    max_workers: int = 2,
) -> Executor:
    """The executor for these settings: Celery when a broker is set (or asked for)."""
    if kind == "celery" or (kind == "auto" and settings.broker_url):
        if not settings.broker_url:
            raise ConfigurationError(
                "Dispatching runs to Celery workers needs a broker",
                setting="ROSTERSYNC_BROKER_URL",
                hint="set ROSTERSYNC_BROKER_URL=redis://host:6379/0 or amqp://user@host//",
            )
        from rostersync.schedule.celery_app import create_app

        return CeleryExecutor(create_app(settings.broker_url))
    return InProcessExecutor(store, run_function, max_workers=max_workers)


@dataclass
class SchedulerThread:
    """A scheduler loop running in a background thread."""

    scheduler: Scheduler
    thread: threading.Thread
    stop_event: threading.Event = field(default_factory=threading.Event)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop ticking, wait for the loop to end and for in-process runs to finish."""
        self.stop_event.set()
        self.thread.join(timeout)
        self.scheduler.executor.shutdown(wait=True)


def start_scheduler_thread(
    settings: Settings,
    *,
    interval: float = 30.0,
    executor: ExecutorKind = "auto",
    store: Store | None = None,
    run_function: RunFunction = sync_run_function,
    watch: Sequence[str | Path] = (),
) -> SchedulerThread:
    """Start the scheduler loop beside another program (e.g. the web app); ``watch`` names
    district configuration files whose edits it saves as new versions (see :mod:`.watch`)."""
    store = store or open_store(settings)
    recover_interrupted_runs(store)  # runs a killed process left running or publishing
    scheduler = Scheduler(
        store, make_executor(settings, store, executor, run_function=run_function), watch=watch
    )
    stop = threading.Event()
    thread = threading.Thread(
        target=scheduler.run_forever, args=(stop, interval), name="rostersync-scheduler"
    )
    handle = SchedulerThread(scheduler, thread, stop)
    thread.daemon = True
    thread.start()
    return handle


@dataclass(frozen=True)
class SourceScheduleView:
    """What `rostersync schedule show` prints for one source."""

    district_id: int
    district: str
    source: str
    summary: str
    timezone: str
    next_runs: list[datetime]
    next_kinds: list[str]
    last_slot: datetime | None
    last_trigger: str | None
    due_now: bool
    expired: bool
    running_run: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "district_id": self.district_id,
            "district": self.district,
            "source": self.source,
            "schedule": self.summary,
            "timezone": self.timezone,
            "next_runs": [
                {"at": t.isoformat(), "kind": k}
                for t, k in zip(self.next_runs, self.next_kinds, strict=True)
            ],
            "last_slot": self.last_slot.isoformat() if self.last_slot else None,
            "last_trigger": self.last_trigger,
            "due_now": self.due_now,
            "expired": self.expired,
            "running_run": self.running_run,
        }


@dataclass
class ScheduleOverview:
    """Every scheduled source, problems, and the schedulers' liveness."""

    sources: list[SourceScheduleView]
    problems: list[ScheduleProblem]
    schedulers: list[dict[str, Any]]

    @property
    def worker(self) -> dict[str, Any]:
        """Whether a scheduler has been seen recently, said plainly (for the CLI and the API)."""
        running = [s for s in self.schedulers if s["running"]]
        if running:
            return {"seen": True, "message": f"{len(running)} scheduler(s) running"}
        last = max((s["last_tick"] for s in self.schedulers), default=None)
        message = (
            "no scheduler has been seen recently: scheduled syncs will not happen until "
            "`rostersync worker` (or `rostersync serve --with-scheduler`) runs"
        )
        if last is not None:
            message += f"; the last one ticked at {last}"
        return {"seen": False, "message": message, "last_tick": last}

    def as_dict(self) -> dict[str, Any]:
        return {
            "sources": [s.as_dict() for s in self.sources],
            "problems": [p.__dict__ for p in self.problems],
            "schedulers": self.schedulers,
            "worker": self.worker,
        }


def _summary(src: Any) -> str:
    s = src.schedule
    parts = []
    if s.every == "daily":
        parts.append(f"daily at {s.at}")
    elif s.every == "weekly":
        parts.append(f"weekly on {', '.join(s.days)} at {s.at}")
    if s.first_day_of_school:
        first = src.first_day.isoformat() if src.first_day else "no school year reported yet"
        parts.append(f"first day of school ({first})")
    if s.starts:
        parts.append(f"from {s.starts}")
    if s.expires:
        parts.append(f"until {s.expires}")
    return "; ".join(parts)


def schedule_overview(
    store: Store, now: datetime | None = None, *, count: int = 3, district_id: int | None = None
) -> ScheduleOverview:
    """Each scheduled source's next runs, last run, and whether it is running now."""
    now = now or utcnow()
    found, problems = load_scheduled_sources(store, now.date())
    with store.engine.connect() as conn:
        state = {(r.district_id, r.source): r for r in conn.execute(sa.select(schedule_state))}
        beats = conn.execute(sa.select(scheduler_heartbeats)).all()
    holders = {info.district_id: info for info in RunLocks(store.engine).held()}
    views = []
    for src in found:
        if district_id is not None and src.district_id != district_id:
            continue
        row = state.get(src.key)
        last = as_utc(row.last_slot) if row is not None else None
        slots = upcoming(src.schedule, now, count, first_day=src.first_day)
        due = (
            last is not None
            and due_slot(src.schedule, last, now, first_day=src.first_day, count_missed=False)
            is not None
        )
        holder = holders.get(src.district_id)
        views.append(
            SourceScheduleView(
                src.district_id,
                src.district,
                src.source,
                _summary(src),
                src.schedule.timezone,
                [s.at for s in slots],
                [s.kind for s in slots],
                last,
                row.last_trigger if row is not None else None,
                due,
                is_expired(src.schedule, now),
                holder.run_id if holder is not None and holder.source == src.source else None,
            )
        )
    schedulers = []
    for b in beats:
        at = as_utc(b.heartbeat_at)
        assert at is not None
        schedulers.append(
            {
                "name": b.name,
                "host": b.host,
                "pid": b.pid,
                "last_tick": at.isoformat(),
                "sources": b.sources,
                "running": now - at <= STALE_SCHEDULER,
            }
        )
    if district_id is not None:
        problems = [p for p in problems if p.district_id == district_id]
    return ScheduleOverview(views, problems, schedulers)
