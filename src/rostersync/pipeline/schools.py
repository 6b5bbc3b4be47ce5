"""Schools mapping: which of the source's schools are synced, renamed or merged onto another.

``auto`` keeps every school. A list keeps the schools whose ``sourceId`` or ``identifier``
(school number) is listed; a ``target`` naming another mapped school merges this school onto it
(every reference follows), any other ``target`` renames the school. Records of schools that are
not mapped are filtered: their calendars, courses, classes and enrollments, and people whose
every school is unmapped (contacts, who often have no school, are kept).
"""

from __future__ import annotations

import polars as pl

from rostersync.config import SourceConfig
from rostersync.model import CONTACT_ROLES, Roster
from rostersync.pipeline._exprs import isin
from rostersync.pipeline._lists import drop_from_list
from rostersync.pipeline._refs import rewrite_ids
from rostersync.pipeline._report import StageReport, entries

STAGE = "schools_mapping"


def schools_mapping(tables: Roster, config: SourceConfig) -> tuple[Roster, StageReport]:
    """Keep, rename and merge the mapped schools; filter records of unmapped ones."""
    if config.schools_mapping == "auto":
        return tables, StageReport.build(STAGE, config.name, tables, tables)
    orgs = tables["orgs"]
    schools = orgs.filter(pl.col("type") == "school")
    parts: list[pl.DataFrame] = []
    # The mapping list is small (one entry per school): a loop over it is fine.
    lookup = {
        **dict(zip(schools["identifier"].to_list(), schools["sourcedId"].to_list(), strict=True)),
        **dict(zip(schools["sourceId"].to_list(), schools["sourcedId"].to_list(), strict=True)),
    }
    lookup.pop(None, None)
    kept: list[str] = []
    renames: dict[str, str] = {}
    merges: dict[str, str] = {}
    unknown: list[str] = []
    for entry in config.schools_mapping:
        sid = lookup.get(entry.source_id)
        if sid is None:
            unknown.append(entry.source_id)
            continue
        kept.append(sid)
        if entry.target is not None:
            target = lookup.get(entry.target)
            if target is not None and target != sid:
                merges[sid] = target
            elif target is None:
                renames[sid] = entry.target
    if unknown:
        parts.append(
            entries(
                pl.DataFrame({"sourcedId": unknown}),
                stage=STAGE,
                entity="orgs",
                action="reported",
                reason="no school with this ID in the source",
                source=config.name,
            )
        )
    mapped = isin(pl.col("sourcedId"), kept)
    dropped_schools = schools.filter(~mapped)
    out = dict(tables)
    out["orgs"] = orgs.filter((pl.col("type") != "school") | mapped)
    parts.append(
        entries(
            dropped_schools,
            stage=STAGE,
            entity="orgs",
            action="filtered",
            reason="school not in schools_mapping",
        )
    )
    gone = dropped_schools["sourcedId"]
    for table, column in (
        ("academicSessions", "orgSourcedId"),
        ("courses", "orgSourcedId"),
        ("classes", "schoolSourcedId"),
        ("enrollments", "schoolSourcedId"),
    ):
        frame = out[table]
        hit = isin(pl.col(column), gone).fill_null(False)
        parts.append(
            entries(
                frame.filter(hit),
                stage=STAGE,
                entity=table,
                action="filtered",
                reason="school not in schools_mapping",
            )
        )
        out[table] = frame.filter(~hit)
    users = out["users"]
    had_orgs = users["orgSourcedIds"].list.len().fill_null(0) > 0
    users = drop_from_list(users, "orgSourcedIds", gone)
    lost_all = pl.lit(had_orgs) & (pl.col("orgSourcedIds").list.len() == 0)
    lost_all = lost_all & ~pl.col("role").is_in(CONTACT_ROLES)
    parts.append(
        entries(
            users.filter(lost_all),
            stage=STAGE,
            entity="users",
            action="filtered",
            reason="none of the user's schools is in schools_mapping",
        )
    )
    out["users"] = users.filter(~lost_all)
    if renames:
        out["orgs"] = out["orgs"].with_columns(
            pl.col("sourcedId")
            .replace_strict(
                pl.Series(list(renames)),
                pl.Series(list(renames.values())),
                default=pl.col("name"),
            )
            .alias("name")
        )
    if merges:
        mapping = pl.DataFrame({"old": list(merges), "new": list(merges.values())})
        merged = out["orgs"].filter(isin(pl.col("sourcedId"), mapping["old"]))
        parts.append(
            entries(
                merged.join(mapping, left_on="sourcedId", right_on="old"),
                stage=STAGE,
                entity="orgs",
                action="merged",
                reason="schools_mapping target",
                detail=pl.col("new"),
            )
        )
        out["orgs"] = out["orgs"].filter(~isin(pl.col("sourcedId"), mapping["old"]))
        out = rewrite_ids(out, "orgs", mapping)
    return out, StageReport.build(STAGE, config.name, tables, out, parts)
