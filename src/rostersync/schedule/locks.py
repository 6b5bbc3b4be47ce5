"""Run lock: one sync per district at a time, across processes and machines.

The lock is a row in ``run_locks`` keyed by district: taking it is an INSERT that the primary
key lets only one writer win, on SQLite and PostgreSQL alike. The holder renews ``expires_at``
with a heartbeat (its lease). The owner is ``host:pid:start:nonce``: a holder on this host whose
process is gone (killed, crashed) loses the lock at once; a holder on another host loses it when
its lease expires. The next taker, or the scheduler's reaper, deletes the stale row
(compare-and-delete on the owner it saw, so two reapers never both win) and settles that run
(:func:`rostersync.sync.recovery.settle_run`).

Clocks: expiry compares the machines' own UTC clocks, so keep them in sync (NTP) and keep the
time-to-live well above any expected clock skew.
"""

from __future__ import annotations

import threading
import time as _time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from rostersync.clock import as_utc, utcnow
from rostersync.errors import RunInProgress
from rostersync.liveness import owner_alive, process_identity
from rostersync.logs import get_logger
from rostersync.store.schema import run_locks, runs
from rostersync.sync.recovery import IN_FLIGHT, settle_run

log = get_logger("schedule.locks")

Clock = Callable[[], datetime]

#: How long a lock lives without a heartbeat before another process may take it over.
DEFAULT_TTL = timedelta(seconds=120)


def make_owner() -> str:
    """A name for a lock holder, unique across machines, processes and acquisitions, from
    which a process on the same host can tell whether the holder still lives."""
    return f"{process_identity()}:{uuid.uuid4().hex[:8]}"


def holder_dead(info: LockInfo) -> bool:
    """Whether the lock's holder is known to be dead (only on this host)."""
    return owner_alive(info.owner) is False


@dataclass(frozen=True)
class LockInfo:
    """A row of ``run_locks``: who holds a district's lock, for which run, until when."""

    district_id: int
    source: str
    trigger: str
    run_id: int | None
    owner: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> LockInfo:
        return cls(
            district_id=row.district_id,
            source=row.source,
            trigger=row.trigger,
            run_id=row.run_id,
            owner=row.owner,
            acquired_at=as_utc(row.acquired_at),
            heartbeat_at=as_utc(row.heartbeat_at),
            expires_at=as_utc(row.expires_at),
        )


@dataclass
class RunLock:
    """A lock this process holds."""

    district_id: int
    source: str
    owner: str
    run_id: int | None = None
    lost: bool = field(default=False)


class RunLocks:
    """Take, renew, release and reclaim run locks on the store's engine."""

    def __init__(
        self, engine: Engine, *, ttl: timedelta = DEFAULT_TTL, clock: Clock = utcnow
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.clock = clock

    def _now(self) -> datetime:
        return as_utc(self.clock())

    def holder(self, district_id: int) -> LockInfo | None:
        """Who holds the district's lock now (possibly a dead worker whose lock expired)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(run_locks).where(run_locks.c.district_id == district_id)
            ).first()
        return None if row is None else LockInfo.from_row(row)

    def held(self) -> list[LockInfo]:
        """Every lock row, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(run_locks).order_by(run_locks.c.acquired_at)).all()
        return [LockInfo.from_row(r) for r in rows]

    def try_acquire(
        self,
        district_id: int,
        source: str,
        *,
        trigger: str = "manual",
        run_id: int | None = None,
        owner: str | None = None,
        district_name: str | None = None,
    ) -> RunLock:
        """Take the district's lock now, or raise :class:`RunInProgress` naming the holder."""
        owner = owner or make_owner()
        for _ in range(3):
            now = self._now()
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        run_locks.insert().values(
                            district_id=district_id,
                            source=source,
                            trigger=trigger,
                            run_id=run_id,
                            owner=owner,
                            acquired_at=now,
                            heartbeat_at=now,
                            expires_at=now + self.ttl,
                        )
                    )
                return RunLock(district_id, source, owner, run_id)
            except sa.exc.IntegrityError:
                current = self.holder(district_id)
                if current is None:
                    continue  # released between our insert and our look: try again
                if current.expires_at <= now or holder_dead(current):
                    self.reclaim(current)
                    continue
                name = district_name or f"district {district_id}"
                run = f"run {current.run_id}, " if current.run_id is not None else ""
                raise RunInProgress(
                    f"A sync of {name} is already running (source {current.source!r}, {run}"
                    f"{current.trigger}, started {current.acquired_at:%Y-%m-%d %H:%M:%S} UTC)",
                    district=name,
                    source=current.source,
                    run_id=current.run_id,
                    hint="wait for it to finish, or queue this one (--queue)",
                ) from None
        raise RunInProgress(  # pragma: no cover - three lost races in a row
            f"Could not take the lock of district {district_id}: it keeps changing hands",
            hint="try again",
        )

    def acquire(
        self,
        district_id: int,
        source: str,
        *,
        wait: float = 0.0,
        poll: float = 0.5,
        **kwargs: Any,
    ) -> RunLock:
        """Take the lock, waiting up to `wait` seconds for a running sync to finish."""
        deadline = _time.monotonic() + wait
        while True:
            try:
                return self.try_acquire(district_id, source, **kwargs)
            except RunInProgress:
                if _time.monotonic() >= deadline:
                    raise
                _time.sleep(min(poll, max(deadline - _time.monotonic(), 0.01)))

    def attach_run(self, lock: RunLock, run_id: int) -> None:
        """Record which run holds the lock (so a reaper can mark it failed)."""
        lock.run_id = run_id
        with self.engine.begin() as conn:
            conn.execute(
                run_locks.update()
                .where(run_locks.c.district_id == lock.district_id)
                .where(run_locks.c.owner == lock.owner)
                .values(run_id=run_id)
            )

    def heartbeat(self, lock: RunLock) -> bool:
        """Renew the lock (and the run's heartbeat); False if it was lost to a reaper."""
        now = self._now()
        with self.engine.begin() as conn:
            result = conn.execute(
                run_locks.update()
                .where(run_locks.c.district_id == lock.district_id)
                .where(run_locks.c.owner == lock.owner)
                .values(heartbeat_at=now, expires_at=now + self.ttl)
            )
            if lock.run_id is not None:
                conn.execute(runs.update().where(runs.c.id == lock.run_id).values(heartbeat_at=now))
        if result.rowcount == 0:
            lock.lost = True
            log.error(
                "run lock lost",
                district_id=lock.district_id,
                source=lock.source,
                run_id=lock.run_id,
            )
        return not lock.lost

    def release(self, lock: RunLock) -> None:
        """Give the lock back (only if we still hold it)."""
        with self.engine.begin() as conn:
            conn.execute(
                run_locks.delete()
                .where(run_locks.c.district_id == lock.district_id)
                .where(run_locks.c.owner == lock.owner)
            )

    def reclaim(self, stale: LockInfo) -> bool:
        """Delete an expired lock, or one whose holder died on this host, and settle its run;
        False if someone else did first (or the holder is alive and its lease runs)."""
        now = self._now()
        dead = holder_dead(stale)
        if not dead and stale.expires_at > now:
            return False
        stmt = (
            run_locks.delete()
            .where(run_locks.c.district_id == stale.district_id)
            .where(run_locks.c.owner == stale.owner)
        )
        if not dead:
            stmt = stmt.where(run_locks.c.expires_at <= now)
        with self.engine.begin() as conn:
            if conn.execute(stmt).rowcount != 1:
                return False
            if stale.run_id is not None:
                row = conn.execute(sa.select(runs).where(runs.c.id == stale.run_id)).first()
                if row is not None and (row.status in IN_FLIGHT or row.finished_at is None):
                    why = (
                        f"the process holding its lock ({stale.owner.rsplit(':', 1)[0]}) is gone"
                        if dead
                        else "the worker running it stopped responding (no heartbeat since "
                        f"{stale.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC)"
                    )
                    settle_run(conn, row, why, now)
        log.warning(
            "reclaimed a run lock",
            district_id=stale.district_id,
            source=stale.source,
            run_id=stale.run_id,
            owner=stale.owner,
            holder_dead=dead,
        )
        return True

    def reap(self) -> list[LockInfo]:
        """Reclaim every expired lock and every lock whose holder died on this host; returns
        those this call reclaimed."""
        return [info for info in self.held() if self.reclaim(info)]


class _Heartbeat(threading.Thread):
    """Renews a lock every `interval` seconds until stopped."""

    def __init__(self, locks: RunLocks, lock: RunLock, interval: float) -> None:
        super().__init__(name=f"run-lock-heartbeat-{lock.district_id}", daemon=True)
        self.locks, self.lock, self.interval = locks, lock, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                if not self.locks.heartbeat(self.lock):
                    return
            except Exception as exc:  # a database hiccup: try again next beat
                log.warning("run lock heartbeat failed", error=str(exc))


@contextmanager
def hold_run_lock(locks: RunLocks, lock: RunLock) -> Iterator[RunLock]:
    """Keep an acquired lock alive with a heartbeat thread; release it at the end."""
    beat = _Heartbeat(locks, lock, max(locks.ttl.total_seconds() / 4, 0.05))
    beat.start()
    try:
        yield lock
    finally:
        beat.stopped.set()
        beat.join()
        locks.release(lock)


@contextmanager
def acquire_run_lock(
    engine: Engine,
    district_id: int,
    source: str,
    *,
    trigger: str = "manual",
    run_id: int | None = None,
    wait: float = 0.0,
    ttl: timedelta = DEFAULT_TTL,
    district_name: str | None = None,
) -> Iterator[RunLock]:
    """Hold the district's run lock for the duration of a ``with`` block.

    Raises :class:`~rostersync.errors.RunInProgress` at once when another sync of the district
    is running (after waiting up to `wait` seconds: the "queue" behaviour). While held, a
    heartbeat thread renews it; if this process dies, the lock expires after `ttl`.
    """
    locks = RunLocks(engine, ttl=ttl)
    lock = locks.acquire(
        district_id,
        source,
        wait=wait,
        trigger=trigger,
        run_id=run_id,
        district_name=district_name,
    )
    with hold_run_lock(locks, lock) as held:
        yield held
