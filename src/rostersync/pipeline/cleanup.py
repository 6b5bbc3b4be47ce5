"""Referential cleanup, the last stage: no record may point at a record that is not synced.

Removed (and reported): enrollments whose class or user is gone, user–contact links whose
student or contact is gone, demographics of users that are gone. Agents that are gone are
dropped from ``agentSourcedIds``. Kept but reported: classes whose course or school is not in the
roster, courses whose school is not.
"""

from __future__ import annotations

import polars as pl

from rostersync.model import Roster
from rostersync.pipeline._exprs import isin
from rostersync.pipeline._lists import keep_in_list
from rostersync.pipeline._report import StageReport, entries

STAGE = "referential_cleanup"


def _missing(column: str, ids: pl.Series) -> pl.Expr:
    return pl.col(column).is_not_null() & ~isin(pl.col(column), ids)


def referential_cleanup(tables: Roster) -> tuple[Roster, StageReport]:
    """Remove dangling links, report classes and courses without their course or school."""
    out = dict(tables)
    parts: list[pl.DataFrame] = []
    users = out["users"]["sourcedId"]
    classes = out["classes"]["sourcedId"]
    orgs = out["orgs"]["sourcedId"]
    courses = out["courses"]["sourcedId"]

    def remove(table: str, checks: list[tuple[pl.Expr, str]]) -> None:
        frame = out[table]
        reason = pl.coalesce([pl.when(test).then(pl.lit(why)) for test, why in checks])
        flagged = frame.with_columns(reason.alias("__why"))
        gone = pl.col("__why").is_not_null()
        parts.append(
            entries(
                flagged.filter(gone),
                stage=STAGE,
                entity=table,
                action="removed",
                reason=pl.col("__why"),
            )
        )
        out[table] = frame.filter(~flagged["__why"].is_not_null())

    def report(table: str, checks: list[tuple[pl.Expr, str]]) -> None:
        frame = out[table]
        for test, why in checks:
            parts.append(
                entries(
                    frame.filter(test), stage=STAGE, entity=table, action="reported", reason=why
                )
            )

    remove(
        "enrollments",
        [
            (_missing("classSourcedId", classes), "class not synced"),
            (_missing("userSourcedId", users), "user not synced"),
        ],
    )
    remove(
        "userContacts",
        [
            (_missing("studentSourcedId", users), "student not synced"),
            (_missing("contactSourcedId", users), "contact not synced"),
        ],
    )
    remove("demographics", [(_missing("sourcedId", users), "user not synced")])
    out["users"] = keep_in_list(out["users"], "agentSourcedIds", users)
    report(
        "classes",
        [
            (_missing("courseSourcedId", courses), "class without a synced course"),
            (_missing("schoolSourcedId", orgs), "class without a synced school"),
        ],
    )
    report("courses", [(_missing("orgSourcedId", orgs), "course without a synced school")])
    return out, StageReport.build(STAGE, None, tables, out, parts)
