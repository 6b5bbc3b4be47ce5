"""One scheduled or on-demand run, executed the same way by every executor.

:func:`execute_run` takes the district's run lock, records the run (with its trigger:
``manual``, ``scheduled``, ``missed``, ``first_day_of_school`` or ``retry``), keeps the lock and
the run's heartbeat alive while the sync works, and records the outcome. The sync itself is a
:class:`RunFunction` passed in: in production the connector engineer's sync entry point
(:func:`sync_run_function`), in tests any real function that writes to the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from rostersync.clock import utcnow
from rostersync.errors import FatalError, RostersyncError
from rostersync.liveness import process_identity
from rostersync.logs import get_logger
from rostersync.schedule.locks import DEFAULT_TTL, Clock, RunLocks, hold_run_lock
from rostersync.store import RunRecord, Store
from rostersync.sync import ledger, run_sync
from rostersync.sync.states import RunStatus

log = get_logger("schedule.runner")

TRIGGERS = ("manual", "scheduled", "missed", "first_day_of_school", "retry")


@dataclass(frozen=True)
class RunRequest:
    """What to sync and why; `run_id` is the run already recorded (status ``running``)."""

    district_id: int
    district: str
    source: str
    trigger: str
    run_id: int
    slot: datetime | None = None


class RunFunction(Protocol):
    """Runs one source's sync for an already-recorded run.

    It may set the run's final status itself (``published``, ``held``…); if it returns without
    doing so the run is marked ``succeeded``, and if it raises the run is marked ``failed``.
    """

    def __call__(self, store: Store, request: RunRequest) -> object: ...


def sync_run_function(store: Store, request: RunRequest) -> object:
    """The production run function: the sync package's entry point for one source."""
    return run_sync(
        store,
        request.district_id,
        request.source,
        trigger=request.trigger,
        run_id=request.run_id,
    )


def execute_run(
    store: Store,
    run_function: RunFunction,
    *,
    district_id: int,
    source: str,
    trigger: str = "manual",
    slot: datetime | None = None,
    wait: float = 0.0,
    ttl: timedelta = DEFAULT_TTL,
    clock: Clock = utcnow,
    on_locked: Callable[[int], None] | None = None,
) -> RunRecord:
    """Run one source's sync under the district's lock; returns the recorded run.

    Raises :class:`~rostersync.errors.RunInProgress` (nothing recorded) when the district is
    busy for longer than `wait` seconds. A failing sync is recorded as ``failed`` with its error
    and does not raise: the run history is where failures are read.
    """
    if trigger not in TRIGGERS:
        raise FatalError(f"unknown run trigger {trigger!r}")
    district = store.get_district(district_id)
    locks = RunLocks(store.engine, ttl=ttl, clock=clock)
    lock = locks.acquire(
        district_id, source, wait=wait, trigger=trigger, district_name=district.name
    )
    with hold_run_lock(locks, lock):
        run_id = store.create_run(district_id, trigger=trigger, source=source)
        locks.attach_run(lock, run_id)
        now = clock()
        ledger.transition(
            store,
            run_id,
            RunStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            owner=process_identity(),
        )
        if on_locked is not None:
            on_locked(run_id)
        request = RunRequest(district_id, district.name, source, trigger, run_id, slot)
        log.info("run started", district=district.name, source=source, trigger=trigger, run=run_id)
        error = None
        try:
            run_function(store, request)
        except RostersyncError as exc:
            error = str(exc)
        except Exception as exc:
            error = f"unexpected {type(exc).__name__}: {exc}"
            log.exception("run crashed", district=district.name, source=source, run=run_id)
        record = store.get_run(run_id)
        if record.finished_at is None:
            # the run function did not settle the run itself: its error, or it returned
            if error is not None:
                ledger.transition(store, run_id, RunStatus.FAILED, finished_at=clock(), error=error)
            elif record.status in (RunStatus.RUNNING, RunStatus.QUEUED):
                ledger.transition(store, run_id, RunStatus.PUBLISHED, finished_at=clock())
            else:
                ledger.record(store, run_id, finished_at=clock())
            record = store.get_run(run_id)
        log.info(
            "run finished",
            district=district.name,
            source=source,
            run=run_id,
            status=record.status,
            error=record.error,
        )
        return record
