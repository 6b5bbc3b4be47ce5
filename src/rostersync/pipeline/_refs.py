"""Which columns reference which entity, and how to rewrite IDs everywhere at once.

Used when records merge (dedup, schools mapping onto one target) so that enrollments, contacts
and agents follow the surviving record, and by the referential cleanup.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from rostersync.model import Roster
from rostersync.pipeline._lists import replace_in_list

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
            out[table] = replace_in_list(frame, column, old, new)
        else:
            out[table] = frame.with_columns(pl.col(column).replace(old, new))
    return out


def dedupe_links(
    tables: Roster, entity: str, survivors: pl.Series
) -> tuple[Roster, dict[str, pl.DataFrame]]:
    """Link rows made equal by rewriting ``entity`` IDs onto ``survivors``.

    Only links that point at a survivor can have become equal, so only those are compared;
    of equal links the lowest sourcedId stays. Returns the dropped rows (with ``__survivor``).
    """
    out = dict(tables)
    dropped: dict[str, pl.DataFrame] = {}
    columns = {(t, c) for t, c in REFERENCES.get(entity, ())}
    for table, keys in LINK_KEYS.items():
        frame = out.get(table)
        touched = [c for c in keys if (table, c) in columns]
        if frame is None or frame.height == 0 or not touched:
            continue
        near = pl.any_horizontal([pl.col(c).is_in(survivors.implode()) for c in touched])
        candidates = frame.filter(near).with_columns(
            pl.col("sourcedId").min().over(keys).alias("__survivor")
        )
        extra = candidates.filter(pl.col("sourcedId") != pl.col("__survivor"))
        if extra.height:
            dropped[table] = extra
            gone = extra["sourcedId"].implode()
            out[table] = frame.filter(~pl.col("sourcedId").is_in(gone))
    return out, dropped


def rename_records(tables: Roster, entity: str, mapping: pl.DataFrame) -> Roster:
    """``tables`` with the records of ``entity`` renamed ``old`` → ``new`` (a person's
    demographics too) and every reference to them rewritten."""
    if mapping.height == 0:
        return tables
    old, new = mapping["old"], mapping["new"]
    out = dict(tables)
    out[entity] = out[entity].with_columns(pl.col("sourcedId").replace(old, new))
    if entity == "users" and "demographics" in out:
        out["demographics"] = out["demographics"].with_columns(
            pl.col("sourcedId").replace(old, new)
        )
    return rewrite_ids(out, entity, mapping)
