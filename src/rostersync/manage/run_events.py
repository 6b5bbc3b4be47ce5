"""A run's live events, read after a cursor: what the API's Server-Sent Events stream sends.

The run (its owner, :mod:`rostersync.sync`) stores each event in ``run_events`` as it emits it;
a follower reads the rows after the last id it sent, a bounded page at a time, and stops once
the run has settled (held, published, failed, rejected), its owner no longer holds the run's
lock (a run still writes its decision and write-back events after its status settles), and
nothing is left to read. The row id
is the cursor (the SSE ``id``), so a reconnecting client resumes with ``Last-Event-ID``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from rostersync.clock import as_utc
from rostersync.schedule.locks import LockInfo, holder_dead
from rostersync.store import Store
from rostersync.store.engine import translate_errors
from rostersync.store.schema import run_events, run_locks, runs
from rostersync.sync.states import SETTLED

#: The most events one read returns (a follower reads again at once when a page was full).
PAGE = 500


@dataclass(frozen=True)
class StoredEvent:
    """One stored event of a run, with its cursor."""

    id: int
    event: dict[str, Any]


@dataclass(frozen=True)
class EventsPage:
    events: list[StoredEvent]
    #: The run's status when the page was read; ``settled`` once it will not change by itself
    #: and every event stored so far is in this page.
    status: str
    settled: bool
    #: Whether a live process still holds the run's lock (it may emit more events).
    owner_active: bool


def events_after(store: Store, run_id: int, after: int = 0, limit: int = PAGE) -> EventsPage:
    """The run's events stored after cursor ``after``, oldest first, and its status.

    The status is read before the events, so a page that says ``settled`` holds every event
    the run emitted before settling.
    """
    e = run_events.c
    with translate_errors(store.engine), store.engine.connect() as conn:
        status = conn.execute(sa.select(runs.c.status).where(runs.c.id == run_id)).scalar_one()
        locks = conn.execute(sa.select(run_locks).where(run_locks.c.run_id == run_id)).all()
        rows = conn.execute(
            sa.select(run_events)
            .where(e.run_id == run_id, e.id > after)
            .order_by(e.id)
            .limit(limit)
        ).all()
    events = [
        StoredEvent(
            r.id,
            {
                "at": as_utc(r.at).isoformat(),
                "kind": r.kind,
                "phase": r.phase,
                "entity": r.entity,
                "message": r.message,
                "data": json.loads(r.data or "{}"),
            },
        )
        for r in rows
    ]
    active = any(not holder_dead(LockInfo.from_row(lock)) for lock in locks)
    return EventsPage(events, status, status in SETTLED and len(rows) < limit, active)
