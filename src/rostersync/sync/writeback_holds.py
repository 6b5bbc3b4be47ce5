"""2-way sync, mass grade changes held for approval, like a roster change over the threshold.

When one app changed more than :data:`MASS_CHANGE_SHARE` of a class's scores that were already
written back (and at least :data:`MASS_CHANGE_MIN` of them) within :data:`MASS_CHANGE_WINDOW`,
those changes are not written: a hold is recorded (``gradebook_writeback_holds``) and reported.
An administrator approves it (``rostersync gradebook approve``, :func:`decide_hold`, audited),
and the next write-back sends the changes made up to the approval; a rejected hold keeps them
out until they change again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from rostersync.clock import as_utc, utcnow
from rostersync.errors import ConfigurationError
from rostersync.export.oneroster.gradebook_store import Stored
from rostersync.store import Store
from rostersync.store.schema import gradebook_writeback_holds, gradebook_writeback_links

MASS_CHANGE_SHARE = 0.3
MASS_CHANGE_MIN = 5
MASS_CHANGE_WINDOW = timedelta(hours=1)
H = gradebook_writeback_holds.c


@dataclass
class Held:
    """Results kept back by holds, and one line per hold."""

    ids: set[str] = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)


def held_results(
    store: Store,
    district_id: int,
    results: Sequence[Stored],
    links: Mapping[Any, Any],
    now: datetime,
) -> Held:
    """Which results this write-back must keep back (recording new holds)."""
    lk = gradebook_writeback_links.c
    with store.engine.connect() as conn:
        written_at = {
            r.sourcedId: as_utc(r.written_at)
            for r in conn.execute(
                sa.select(lk.sourcedId, lk.written_at).where(
                    lk.district_id == district_id, lk.kind == "results"
                )
            )
        }
        holds = (
            conn.execute(sa.select(gradebook_writeback_holds).where(H.district_id == district_id))
            .mappings()
            .all()
        )
    totals: dict[str, int] = defaultdict(int)
    changed: dict[tuple[str, str], list[Stored]] = defaultdict(list)
    since = now - MASS_CHANGE_WINDOW
    for r in results:
        if r.status != "active":
            continue
        cls = str(r.body.get("class"))
        totals[cls] += 1
        when = written_at.get(r.sourced_id)
        if when is not None and r.modified > when and r.modified >= since:
            changed[(cls, r.origin)].append(r)
    held = Held()
    new: list[dict[str, Any]] = []
    for (cls, origin), rows in changed.items():
        if len(rows) < MASS_CHANGE_MIN or len(rows) <= MASS_CHANGE_SHARE * totals[cls]:
            continue
        latest = max(r.modified for r in rows)
        mine = [h for h in holds if h["classSourcedId"] == cls and h["origin"] == origin]
        approved = [
            h for h in mine if h["decision"] == "approved" and as_utc(h["decided_at"]) >= latest
        ]
        if approved:
            continue
        pending = [h for h in mine if h["decision"] is None]
        hold_id = pending[0]["id"] if pending else None
        if hold_id is None:
            new.append(
                {
                    "district_id": district_id,
                    "classSourcedId": cls,
                    "origin": origin,
                    "changed": len(rows),
                    "total": totals[cls],
                    "created_at": now,
                }
            )
        held.ids.update(r.sourced_id for r in rows)
        held.reasons.append(
            f"class {cls}: API client {origin} changed {len(rows)} of {totals[cls]} scores "
            f"within {MASS_CHANGE_WINDOW}; held for approval "
            "(`rostersync gradebook holds --district …`)"
            + (f" (hold {hold_id})" if hold_id is not None else "")
        )
    if new:
        with store.engine.begin() as conn:
            conn.execute(gradebook_writeback_holds.insert(), new)
    return held


def list_holds(store: Store, district_id: int) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(gradebook_writeback_holds).where(H.district_id == district_id).order_by(H.id)
        ).mappings()
        return [dict(r) for r in rows]


def decide_hold(store: Store, district_id: int, hold_id: int, decision: str, by: str) -> None:
    """Approve or reject a pending hold (audited)."""
    if decision not in ("approved", "rejected"):
        raise ConfigurationError(
            f"decision must be approved or rejected, not {decision!r}", setting="decision"
        )
    with store.engine.begin() as conn:
        done = conn.execute(
            gradebook_writeback_holds.update()
            .where(H.district_id == district_id, H.id == hold_id, H.decision.is_(None))
            .values(decision=decision, decided_at=utcnow(), decided_by=by)
        ).rowcount
    if not done:
        raise ConfigurationError(
            f"no pending grade write-back hold {hold_id} in this district",
            setting="hold",
            hint="see `rostersync gradebook holds --district …`",
        )
    store.audit(by, f"gradebook write-back hold {hold_id} {decision}", district_id=district_id)
