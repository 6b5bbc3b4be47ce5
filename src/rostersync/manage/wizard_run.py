"""Done → RUN IMPORT: start a sync of the district now, and follow its progress per entity.

The sync runs in a background thread under the district's run lock (as a scheduled run would,
with the ``manual`` trigger); :func:`import_progress` reads the run's stored events — the same
stream the terminal's progress bars and the run page read — into records per entity, the
phase, and the result once it is decided.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Final

from rostersync.errors import FatalError
from rostersync.manage.runs import show_run
from rostersync.schedule.runner import RunRequest, execute_run
from rostersync.settings import Settings
from rostersync.store import Store
from rostersync.sync.events import read_events
from rostersync.sync.run import run_sync
from rostersync.sync.states import SETTLED

#: How long starting a run may wait for its run record.
START_WAIT_SECONDS: Final = 10.0


def start_import(
    store: Store, settings: Settings, actor: str, district: str | int, source: str
) -> int:
    """RUN IMPORT: start a sync now; the run's id once it is recorded (audited)."""
    d = store.get_district(district)
    started = threading.Event()
    found: dict[str, object] = {}

    def on_locked(run_id: int) -> None:
        found["run_id"] = run_id
        started.set()

    def run(store: Store, request: RunRequest) -> object:
        return run_sync(
            store,
            request.district_id,
            request.source,
            trigger=request.trigger,
            run_id=request.run_id,
            settings=settings,
        )

    def work() -> None:
        try:
            execute_run(store, run, district_id=d.id, source=source, on_locked=on_locked)
        except Exception as exc:  # reported to the caller waiting below
            found["error"] = exc
        finally:
            started.set()

    threading.Thread(target=work, name=f"wizard-import-{d.id}", daemon=True).start()
    if not started.wait(START_WAIT_SECONDS):
        raise FatalError("the import did not start in time", hint="see the district's runs")
    error = found.get("error")
    if isinstance(error, Exception):
        raise error
    run_id = found["run_id"]
    assert isinstance(run_id, int)
    store.audit(actor, "run.start", d.id, run_id=run_id, source=source)
    return run_id


@dataclass(frozen=True)
class ImportProgress:
    """Where a run stands: its status and phase, records per entity, and its result."""

    run_id: int
    status: str
    phase: str | None
    entities: dict[str, dict[str, Any]]
    settled: bool
    decision: str | None = None
    version: int | None = None
    published: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "phase": self.phase,
            "entities": self.entities,
            "settled": self.settled,
            "decision": self.decision,
            "version": self.version,
            "published": self.published,
            "error": self.error,
        }


def import_progress(store: Store, district: str | int, run_id: int) -> ImportProgress:
    """The run's progress from its events; :class:`VersionNotFound` for another district's."""
    d = store.get_district(district)
    run = show_run(store, run_id, d.id)
    entities: dict[str, dict[str, Any]] = {}
    phase = None
    decision = None
    for event in read_events(store.engine, run_id):
        if event.kind == "phase_started":
            phase = event.phase
        if event.kind == "progress" and event.entity:
            entities[event.entity] = {
                "records": int(event.data.get("records", 0)),
                "finished": bool(event.data.get("finished", False)),
            }
        if event.kind == "decision":
            decision = str(event.data.get("status") or event.message)
    summary = (run.counts or {}).get("summary") or {}
    return ImportProgress(
        run_id=run.id,
        status=str(run.status),
        phase=phase,
        entities=entities,
        # The decision event is stored after the run's counts: settled once both are there.
        settled=run.status in SETTLED and decision is not None,
        decision=decision,
        version=run.roster_version,
        published={str(k): int(v) for k, v in summary.items()},
        error=run.error,
    )
