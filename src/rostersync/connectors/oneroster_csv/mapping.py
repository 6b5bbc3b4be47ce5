"""OneRoster CSV files → canonical tables: the binding's columns onto the canonical model.

Most files map one to one (the canonical model speaks OneRoster). The differences: 1.2 moves a
user's role and orgs to ``roles.csv`` (folded back here: the primary role, every org); 1.2's
finer roles land on the canonical ones (``principal`` → ``administrator``…) with the original
kept in ``metadata``; the 1.2 CSV's ``preferredGivenName``/``preferredFamilyName`` are the
model's ``preferredFirstName``/``preferredLastName``; a user's birth date comes from
``demographics.csv``; extension columns (``metadata.<name>``, unknown extras) and the 1.2 user
fields the model lacks become the record's ``metadata``. Passwords are never imported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import polars as pl

from rostersync.connectors.oneroster_csv._read import ROW, ROWS_SHOWN, FileTable, report_rows
from rostersync.connectors.oneroster_csv._report import ImportReport
from rostersync.model import ENTITIES, Roster, conform, empty_roster, metadata_json

#: 1.2 ``roles.role`` (and 1.1 ``users.role``) → the canonical user role.
ROLE_MAP: Mapping[str, str] = {
    "student": "student",
    "teacher": "teacher",
    "aide": "aide",
    "proctor": "aide",
    "guardian": "guardian",
    "parent": "parent",
    "relative": "relative",
    "administrator": "administrator",
    "districtAdministrator": "administrator",
    "siteAdministrator": "administrator",
    "systemAdministrator": "administrator",
    "principal": "administrator",
    "counselor": "administrator",
}
#: 1.2 user columns the canonical model has no field for: kept in ``metadata``.
USER_EXTRAS_1P2 = ("userMasterIdentifier", "preferredMiddleName", "pronouns")
META_ROLE = "oneroster.role"


def metadata_expr(columns: Sequence[str]) -> pl.Expr:
    """A canonical ``metadata`` text (sorted keys, no spaces) from extra columns; null when the
    row has none of them."""
    if not columns:
        return pl.lit(None, dtype=pl.Utf8).alias("metadata")
    named = sorted((c.removeprefix("metadata."), c) for c in columns)
    struct = pl.struct(pl.col(c).alias(key) for key, c in named).struct.json_encode()
    none = pl.all_horizontal(pl.col(c).is_null() for _, c in named)
    return pl.when(none).then(None).otherwise(struct).alias("metadata")


def ascii_metadata(frame: pl.DataFrame) -> pl.DataFrame:
    """``metadata`` text exactly as :func:`rostersync.model.metadata_json` writes it: Polars
    encodes non-ASCII characters as they are, the canonical text escapes them (only the few
    rows holding such characters are re-encoded)."""
    wide = pl.col("metadata").str.contains(r"[^\x00-\x7f]")
    odd = frame.filter(wide)
    if not odd.height:
        return frame
    fixed = {text: metadata_json(json.loads(text)) for text in odd["metadata"].unique().to_list()}
    return frame.with_columns(
        pl.when(wide)
        .then(pl.col("metadata").replace_strict(fixed, default=None))
        .otherwise(pl.col("metadata"))
        .alias("metadata")
    )


def _common(table: FileTable, source: str, extras: Sequence[str] = ()) -> list[pl.Expr]:
    return [
        pl.col("sourcedId"),
        pl.col("status").fill_null("active"),
        pl.col("dateLastModified"),
        pl.lit(source).alias("source"),
        pl.col("sourcedId").alias("sourceId"),
        metadata_expr([*table.extras, *extras]),
    ]


def _plain(entity: str, table: FileTable, source: str) -> pl.DataFrame:
    names = ENTITIES[entity].field_names
    own = [c for c in table.frame.columns if c in names and c not in _COMMON_NAMES]
    return conform(entity, ascii_metadata(table.frame.select(*_common(table, source), *own)))


_COMMON_NAMES = ("sourcedId", "status", "dateLastModified", "source", "sourceId", "metadata")


def _roles_1p2(roles: FileTable) -> pl.DataFrame:
    """Per user: the primary role, its org, and every org — from the active rows, or from the
    tombstoned ones for a user whose every role a delta deletes."""
    gone = pl.col("status").fill_null("active") == "tobedeleted"
    frame = roles.frame.with_columns(
        (gone.sum().over("userSourcedId") == pl.len().over("userSourcedId")).alias("__all_gone")
    ).filter(~gone | pl.col("__all_gone"))
    ordered = frame.sort(pl.col("userSourcedId"), pl.col("roleType") != "primary", pl.col(ROW))
    return ordered.group_by("userSourcedId", maintain_order=True).agg(
        pl.col("role").first().alias("__role"),
        pl.col("orgSourcedId").filter(pl.col("roleType") == "primary").first().alias("__primary"),
        pl.col("orgSourcedId").unique(maintain_order=True).alias("orgSourcedIds"),
    )


def _users(
    tables: Mapping[str, FileTable], version: str, source: str, report: ImportReport
) -> pl.DataFrame:
    users = tables["users"]
    frame = users.frame
    if frame.select(pl.col("password").is_not_null().any()).item():
        report.notice(
            "users.csv", "passwords are never imported (column ignored)", None, "password"
        )
    extras: list[str] = []
    if version == "1.2":
        frame = frame.rename(
            {"preferredGivenName": "preferredFirstName", "preferredFamilyName": "preferredLastName"}
        )
        extras = list(USER_EXTRAS_1P2)
        roles = tables.get("roles")
        per_user = (
            _roles_1p2(roles)
            if roles is not None
            else pl.DataFrame(
                schema={
                    "userSourcedId": pl.Utf8,
                    "__role": pl.Utf8,
                    "__primary": pl.Utf8,
                    "orgSourcedIds": pl.List(pl.Utf8),
                }
            )
        )
        frame = frame.join(per_user, left_on="sourcedId", right_on="userSourcedId", how="left")
        lacking = frame.filter(pl.col("__role").is_null())
        report_rows(
            report,
            "users.csv",
            "sourcedId",
            lacking[ROW].head(ROWS_SHOWN).to_list(),
            lacking.height,
            "no role for the user in roles.csv (a delta package sends a changed user's "
            "roles.csv rows with it)",
        )
        frame = frame.with_columns(
            pl.coalesce("primaryOrgSourcedId", "__primary").alias("primaryOrgSourcedId")
        )
    else:
        frame = frame.with_columns(
            pl.col("role").alias("__role"),
            pl.col("orgSourcedIds").list.first().alias("primaryOrgSourcedId"),
        )
    sent = pl.col("__role")
    mapped = sent.replace_strict(ROLE_MAP, default=None)
    changed = frame.filter(sent.is_not_null() & (mapped != sent))
    if changed.height:
        pairs = changed.select(sent.unique().sort())["__role"].to_list()
        report.notice(
            "roles.csv" if version == "1.2" else "users.csv",
            "roles without a rostersync equivalent mapped ("
            + ", ".join(f"{r} → {ROLE_MAP[r]}" for r in pairs)
            + f"); the role as sent is kept in metadata.{META_ROLE}",
            None,
            "role",
        )
    frame = frame.with_columns(
        mapped.alias("role"),
        pl.when(mapped != sent).then(sent).otherwise(None).alias(META_ROLE),
    )
    demographics = tables.get("demographics")
    if demographics is not None:
        births = demographics.frame.select(
            pl.col("sourcedId").alias("__demo"), pl.col("birthDate").alias("__birth")
        ).unique("__demo", keep="first")
        frame = frame.join(births, left_on="sourcedId", right_on="__demo", how="left")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias("__birth"))
    names = ENTITIES["users"].field_names
    own = [
        c
        for c in frame.columns
        if c in names and c not in _COMMON_NAMES and c not in ("role", "birthDate")
    ]
    return conform(
        "users",
        ascii_metadata(
            frame.select(
                *_common(users, source, [*extras, META_ROLE]),
                *own,
                pl.col("role"),
                pl.col("__birth").alias("birthDate"),
            )
        ),
    )


def build_roster(
    tables: Mapping[str, FileTable], version: str, source: str, report: ImportReport
) -> Roster:
    """The canonical roster of the files read (tables the package lacks are empty)."""
    roster = empty_roster()
    for entity in ("orgs", "academicSessions", "courses", "classes", "enrollments", "demographics"):
        if entity in tables:
            roster[entity] = _plain(entity, tables[entity], source)
    if "users" in tables:
        roster["users"] = _users(tables, version, source, report)
    return roster
