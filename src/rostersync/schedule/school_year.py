"""First day of school: the start of the new school year, from the calendar the source reports.

The calendar is the roster's `academicSessions` table; school years are the rows of type
`schoolYear`, and the first day of the new school year is the earliest `startDate` of a school
year that has not started yet (or starts today), across all of the source's schools.
"""

from __future__ import annotations

from datetime import date

import polars as pl


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
