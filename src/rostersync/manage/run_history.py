"""Run history of a district, filtered by status and trigger and paged in the database, so a
district with thousands of runs answers a page without reading every run's record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from rostersync.clock import as_utc
from rostersync.errors import ConfigurationError
from rostersync.store import Store
from rostersync.store.engine import translate_errors
from rostersync.store.schema import runs

MAX_PAGE = 200
#: The columns a listed run shows.
SUMMARY = (
    "id",
    "status",
    "trigger",
    "source",
    "created_at",
    "started_at",
    "finished_at",
    "roster_version",
    "error",
)


@dataclass(frozen=True)
class RunHistory:
    """One page of a district's runs (newest first) and how many match the filters."""

    total: int
    offset: int
    #: Each run's summary (no phases, counts or report: see ``show_run`` for those).
    runs: list[dict[str, Any]]
    #: Every trigger the district's runs have (the filter's choices).
    triggers: list[str]


def run_history(
    store: Store,
    district: str | int,
    *,
    status: str | None = None,
    trigger: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> RunHistory:
    """The district's runs matching ``status`` and ``trigger``, ``limit`` from ``offset``."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ConfigurationError(f"limit: give 1 to {MAX_PAGE} runs from an offset ≥ 0")
    d = store.get_district(district)
    where = [runs.c.district_id == d.id]
    if status:
        where.append(runs.c.status == status)
    if trigger:
        where.append(runs.c.trigger == trigger)
    with translate_errors(store.engine), store.engine.connect() as conn:
        total = int(conn.execute(sa.select(sa.func.count()).where(*where)).scalar_one())
        rows = conn.execute(
            sa.select(*(runs.c[name] for name in SUMMARY))
            .where(*where)
            .order_by(runs.c.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
        triggers = sorted(
            conn.execute(
                sa.select(runs.c.trigger).where(runs.c.district_id == d.id).distinct()
            ).scalars()
        )
    return RunHistory(total, offset, [_summary(r._mapping) for r in rows], triggers)


def _summary(row: Any) -> dict[str, Any]:
    started, finished = as_utc(row["started_at"]), as_utc(row["finished_at"])
    created = as_utc(row["created_at"])
    return {
        **{name: row[name] for name in SUMMARY},
        "created_at": created.isoformat() if created else None,
        "started_at": started.isoformat() if started else None,
        "finished_at": finished.isoformat() if finished else None,
        "duration_seconds": round((finished - started).total_seconds(), 1)
        if started and finished
        else None,
    }
