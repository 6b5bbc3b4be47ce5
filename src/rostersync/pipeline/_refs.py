"""Which columns reference which entity, and how to rewrite IDs everywhere at once.

Used when records merge (dedup, schools mapping onto one target) so that enrollments, contacts
and agents follow the surviving record, and by the referential cleanup.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from rostersync.model import Roster

#: target entity → (table, column) pairs holding its sourcedId (a list column when it ends in s).
REFERENCES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "users": (
        ("enrollments", "userSourcedId"),
        ("userContacts", "studentSourcedId"),
        ("userContacts", "contactSourcedId"),
        ("users", "agentSourcedIds"),
    ),
    "classes": (("enrollments", "classSourcedId"),),
    "courses": (("classes", "courseSourcedId"),),
    "academicSessions": (
        ("classes", "termSourcedIds"),
        ("courses", "schoolYearSourcedId"),
        ("academicSessions", "parentSourcedId"),
    ),
    "orgs": (
        ("orgs", "parentSourcedId"),
        ("academicSessions", "orgSourcedId"),
        ("courses", "orgSourcedId"),
        ("classes", "schoolSourcedId"),
        ("users", "orgSourcedIds"),
        ("users", "primaryOrgSourcedId"),
        ("enrollments", "schoolSourcedId"),
    ),
}

#: Link tables and the columns that make one of their rows unique.
LINK_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "enrollments": ("classSourcedId", "userSourcedId", "role"),
    "userContacts": ("studentSourcedId", "contactSourcedId"),
}


def rewrite_ids(tables: Roster, entity: str, mapping: pl.DataFrame) -> Roster:
    """Every reference to ``entity`` rewritten by ``mapping`` (columns ``old``, ``new``)."""
    if mapping.height == 0:
        return tables
    old, new = mapping["old"], mapping["new"]
    out = dict(tables)
    for table, column in REFERENCES.get(entity, ()):
        frame = out.get(table)
        if frame is None or frame.height == 0:
            continue
        if isinstance(frame.schema[column], pl.List):
            expr = (
                pl.col(column)
                .list.eval(pl.element().replace(old, new))
                .list.unique(maintain_order=True)
            )
        else:
            expr = pl.col(column).replace(old, new)
        out[table] = frame.with_columns(expr)
    return out


def dedupe_links(tables: Roster) -> tuple[Roster, dict[str, pl.DataFrame]]:
    """Link rows made equal by a rewrite: keep the lowest sourcedId, return the others' mapping."""
    out = dict(tables)
    dropped: dict[str, pl.DataFrame] = {}
    for table, keys in LINK_KEYS.items():
        frame = out.get(table)
        if frame is None or frame.height == 0:
            continue
        survivor = pl.col("sourcedId").min().over(keys)
        flagged = frame.with_columns(survivor.alias("__survivor"))
        extra = flagged.filter(pl.col("sourcedId") != pl.col("__survivor"))
        if extra.height:
            dropped[table] = extra
            out[table] = flagged.filter(pl.col("sourcedId") == pl.col("__survivor")).drop(
                "__survivor"
            )
    return out, dropped
