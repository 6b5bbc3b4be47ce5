"""The SIS's calendar as last extracted: each source's next first day of school, recorded by
every run (published, held or unchanged) before early access holds next year back.

The scheduler's first-day-of-school sync reads it beside the published calendar
(:func:`rostersync.schedule.scheduler.load_scheduled_sources`), so the sync at 00:00 on the first
day happens even when next year's calendar was never published — which, without an early-access
opt-in, it is not until that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import polars as pl
import sqlalchemy as sa

from rostersync.clock import utcnow
from rostersync.model import Roster
from rostersync.store import Store
from rostersync.store.schema import sis_calendars


def first_day_of_school(
    sessions: pl.DataFrame, today: date, *, source: str | None = None
) -> date | None:
    """The first day of the next school year on or after `today`, or None if none is known.

    `sessions` is an `academicSessions` table; with `source`, only that source's rows count.
    Sessions marked `tobedeleted` are ignored.
    """
    if sessions.is_empty() or "startDate" not in sessions.columns:
        return None
    mask = (pl.col("type") == "schoolYear") & (pl.col("startDate") >= pl.lit(today))
    if "status" in sessions.columns:
        mask &= pl.col("status").fill_null("active") != "tobedeleted"
    if source is not None and "source" in sessions.columns:
        mask &= pl.col("source") == source
    value = sessions.filter(mask).select(pl.col("startDate").min()).item()
    return value if isinstance(value, date) else None


def record_sis_calendar(
    store: Store, district_id: int, candidate: Roster, today: date, sources: Iterable[str]
) -> dict[str, date | None]:
    """Save each source's next first day of school from the candidate's calendar."""
    sessions = candidate.get("academicSessions")
    found: dict[str, date | None] = {}
    for source in sources:
        found[source] = (
            None if sessions is None else first_day_of_school(sessions, today, source=source)
        )
    now = utcnow()
    t = sis_calendars
    with store.engine.begin() as conn:
        for source, first in found.items():
            conn.execute(t.delete().where(t.c.district_id == district_id, t.c.source == source))
            conn.execute(
                t.insert().values(
                    district_id=district_id, source=source, first_day=first, seen_at=now
                )
            )
    return found


def sis_first_days(conn: sa.Connection, since: date) -> dict[tuple[int, str], date]:
    """(district, source) → the SIS's next first day of school on or after ``since``."""
    t = sis_calendars
    rows = conn.execute(
        sa.select(t.c.district_id, t.c.source, t.c.first_day).where(t.c.first_day >= since)
    )
    return {(r.district_id, r.source): r.first_day for r in rows}
