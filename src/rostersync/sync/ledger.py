"""The run ledger: the one place a run's record is written.

Every status change is a compare-and-set: ``UPDATE runs SET status = new … WHERE id = run AND
status IN (the statuses allowed to move to new)`` (:mod:`.states`), narrowed to the status the
caller saw when it gives one. A writer that lost a race (a recovery settled the run, an admin
rejected it) gets :class:`IllegalTransition` naming the status it found, instead of overwriting
it. Other fields (phases, counts, report, heartbeat) are written with :func:`record`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Connection

from rostersync.errors import PublishConflict
from rostersync.store import Store
from rostersync.store.schema import runs
from rostersync.sync.states import RunStatus, sources_of


class IllegalTransition(PublishConflict):
    """A run was asked to move to a status its current status does not allow."""


def record(store: Store, run_id: int, **fields: Any) -> None:
    """Write fields of a run other than its status (phases, counts, report, heartbeat…)."""
    if "status" in fields:
        raise ValueError("a run's status is changed with ledger.transition, not record")
    store.update_run(run_id, **fields)


def _allowed(new: RunStatus, expect: Iterable[str] | None) -> list[str]:
    allowed = {s.value for s in sources_of(new)}
    if expect is not None:
        allowed &= {str(s) for s in expect}
    return sorted(allowed)


def transition(
    store: Store,
    run_id: int,
    new: RunStatus,
    *,
    expect: Iterable[str] | None = None,
    **fields: Any,
) -> None:
    """Move a run to ``new`` (with other fields in the same write); raises
    :class:`IllegalTransition` when its current status does not allow it."""
    allowed = _allowed(new, expect)
    if not store.update_run(run_id, only_if_status=allowed, status=new.value, **fields):
        current = store.get_run(run_id).status
        raise IllegalTransition(
            f"Run {run_id} is {current}: it cannot become {new.value}",
            hint=f"see `rostersync runs show {run_id}`",
        )


def transition_in(
    conn: Connection,
    run_id: int,
    old: str,
    new: RunStatus,
    *,
    owner_was: str | None = None,
    **values: Any,
) -> bool:
    """:func:`transition` inside the caller's transaction, from exactly ``old`` (and the owner
    ``owner_was``), with raw column values; False when someone else moved the run first."""
    if old not in _allowed(new, [old]):
        raise IllegalTransition(f"Run {run_id} is {old}: it cannot become {new.value}")
    owner = runs.c.owner.is_(None) if owner_was is None else runs.c.owner == owner_was
    stmt = (
        runs.update()
        .where(runs.c.id == run_id)
        .where(runs.c.status == old)
        .where(owner)
        .values(status=new.value, **values)
    )
    return bool(conn.execute(stmt).rowcount == 1)


__all__ = ["IllegalTransition", "RunStatus", "record", "transition", "transition_in"]
