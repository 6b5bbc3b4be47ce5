"""Recovering runs whose process died: every start (sync, worker, scheduler, serve) settles them.

A run records its owner (``host:pid:start``, :mod:`rostersync.liveness`). A run still ``running`` or
``publishing`` whose owner is dead — at once on the same host, after :data:`STALE_ELSEWHERE`
without a heartbeat when the owner ran elsewhere or is unknown — is settled from what the
database says happened:

- ``publishing`` whose roster version was committed (the process died after the publish's one
  transaction, before recording it) → ``succeeded`` with that version;
- ``publishing`` of an approval that did not commit → back to ``held``: approving it again works;
- ``publishing`` of a sync that did not commit → ``failed``, the last accepted version serving;
- ``running`` → ``failed`` with the reason; nothing was published.

Each settlement is a compare-and-set on the status and owner seen, so two recovering processes
never both settle a run.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from rostersync.clock import as_utc, utcnow
from rostersync.liveness import owner_alive
from rostersync.logs import get_logger
from rostersync.settings import Settings
from rostersync.store import Store, open_store
from rostersync.store.schema import roster_versions, runs
from rostersync.sync import ledger
from rostersync.sync.states import IN_FLIGHT as IN_FLIGHT_STATES
from rostersync.sync.states import RunStatus

log = get_logger("sync.recovery")

#: A run whose owner cannot be checked (another host) is recovered after this long without a
#: heartbeat (the run lock renews it every 30 s; a publish renews it when it starts).
STALE_ELSEWHERE = timedelta(minutes=10)

#: Statuses a live process holds a run in.
IN_FLIGHT = tuple(sorted(s.value for s in IN_FLIGHT_STATES))


def _loads(text: str | None) -> dict[str, Any]:
    value = json.loads(text or "{}")
    return value if isinstance(value, dict) else {}


def settle_run(conn: Connection, row: Any, why: str, now: datetime) -> str | None:
    """Settle one interrupted run (a row of ``runs`` as seen); returns its new status, or None
    when another process changed it first."""
    values: dict[str, Any] = {"finished_at": now, "owner": None}
    if row.status == "publishing":
        version = conn.execute(
            sa.select(roster_versions.c.version)
            .where(roster_versions.c.district_id == row.district_id)
            .where(roster_versions.c.run_id == row.id)
        ).scalar()
        summary = _loads(row.change_summary)
        if version is not None:
            values.update(status="succeeded", roster_version=version, error=None)
        elif summary.get("approved_by"):
            summary["interrupted_approval"] = {
                "by": summary.pop("approved_by"),
                "at": summary.pop("approved_at", None),
                "why": why,
            }
            values.update(
                status="held", finished_at=row.finished_at, error=None,
                change_summary=json.dumps(summary),
            )  # fmt: skip
        else:
            values.update(
                status="failed",
                error=f"interrupted during publish ({why}); nothing was published, the last "
                "accepted version is still serving",
            )
    else:
        values.update(
            status="failed",
            error=f"interrupted ({why}) before publishing; nothing was published",
        )
    new = RunStatus(values.pop("status"))
    if not ledger.transition_in(conn, row.id, row.status, new, owner_was=row.owner, **values):
        return None
    log.warning("interrupted run recovered", run=row.id, was=row.status, now=new.value)
    return new.value


def recover_interrupted_runs(
    store: Store,
    district_id: int | None = None,
    *,
    stale_after: timedelta = STALE_ELSEWHERE,
    now: datetime | None = None,
) -> dict[int, str]:
    """Settle the runs (of one district, or all) whose owner died; returns run id → status."""
    now = now or utcnow()
    stmt = sa.select(runs).where(runs.c.status.in_(IN_FLIGHT))
    if district_id is not None:
        stmt = stmt.where(runs.c.district_id == district_id)
    settled: dict[int, str] = {}
    with store.engine.begin() as conn:
        for row in conn.execute(stmt).all():
            alive = owner_alive(row.owner)
            if alive:
                continue
            beat = as_utc(row.heartbeat_at or row.started_at or row.created_at)
            if alive is None and beat is not None and now - beat < stale_after:
                continue
            why = (
                f"its process {row.owner} is gone"
                if alive is False
                else f"no heartbeat since {beat:%Y-%m-%d %H:%M:%S} UTC"
                if beat is not None
                else "no heartbeat"
            )
            status = settle_run(conn, row, why, now)
            if status is not None:
                settled[row.id] = status
    return settled


def recover_at_start(settings: Settings) -> dict[int, str]:
    """:func:`recover_interrupted_runs` for a program starting (``serve``): never raises, so a
    store that is not ready is reported by the program's own checks, not here."""
    try:
        store = open_store(settings)
    except Exception as exc:
        log.warning("interrupted runs not checked", error=str(exc).splitlines()[0])
        return {}
    try:
        return recover_interrupted_runs(store)
    except Exception as exc:
        log.warning("interrupted runs not checked", error=str(exc).splitlines()[0])
        return {}
    finally:
        store.dispose()


__all__ = [
    "IN_FLIGHT",
    "STALE_ELSEWHERE",
    "recover_at_start",
    "recover_interrupted_runs",
    "settle_run",
]
