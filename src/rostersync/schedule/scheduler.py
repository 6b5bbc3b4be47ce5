"""The scheduler loop: each tick finds the due runs, claims them in the store, dispatches them.

A tick (0) saves the watched configuration files that were edited (:mod:`.watch`), (1) reloads
the configured sources when a configuration changed (or every few minutes,
to see new school calendars), (2) reclaims the locks of dead workers, marking their runs failed
and retrying them where the schedule says so, (3) asks the in-memory plan which sources are due,
(4) claims each due slot in ``schedule_state`` with a compare-and-set (so several schedulers
sharing one store never dispatch a slot twice), and (5) hands the claimed runs to the executor.

Missed runs: after downtime a source's slots since its last recorded slot fold into ONE run,
recorded with the trigger ``missed`` and logged with how many slots were missed.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from rostersync.clock import as_utc, utcnow
from rostersync.config import SyncSchedule, pydantic_problems, schedule_problems_as_written
from rostersync.logs import get_logger
from rostersync.schedule.executors import Executor
from rostersync.schedule.locks import DEFAULT_TTL, Clock, LockInfo, RunLocks
from rostersync.schedule.nextrun import is_expired
from rostersync.schedule.plan import (
    DEFAULT_MISFIRE_GRACE,
    DueRun,
    ScheduledSource,
    SchedulePlan,
    SourceKey,
)
from rostersync.schedule.watch import ConfigWatch
from rostersync.store import Store
from rostersync.store.schema import (
    config_versions,
    districts,
    roster_tables,
    schedule_state,
    scheduler_heartbeats,
    sources,
)
from rostersync.sync.calendar import sis_first_days

log = get_logger("schedule.scheduler")

#: Configuration changes are seen at the next tick (a cheap signature query); the full re-read
#: also picks up new school calendars (first day of school), which are published weeks ahead.
DEFAULT_RELOAD_EVERY = timedelta(hours=1)


@dataclass
class TickResult:
    """What one tick did (for logs, the CLI and the benchmark)."""

    at: datetime
    dispatched: list[DueRun] = field(default_factory=list)
    skipped: list[DueRun] = field(default_factory=list)
    reaped: list[LockInfo] = field(default_factory=list)
    retried: list[DueRun] = field(default_factory=list)
    reloaded: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class ScheduleProblem:
    """A district whose `sync_schedule` could not be read."""

    district_id: int
    district: str
    message: str


def _body_sources(body: dict[str, Any]) -> list[str]:
    names = []
    for item in body.get("sources") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            names.append(item["name"])
    return names


#: A configuration version's parsed schedule: (schedule or None, source names, problem or None).
ParsedConfig = tuple[SyncSchedule | None, tuple[str, ...], str | None]


def _parse_config(text: str) -> ParsedConfig:
    """The schedule of a stored configuration version, and its source names.

    A stored version was validated whole when it was saved (``DistrictConfig``, whose
    ``sync_schedule`` is this same model); with thousands of districts a reload reads only the
    section it acts on. A problem is worded as ``config validate`` words it (path: message).
    """
    try:
        body = json.loads(text)
    except ValueError as exc:
        return None, (), f"the stored configuration is not JSON ({exc})"
    try:
        schedule = SyncSchedule.model_validate(body.get("sync_schedule") or {})
    except ValidationError as exc:
        section = body.get("sync_schedule")
        problems = schedule_problems_as_written(pydantic_problems(exc), section, prefix="")
        return None, (), "; ".join(str(p) for p in problems)
    return schedule, tuple(_body_sources(body)), None


def load_scheduled_sources(
    store: Store, today: date, cache: dict[int, ParsedConfig] | None = None
) -> tuple[list[ScheduledSource], list[ScheduleProblem]]:
    """Every district with an active sync schedule (a few queries for all districts).

    Sources come from the district's newest configuration (`sources[].name`), or from the
    store's activated sources when the configuration names none. `first_day` is the earliest
    school-year start on or after yesterday in the sources' currently published calendars or in
    their SIS calendars as last extracted (:mod:`rostersync.sync.calendar`).
    With `cache` (config version id → parsed), only configurations not seen before are read
    and parsed, so a periodic reload of thousands of districts stays cheap.
    """
    latest = (
        sa.select(config_versions.c.district_id, sa.func.max(config_versions.c.version).label("v"))
        .group_by(config_versions.c.district_id)
        .subquery()
    )
    stmt = (
        sa.select(
            districts.c.id,
            districts.c.name,
            config_versions.c.id.label("config_id"),
            config_versions.c.created_at,
        )
        .join(config_versions, config_versions.c.district_id == districts.c.id)
        .join(
            latest,
            (latest.c.district_id == config_versions.c.district_id)
            & (latest.c.v == config_versions.c.version),
        )
        .order_by(districts.c.id)
    )
    sessions = roster_tables["academicSessions"]
    first_days_stmt = (
        sa.select(
            sessions.c.district_id,
            sessions.c.source,
            sa.func.min(sessions.c.startDate).label("first_day"),
        )
        .where(sessions.c.valid_to.is_(None))
        .where(sessions.c.type == "schoolYear")
        .where(sessions.c.status != "tobedeleted")
        .where(sessions.c.startDate >= today - timedelta(days=1))
        .group_by(sessions.c.district_id, sessions.c.source)
    )
    old = cache if cache is not None else {}
    parsed: dict[int, ParsedConfig] = {}
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
        missing = [r.config_id for r in rows if r.config_id not in old]
        for i in range(0, len(missing), 500):
            chunk = missing[i : i + 500]
            bodies = sa.select(config_versions.c.id, config_versions.c.body).where(
                config_versions.c.id.in_(chunk)
            )
            for config_id, text in conn.execute(bodies):
                parsed[config_id] = _parse_config(text)
        first_days = {(r.district_id, r.source): r.first_day for r in conn.execute(first_days_stmt)}
        # The SIS's calendar as last extracted: next year's first day is known even when its
        # calendar is not published yet (early access holds it back until that day).
        for key, day in sis_first_days(conn, today - timedelta(days=1)).items():
            known = first_days.get(key)
            first_days[key] = day if known is None else min(known, day)
        activated: dict[int, list[str]] = {}
        for r in conn.execute(sa.select(sources.c.district_id, sources.c.name)):
            activated.setdefault(r.district_id, []).append(r.name)
    out: list[ScheduledSource] = []
    problems: list[ScheduleProblem] = []
    for district_id, name, config_id, created_at in rows:
        entry = parsed.get(config_id) or old[config_id]
        parsed[config_id] = entry
        schedule, names, problem = entry
        if schedule is None:
            problems.append(ScheduleProblem(district_id, name, problem or "unreadable"))
            continue
        names = names or tuple(activated.get(district_id, ()))
        if not schedule.is_active or not names:
            continue
        days = [first_days[(district_id, n)] for n in names if (district_id, n) in first_days]
        first_day = min(days) if days else None
        out.append(
            ScheduledSource(
                district_id, name, names[0], schedule, first_day, names, as_utc(created_at)
            )
        )
    if cache is not None:
        cache.clear()
        cache.update(parsed)
    return out, problems


def _config_signature(store: Store) -> tuple[Any, ...]:
    with store.engine.connect() as conn:
        cfg = conn.execute(sa.select(sa.func.count(), sa.func.max(config_versions.c.id))).one()
        src = conn.execute(sa.select(sa.func.count(), sa.func.max(sources.c.id))).one()
    return (*cfg, *src)


class Scheduler:
    """Computes due runs and dispatches them to an executor; one instance per loop."""

    def __init__(
        self,
        store: Store,
        executor: Executor,
        *,
        clock: Clock = utcnow,
        name: str | None = None,
        reload_every: timedelta = DEFAULT_RELOAD_EVERY,
        misfire_grace: timedelta = DEFAULT_MISFIRE_GRACE,
        lock_ttl: timedelta = DEFAULT_TTL,
        watch: Iterable[str | Path] = (),
    ) -> None:
        self.store = store
        #: District configuration files whose edits are saved as new versions each tick.
        self.watch = ConfigWatch(store, watch)
        self.executor = executor
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.reload_every = reload_every
        self.plan = SchedulePlan(misfire_grace=misfire_grace)
        self.locks = RunLocks(store.engine, ttl=lock_ttl, clock=clock)
        self.problems: list[ScheduleProblem] = []
        self.started_at = clock()
        self._signature: tuple[Any, ...] | None = None
        self._parsed: dict[int, ParsedConfig] = {}
        self._loaded_at: datetime | None = None

    # -- loading ------------------------------------------------------------------------------

    def _needs_reload(self, now: datetime) -> bool:
        if self._loaded_at is None or now - self._loaded_at >= self.reload_every:
            return True
        return _config_signature(self.store) != self._signature

    def reload(self, now: datetime) -> None:
        """Re-read configurations, calendars and the recorded schedule state."""
        self._signature = _config_signature(self.store)
        found, self.problems = load_scheduled_sources(self.store, now.date(), self._parsed)
        for problem in self.problems:
            log.error(
                "sync_schedule cannot be read; this district will not sync by itself",
                district=problem.district,
                problem=problem.message,
            )
        with self.store.engine.connect() as conn:
            rows = conn.execute(sa.select(schedule_state)).all()
        state = {(r.district_id, r.source): r for r in rows}
        last_slots = {key: as_utc(r.last_slot) for key, r in state.items()}
        fresh = self.plan.load(found, last_slots, now)
        if fresh:
            self._insert_state(fresh, now)
        self._notice_expired(found, state, now)
        self._loaded_at = now

    def _insert_state(self, keys: list[SourceKey], now: datetime) -> None:
        # The plan's starting slot (the schedule's save time when it is earlier), so a
        # scheduler restarted before the owed missed run is dispatched still owes it.
        rows = [
            {"district_id": d, "source": s, "last_slot": self.plan.last_slot((d, s)) or now}
            for d, s in keys
        ]
        try:
            with self.store.engine.begin() as conn:
                conn.execute(schedule_state.insert(), rows)
        except sa.exc.IntegrityError:  # another scheduler inserted some: add the rest
            for row in rows:
                try:
                    with self.store.engine.begin() as conn:
                        conn.execute(schedule_state.insert().values(**row))
                except sa.exc.IntegrityError:
                    continue

    def _notice_expired(
        self, found: Iterable[ScheduledSource], state: dict[SourceKey, Any], now: datetime
    ) -> None:
        for src in found:
            row = state.get(src.key)
            if not is_expired(src.schedule, now) or (row is not None and row.expired_notice_at):
                continue
            log.warning(
                "sync schedule expired: no more scheduled syncs",
                district=src.district,
                source=src.source,
                expires=str(src.schedule.expires),
            )
            self.store.audit(
                "scheduler",
                "schedule.expired",
                src.district_id,
                source=src.source,
                expires=str(src.schedule.expires),
            )
            with self.store.engine.begin() as conn:
                conn.execute(
                    schedule_state.update()
                    .where(schedule_state.c.district_id == src.district_id)
                    .where(schedule_state.c.source == src.source)
                    .values(expired_notice_at=now)
                )

    # -- ticking ------------------------------------------------------------------------------

    def _claim(self, due: list[DueRun], now: datetime) -> tuple[list[DueRun], list[DueRun]]:
        """Record each due slot as dispatched unless another scheduler already did.

        Runs due for the same slot, kind and trigger (typically every district scheduled at
        the same quarter hour) are claimed with one UPDATE; only when another scheduler got
        some of them first are the claimed rows read back.
        """
        claimed: list[DueRun] = []
        lost: list[DueRun] = []
        groups: dict[tuple[datetime, str, str], list[DueRun]] = {}
        for run in due:
            groups.setdefault((run.slot, run.kind, run.trigger), []).append(run)
        key_cols = sa.tuple_(schedule_state.c.district_id, schedule_state.c.source)
        token = f"{self.name}:{uuid.uuid4().hex[:12]}"
        with self.store.engine.begin() as conn:
            for (slot, kind, trigger), runs in groups.items():
                for i in range(0, len(runs), 500):
                    chunk = runs[i : i + 500]
                    keys = [(r.district_id, r.source) for r in chunk]
                    count = conn.execute(
                        schedule_state.update()
                        .where(key_cols.in_(keys))
                        .where(
                            schedule_state.c.last_slot.is_(None)
                            | (schedule_state.c.last_slot < slot)
                        )
                        .values(
                            last_slot=slot,
                            last_kind=kind,
                            last_trigger=trigger,
                            dispatched_at=now,
                            claimed_by=token,
                        )
                    ).rowcount
                    if count == len(chunk):
                        claimed.extend(chunk)
                        continue
                    ours = {
                        (r.district_id, r.source)
                        for r in conn.execute(
                            sa.select(schedule_state.c.district_id, schedule_state.c.source)
                            .where(key_cols.in_(keys))
                            .where(schedule_state.c.claimed_by == token)
                        )
                    }
                    for run in chunk:
                        (claimed if (run.district_id, run.source) in ours else lost).append(run)
        return claimed, lost

    def _retry_interrupted(self, reaped: list[LockInfo], now: datetime) -> list[DueRun]:
        out = []
        for info in reaped:
            src = self.plan.get((info.district_id, info.source))
            if src is None or not src.schedule.retry_interrupted or info.trigger == "retry":
                continue
            out.append(DueRun(info.district_id, src.district, info.source, "retry", now, "retry"))
        return out

    def _heartbeat(self, now: datetime) -> None:
        values = {"heartbeat_at": now, "sources": len(self.plan)}
        with self.store.engine.begin() as conn:
            updated = conn.execute(
                scheduler_heartbeats.update()
                .where(scheduler_heartbeats.c.name == self.name)
                .values(**values)
            ).rowcount
            if not updated:
                conn.execute(
                    scheduler_heartbeats.insert().values(
                        name=self.name,
                        host=socket.gethostname(),
                        pid=os.getpid(),
                        started_at=self.started_at,
                        **values,
                    )
                )

    def tick(self) -> TickResult:
        """One pass: reload if needed, reap dead workers' locks, dispatch what is due."""
        started = time.perf_counter()
        now = self.clock()
        result = TickResult(at=now)
        self.watch.poll()  # a saved file changes the signature: the reload below reads it
        if self._needs_reload(now):
            self.reload(now)
            result.reloaded = True
        result.reaped = self.locks.reap()
        result.retried = self._retry_interrupted(result.reaped, now)
        due = self.plan.tick(now)
        if due:
            result.dispatched, result.skipped = self._claim(due, now)
        for run in result.dispatched:
            if run.missed or run.trigger == "missed":
                log.warning(
                    "running a missed sync once",
                    district=run.district,
                    source=run.source,
                    slot=run.slot.isoformat(),
                    missed_slots=run.missed + 1,
                )
                # Reported where admins look, not only in the worker's log.
                self.store.audit(
                    "scheduler",
                    "schedule.missed_run",
                    run.district_id,
                    source=run.source,
                    slot=run.slot.isoformat(),
                    missed_slots=run.missed + 1,
                )
            self.executor.submit(run)
        for run in result.retried:
            log.warning("retrying an interrupted sync", district=run.district, source=run.source)
            self.executor.submit(run)
        self._heartbeat(now)
        result.seconds = time.perf_counter() - started
        return result

    def close(self) -> None:
        """Forget this scheduler's heartbeat row: it stopped on purpose, not by accident."""
        with self.store.engine.begin() as conn:
            conn.execute(
                scheduler_heartbeats.delete().where(scheduler_heartbeats.c.name == self.name)
            )

    def run_forever(self, stop: threading.Event, interval: float = 30.0) -> None:
        """Tick every `interval` seconds until `stop` is set; a failed tick is logged, not fatal."""
        log.info("scheduler started", name=self.name, interval=interval)
        while not stop.is_set():
            try:
                result = self.tick()
                if result.dispatched or result.reaped:
                    log.info(
                        "scheduler tick",
                        dispatched=len(result.dispatched),
                        reaped=len(result.reaped),
                        sources=len(self.plan),
                    )
            except Exception as exc:
                log.error("scheduler tick failed; retrying next tick", error=str(exc))
            stop.wait(interval)
        try:
            self.close()
        except Exception as exc:  # the store went away: the stale heartbeat shows it
            log.warning("could not clear the scheduler heartbeat", error=str(exc))
        log.info("scheduler stopped", name=self.name)
