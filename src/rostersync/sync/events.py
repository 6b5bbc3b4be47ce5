"""A run's events, one stream: phases started and finished, entity progress, warnings, decision.

The run emits typed :class:`RunEvent` values through one interface, :class:`RunEvents`: each is
stored in ``run_events`` (so a finished run can be replayed with ``rostersync runs events RUN``
and an interrupted one shows where it stopped) and handed to the listeners (the CLI's progress
bars, the logs). Progress is stored when an entity finishes and every
:data:`PROGRESS_EVERY_PAGES` pages, not for every page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from rostersync.clock import as_utc, utcnow
from rostersync.logs import get_logger
from rostersync.store.schema import run_events

log = get_logger("sync.events")

EventKind = Literal["phase_started", "phase_finished", "progress", "warning", "decision"]

#: Stored progress: one event every this many pages of an entity (and when it finishes).
PROGRESS_EVERY_PAGES = 10


@dataclass(frozen=True)
class RunEvent:
    """One thing that happened in a run."""

    kind: EventKind
    message: str
    phase: str | None = None
    entity: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "phase": self.phase,
            "entity": self.entity,
            "message": self.message,
            "data": self.data,
        }


Listener = Callable[[RunEvent], None]


class RunEvents:
    """Where a run's events go: the ``run_events`` table and the listeners."""

    def __init__(self, engine: Engine, run_id: int, listeners: list[Listener] | None = None):
        self.engine = engine
        self.run_id = run_id
        self.listeners = list(listeners or [])

    def emit(self, event: RunEvent) -> None:
        """Store the event and tell the listeners; never fails the run."""
        if event.kind != "progress" or self._keep(event):
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        run_events.insert().values(
                            run_id=self.run_id,
                            at=event.at,
                            kind=event.kind,
                            phase=event.phase,
                            entity=event.entity,
                            message=event.message,
                            data=json.dumps(event.data, default=str),
                        )
                    )
            except Exception as exc:  # an event lost is better than a run failed for it
                log.warning("run event not stored", run=self.run_id, error=str(exc))
        for listener in self.listeners:
            listener(event)

    @staticmethod
    def _keep(event: RunEvent) -> bool:
        pages = int(event.data.get("pages_done") or 0)
        return bool(event.data.get("finished")) or pages % PROGRESS_EVERY_PAGES == 0

    def phase_started(self, phase: str) -> None:
        self.emit(RunEvent("phase_started", f"{phase} started", phase=phase))

    def phase_finished(self, phase: str, seconds: float, *, failed: bool = False) -> None:
        what = "failed" if failed else "finished"
        self.emit(
            RunEvent(
                "phase_finished",
                f"{phase} {what} in {seconds:.1f}s",
                phase=phase,
                data={"seconds": round(seconds, 3), "failed": failed},
            )
        )

    def warning(self, message: str, *, phase: str | None = None) -> None:
        self.emit(RunEvent("warning", message, phase=phase))

    def decision(self, status: str, reasons: list[str], **data: Any) -> None:
        text = status + (": " + "; ".join(reasons) if reasons else "")
        self.emit(RunEvent("decision", text, phase="changes", data={"status": status, **data}))


def read_events(engine: Engine, run_id: int) -> list[RunEvent]:
    """A run's stored events, in order."""
    stmt = sa.select(run_events).where(run_events.c.run_id == run_id).order_by(run_events.c.id)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        RunEvent(
            kind=r.kind,
            message=r.message,
            phase=r.phase,
            entity=r.entity,
            data=json.loads(r.data or "{}"),
            at=as_utc(r.at),
        )
        for r in rows
    ]


__all__ = ["EventKind", "Listener", "RunEvent", "RunEvents", "read_events"]
