"""The approval flow a sync run calls after the pipeline: check, diff, decide, publish or hold.

Seam for the sync run (``rostersync.sync``)::

    outcome = process_candidate(store, district_id, run_id, candidate, options, today=...)
    # outcome.status: "succeeded" (published), "held" (waits for approval) or "failed"

then, later, from the CLI or the web UI: :func:`approve` publishes a held run's change set,
:func:`reject` discards it. A run whose process died mid-publish is settled at the next start by
:func:`rostersync.sync.recovery.recover_interrupted_runs` (the run records its owner process);
the store's one-transaction publish has left the last accepted version serving.

Run statuses written here: ``publishing``, ``succeeded``, ``held``, ``rejected``, ``failed``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from rostersync.changes.decision import ChangeOptions, decide
from rostersync.changes.diff import ChangeSet, apply_changes
from rostersync.changes.threshold import Trip
from rostersync.clock import utcnow
from rostersync.errors import PublishConflict
from rostersync.liveness import process_identity
from rostersync.logs import get_logger
from rostersync.model import Roster, empty_roster
from rostersync.notify import Event, Notifier
from rostersync.store import RosterVersion, Store
from rostersync.store.plans import EntityPlan, PublishPlan
from rostersync.sync import changesets as _frames
from rostersync.sync import ledger
from rostersync.sync.states import RunStatus

log = get_logger("changes")

Status = Literal["succeeded", "held", "failed"]


class RunNotHeld(PublishConflict):
    """Approve/reject asked for a run that is not waiting for approval."""


@dataclass
class Outcome:
    """What the flow did with a run's candidate roster."""

    status: Status
    run_id: int
    version: RosterVersion | None = None
    changes: ChangeSet | None = None
    reasons: list[str] = field(default_factory=list)
    trips: list[Trip] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


@contextmanager
def _phase(phases: dict[str, Any], name: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        phases[name] = {"seconds": round(time.perf_counter() - start, 3)}


def _notify(notifier: Notifier | None, event: Event) -> None:
    if notifier is not None:
        notifier.notify(event)


def _district_name(store: Store, district_id: int) -> str:
    return store.get_district(district_id).name


def fail_run(
    store: Store,
    run_id: int,
    reasons: list[str],
    *,
    notifier: Notifier | None = None,
    summary: Mapping[str, Any] | None = None,
) -> None:
    """Mark a run failed with its reasons (and tell the admins)."""
    fields: dict[str, Any] = {"error": "; ".join(reasons), "finished_at": utcnow()}
    if summary is not None:
        fields["change_summary"] = dict(summary)
    ledger.transition(store, run_id, RunStatus.FAILED, **fields)
    run = store.get_run(run_id)
    log.warning("run failed", run_id=run_id, reason=fields["error"])
    _notify(
        notifier, Event("failed", _district_name(store, run.district_id), run_id, None, reasons)
    )


def process_candidate(
    store: Store,
    district_id: int,
    run_id: int,
    candidate: Roster,
    options: ChangeOptions,
    *,
    today: date,
    extract_error: str | None = None,
    health: Sequence[str] = (),
    notifier: Notifier | None = None,
    now: datetime | None = None,
    phases: dict[str, Any] | None = None,
    trigger: str | None = None,
) -> Outcome:
    """Check the source's health, diff against the last accepted version, then publish or hold.

    Never publishes a failed extract (``extract_error``, a health problem the connectors
    reported in ``health``, or one :func:`~.health.check_source_health` finds), a held run, or
    anything partial. ``phases`` (the run's
    phase timings so far) is extended with ``changes`` and ``publish`` and saved on the run.
    ``trigger`` (what started the run) rides on the "published" notification, so the automatic
    sync of the first day of school announces its new data as such.

    Over the threshold, a run publishes when the configuration's ``allow_over_threshold_until``
    covers ``today`` or when the district's hold override in force at ``now`` (the latest grant,
    unless revoked; see :mod:`.overrides`) covers ``today``.
    """
    phases = dict(phases or {})
    name = _district_name(store, district_id)
    if store.get_run(run_id).status == RunStatus.QUEUED:  # called without a sync around it
        ledger.transition(
            store, run_id, RunStatus.RUNNING, started_at=utcnow(), owner=process_identity()
        )
    with _phase(phases, "changes"):
        base_version = store.current_version(district_id)
        base = store.read_version(district_id) if base_version is not None else empty_roster()
        overrides = _frames.list_overrides(store, district_id)
    with _phase(phases, "diff"):
        decision = decide(
            base,
            candidate,
            options,
            overrides,
            health,
            today=today,
            now=now or utcnow(),
            base_version=base_version,
            extract_error=extract_error,
        )
        if decision.changes is not None:
            _frames.save_changes(store, run_id, decision.changes)
    if decision.verdict == "fail":
        ledger.record(store, run_id, phases=phases)
        fail_run(store, run_id, decision.reasons, notifier=notifier)
        return Outcome("failed", run_id, reasons=decision.reasons)
    changes, trips, summary = decision.changes, decision.trips, decision.summary
    assert changes is not None
    if decision.verdict == "hold":
        ledger.transition(
            store,
            run_id,
            RunStatus.HELD,
            change_summary=summary,
            phases=phases,
            finished_at=utcnow(),
        )
        log.info("run held", run_id=run_id, reasons=decision.reasons)
        _notify(notifier, Event("held", name, run_id, None, decision.reasons, summary))
        return Outcome("held", run_id, None, changes, decision.reasons, trips, summary)

    if decision.unchanged:
        # Nothing changed: the current version stays; no empty version, no "new data" message.
        assert base_version is not None
        ledger.transition(
            store,
            run_id,
            RunStatus.PUBLISHED,
            roster_version=base_version,
            change_summary=summary,
            phases=phases,
            finished_at=utcnow(),
        )
        log.info("run unchanged", run_id=run_id, version=base_version)
        current = store.get_version(district_id, base_version)
        return Outcome("succeeded", run_id, current, changes, [], trips, summary)

    roster = apply_changes(base, changes)
    version = _publish(
        store,
        district_id,
        run_id,
        roster,
        summary,
        phases,
        decision.note,
        notifier,
        base_version,
        changes,
    )
    _notify(
        notifier, Event("published", name, run_id, version.version, [], summary, trigger=trigger)
    )
    return Outcome("succeeded", run_id, version, changes, [], trips, summary)


def publish_plan(changes: ChangeSet) -> PublishPlan:
    """What a change set tells the store to write (so the publish need not diff again)."""
    return PublishPlan(
        changes.base_version,
        {
            name: EntityPlan(
                ch.added["sourcedId"], ch.updated["sourcedId"], ch.deleted["sourcedId"]
            )
            for name, ch in changes.entities.items()
        },
    )


def _publish(
    store: Store,
    district_id: int,
    run_id: int,
    roster: Roster,
    summary: dict[str, Any],
    phases: dict[str, Any],
    note: str | None,
    notifier: Notifier | None,
    base_version: int | None,
    changes: ChangeSet | None = None,
) -> RosterVersion:
    # The change set names what to write: the publish need not diff the roster again.
    plan = publish_plan(changes) if changes is not None else None
    ledger.transition(
        store,
        run_id,
        RunStatus.PUBLISHING,
        change_summary=summary,
        phases=phases,
        heartbeat_at=utcnow(),
        owner=process_identity(),
    )
    try:
        with _phase(phases, "publish"):
            # Pinned to the version the change set was computed from: a version published in
            # between (an approval, a rollback) is never silently undone.
            version = store.publish(
                district_id,
                roster,
                run_id=run_id,
                note=note,
                expected_base=base_version,
                plan=plan,
            )
    except Exception as exc:
        reason = f"publish failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ledger.record(store, run_id, phases=phases)
        fail_run(store, run_id, [reason], notifier=notifier)
        raise
    ledger.transition(
        store,
        run_id,
        RunStatus.PUBLISHED,
        roster_version=version.version,
        phases=phases,
        finished_at=utcnow(),
    )
    log.info("run published", run_id=run_id, version=version.version)
    return version


def _held_run(store: Store, run_id: int, verb: str) -> Any:
    run = store.get_run(run_id)
    if run.status != "held":
        raise RunNotHeld(
            f"Run {run_id} is {run.status}, not held: there is nothing to {verb}",
            hint=f"see `rostersync runs show {run_id}`",
        )
    return run


def approve(
    store: Store, run_id: int, *, actor: str = "cli", notifier: Notifier | None = None
) -> RosterVersion:
    """Publish a held run's change set on top of the version it was computed against.

    Refused (``PublishConflict``) when a newer version was published since: its change set would
    silently undo that version's changes.
    """
    run = _held_run(store, run_id, "approve")
    summary = dict(run.change_summary)
    base_version = summary.get("base_version")
    current = store.current_version(run.district_id)
    if current != base_version:
        raise PublishConflict(
            f"Run {run_id} was computed against roster version {base_version}, but version "
            f"{current} was published since; approving it would undo newer changes",
            hint=f"reject it (`rostersync changes reject {run_id} --reason superseded`) "
            "and run a new sync",
        )
    base = store.read_version(run.district_id) if current is not None else empty_roster()
    roster = apply_changes(base, _frames.load_changes(store, run_id, base_version))
    summary["approved_by"] = actor
    summary["approved_at"] = utcnow().isoformat()
    version = _publish(
        store,
        run.district_id,
        run_id,
        roster,
        summary,
        dict(run.phases),
        f"run {run_id} approved by {actor}",
        notifier,
        current,
    )
    store.audit(actor, "approve_run", run.district_id, run_id=run_id, version=version.version)
    name = _district_name(store, run.district_id)
    _notify(notifier, Event("published", name, run_id, version.version, [], summary))
    return version


def reject(store: Store, run_id: int, *, reason: str, actor: str = "cli") -> None:
    """Discard a held run: nothing is published; the change set is kept for the record."""
    run = _held_run(store, run_id, "reject")
    summary = dict(run.change_summary)
    summary.update(rejected_by=actor, rejected_at=utcnow().isoformat(), reject_reason=reason)
    ledger.transition(
        store,
        run_id,
        RunStatus.REJECTED,
        expect=[RunStatus.HELD],
        error=f"rejected: {reason}",
        change_summary=summary,
    )
    store.audit(actor, "reject_run", run.district_id, run_id=run_id, reason=reason)


__all__ = [
    "ChangeOptions",
    "Outcome",
    "RunNotHeld",
    "approve",
    "fail_run",
    "process_candidate",
    "reject",
]
