"""Early access: data of a school year that has not begun is held back until the district opts
in — a deliberate request, made by an admin and audited, shown in every run's report.

Held back (when not opted in), from the candidate roster before the change step: the calendar
of every school year whose start is after the district's today (its ``schoolYear`` rows and
the terms of those years), the courses of those years, the classes all of whose terms are in
them, and those classes' enrollments. Everything else publishes as usual. Opting in lets the
next run publish them. Opting out holds back the years not published yet; a year already
published stays published (apps have it; taking it away would look like an outage of the SIS,
which the source-health check rightly refuses).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from rostersync.clock import as_utc, utcnow
from rostersync.model import Roster
from rostersync.store import Store
from rostersync.store.schema import early_access, roster_tables


@dataclass(frozen=True)
class EarlyAccess:
    """A district's opt-in, and who last changed it."""

    opted_in: bool
    changed_by: str | None = None
    changed_at: datetime | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "opted_in": self.opted_in,
            "changed_by": self.changed_by,
            "changed_at": self.changed_at.isoformat() if self.changed_at else None,
            "note": self.note,
        }


def early_access_of(store: Store, district_id: int) -> EarlyAccess:
    """The district's early-access choice (not opted in until someone opts in)."""
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(early_access).where(early_access.c.district_id == district_id)
        ).first()
    if row is None:
        return EarlyAccess(False)
    return EarlyAccess(bool(row.opted_in), row.changed_by, as_utc(row.changed_at), row.note)


def set_early_access(
    store: Store, district_id: int, opted_in: bool, *, actor: str, note: str | None = None
) -> EarlyAccess:
    """Opt the district in (or out) of early access; audited as ``early_access.opt_in``/``…out``."""
    now = utcnow()
    values = {"opted_in": opted_in, "changed_by": actor, "changed_at": now, "note": note}
    with store.engine.begin() as conn:
        done = conn.execute(
            early_access.update().where(early_access.c.district_id == district_id).values(**values)
        ).rowcount
        if not done:
            conn.execute(early_access.insert().values(district_id=district_id, **values))
    action = "early_access.opt_in" if opted_in else "early_access.opt_out"
    store.audit(actor, action, district_id, note=note)
    return EarlyAccess(opted_in, actor, now, note)


def published_school_years(store: Store, district_id: int) -> set[str]:
    """The school years (``schoolYear``) of the district's current version's calendar."""
    t = roster_tables["academicSessions"]
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.schoolYear)
            .where(t.c.district_id == district_id, t.c.valid_to.is_(None))
            .where(t.c.type == "schoolYear")
            .distinct()
        )
        return {str(r.schoolYear) for r in rows if r.schoolYear is not None}


def hold_back_next_year(
    roster: Roster, today: date, published: Collection[str] = ()
) -> tuple[Roster, dict[str, int], list[str]]:
    """``roster`` without the data of school years starting after ``today`` (except those in
    ``published``, already out); what was held back per table, and those school years."""
    sessions = roster.get("academicSessions")
    if sessions is None or sessions.is_empty():
        return dict(roster), {}, []
    years = (
        sessions.filter((pl.col("type") == "schoolYear") & (pl.col("startDate") > pl.lit(today)))
        .get_column("schoolYear")
        .drop_nulls()
        .unique()
        .sort()
        .to_list()
    )
    years = [y for y in years if str(y) not in set(published)]
    if not years:
        return dict(roster), {}, []
    future = sessions.filter(pl.col("schoolYear").is_in(years))
    session_ids = future["sourcedId"].implode()
    out = dict(roster)
    held: dict[str, int] = {"academicSessions": future.height}
    out["academicSessions"] = sessions.filter(~pl.col("schoolYear").is_in(years))
    courses = roster.get("courses")
    if courses is not None:
        late = pl.col("schoolYearSourcedId").is_in(session_ids).fill_null(False)
        held["courses"] = courses.filter(late).height
        out["courses"] = courses.filter(~late)
    classes = roster.get("classes")
    if classes is not None:
        terms = pl.col("termSourcedIds")
        late = (
            (terms.list.len() > 0) & terms.list.eval(pl.element().is_in(session_ids)).list.all()
        ).fill_null(False)
        gone = classes.filter(late)["sourcedId"]
        held["classes"] = gone.len()
        out["classes"] = classes.filter(~late)
        enrollments = roster.get("enrollments")
        if enrollments is not None:
            hit = pl.col("classSourcedId").is_in(gone.implode())
            held["enrollments"] = enrollments.filter(hit).height
            out["enrollments"] = enrollments.filter(~hit)
    return out, {k: v for k, v in held.items() if v}, [str(y) for y in years]
