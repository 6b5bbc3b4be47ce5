"""A run's states and the transitions allowed between them: the one table every writer obeys.

::

    queued ──▶ running ──▶ held ──▶ publishing (approved) ──▶ published
       │          │          └────▶ rejected          └────▶ failed
       │          ├──▶ publishing ──▶ published | failed
       │          ├──▶ published (nothing changed: "unchanged", the current version stays)
       └──────────┴──▶ failed

The stored names are the ones admins and scripts already read: a queued run is ``pending``, a
published (or unchanged) run is ``succeeded``; an approved run goes straight to ``publishing``
(who approved it is in its change summary). A run killed while ``publishing`` an approval goes
back to ``held`` when it is recovered (:mod:`.recovery`). ``failed`` → ``failed`` is allowed so
that the run's outer layer may add what the inner one did not know (phases, the phase it died
in); every other terminal state is final.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """A run's status as stored in ``runs.status``."""

    QUEUED = "pending"
    RUNNING = "running"
    HELD = "held"
    PUBLISHING = "publishing"
    PUBLISHED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"


S = RunStatus

#: from → the statuses a run may move to.
TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    S.QUEUED: frozenset({S.RUNNING, S.FAILED}),
    S.RUNNING: frozenset({S.HELD, S.PUBLISHING, S.PUBLISHED, S.FAILED}),
    S.HELD: frozenset({S.PUBLISHING, S.REJECTED}),
    S.PUBLISHING: frozenset({S.PUBLISHED, S.FAILED, S.HELD}),
    S.PUBLISHED: frozenset(),
    S.FAILED: frozenset({S.FAILED}),
    S.REJECTED: frozenset(),
}

#: A live process drives a run in these; if it dies there, the run must be recovered.
IN_FLIGHT: frozenset[RunStatus] = frozenset({S.RUNNING, S.PUBLISHING})
#: Nothing more happens to a run in these (until an admin acts on a held one).
SETTLED: frozenset[RunStatus] = frozenset({S.HELD, S.PUBLISHED, S.FAILED, S.REJECTED})


def can_move(old: str, new: str) -> bool:
    """Whether a run may go from ``old`` to ``new`` (unknown statuses may not move)."""
    try:
        return RunStatus(new) in TRANSITIONS[RunStatus(old)]
    except ValueError:
        return False


def sources_of(new: RunStatus) -> frozenset[RunStatus]:
    """The statuses from which a run may move to ``new``."""
    return frozenset(old for old, targets in TRANSITIONS.items() if new in targets)


__all__ = ["IN_FLIGHT", "SETTLED", "TRANSITIONS", "RunStatus", "can_move", "sources_of"]
