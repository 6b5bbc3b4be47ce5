"""OneRoster JSON (1.1 and 1.2) → canonical tables.

Each page, decoded by Polars, has its fields picked with column expressions (GUIDRefs to their
``sourcedId``, ``metadata`` to canonical JSON text: see :mod:`._picker`); types, required fields
and roles are then checked column-wise, and every problem names the collection, the record and
the field.
1.2 users carry ``roles`` (the primary role and its org; every org), 1.1 users ``role`` and
``orgs``; finer 1.2 roles land on the canonical ones as in the CSV source, the role as sent kept
in ``metadata``; a user's birth date comes from ``demographics``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import polars as pl

from rostersync.connectors.oneroster_csv.mapping import META_ROLE, ROLE_MAP, ascii_metadata
from rostersync.connectors.oneroster_rest._picker import TEXT_LIST, Picker
from rostersync.model import ENTITIES, TIMESTAMP, Roster, conform, empty_roster, metadata_json

#: Collection path and envelope key of each canonical entity.
COLLECTIONS: dict[str, str] = {
    "orgs": "orgs",
    "academicSessions": "academicSessions",
    "courses": "courses",
    "classes": "classes",
    "users": "users",
    "enrollments": "enrollments",
    "demographics": "demographics",
}

_FLAGS = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
)


def _fields(entity: str, p: Picker, version: str) -> dict[str, pl.Expr]:
    base = {
        "sourcedId": p.text("sourcedId"),
        "status": p.text("status"),
        "dateLastModified": p.text("dateLastModified"),
        "metadata": p.metadata(),
    }
    if entity == "orgs":
        own = {
            "name": p.text("name"),
            "type": p.text("type"),
            "identifier": p.text("identifier"),
            "parentSourcedId": p.ref("parent"),
        }
    elif entity == "academicSessions":
        own = {
            "title": p.text("title"),
            "type": p.text("type"),
            "startDate": p.text("startDate"),
            "endDate": p.text("endDate"),
            "parentSourcedId": p.ref("parent"),
            "schoolYear": p.text("schoolYear"),
        }
    elif entity == "courses":
        own = {
            "title": p.text("title"),
            "schoolYearSourcedId": p.ref("schoolYear"),
            "courseCode": p.text("courseCode"),
            "grades": p.texts("grades"),
            "orgSourcedId": p.ref("org"),
            "subjects": p.texts("subjects"),
            "subjectCodes": p.texts("subjectCodes"),
        }
    elif entity == "classes":
        own = {
            "title": p.text("title"),
            "grades": p.texts("grades"),
            "courseSourcedId": p.ref("course"),
            "classCode": p.text("classCode"),
            "classType": p.text("classType"),
            "location": p.text("location"),
            "schoolSourcedId": p.ref("school"),
            "termSourcedIds": p.refs("terms"),
            "subjects": p.texts("subjects"),
            "subjectCodes": p.texts("subjectCodes"),
            "periods": p.texts("periods"),
        }
    elif entity == "users":
        own = {
            "enabledUser": p.text("enabledUser"),
            "username": p.text("username"),
            "userIds": p.user_ids(),
            "givenName": p.text("givenName"),
            "familyName": p.text("familyName"),
            "middleName": p.text("middleName"),
            "preferredFirstName": p.text("preferredFirstName"),
            "preferredLastName": p.text("preferredLastName"),
            "identifier": p.text("identifier"),
            "email": p.text("email"),
            "sms": p.text("sms"),
            "phone": p.text("phone"),
            "agentSourcedIds": p.refs("agents"),
            "grades": p.texts("grades"),
            "primaryOrgSourcedId": p.ref("primaryOrg"),
        }
        if version == "1.2":
            role, org, orgs = p.roles()
            own |= {"role": role, "orgSourcedIds": orgs, "__rolesPrimary": org}
        else:
            own |= {
                "role": p.text("role"),
                "orgSourcedIds": p.refs("orgs"),
                "__rolesPrimary": pl.lit(None, pl.Utf8),
            }
    elif entity == "enrollments":
        own = {
            "classSourcedId": p.ref("class"),
            "schoolSourcedId": p.ref("school"),
            "userSourcedId": p.ref("user"),
            "role": p.text("role"),
            "primary": p.text("primary"),
            "beginDate": p.text("beginDate"),
            "endDate": p.text("endDate"),
        }
    else:
        own = {
            "birthDate": p.text("birthDate"),
            "sex": p.text("sex"),
            **{f: p.text(f) for f in _FLAGS},
            "countryOfBirthCode": p.text("countryOfBirthCode"),
            "stateOfBirthAbbreviation": p.text("stateOfBirthAbbreviation"),
            "cityOfBirth": p.text("cityOfBirth"),
            "publicSchoolResidenceStatus": p.text("publicSchoolResidenceStatus"),
        }
    return base | own


def raw_frame(
    entity: str, pages: Sequence[pl.DataFrame], version: str, problems: list[str]
) -> pl.DataFrame:
    """The pages' fields as text and text-list columns, columnar (one select per page)."""
    parts: list[pl.DataFrame] = []
    empty = pl.DataFrame()
    for page in pages:
        exprs = _fields(entity, Picker(entity, page, problems), version)
        if not page.height:
            empty = pl.DataFrame(schema=empty_schema(entity, version))
            continue
        parts.append(page.select(e.alias(n) for n, e in exprs.items()))
    if not parts:
        return empty if empty.width else pl.DataFrame(schema=empty_schema(entity, version))
    frame = ascii_metadata(pl.concat(parts, how="vertical_relaxed"))
    if entity == "users":
        frame = _kept_roles(frame)
    return frame


def empty_schema(entity: str, version: str) -> dict[str, pl.DataType]:
    """The raw schema of a collection with no records."""
    probe = _fields(entity, Picker(entity, pl.DataFrame(), []), version)
    return {
        n: TEXT_LIST if isinstance(ENTITIES[entity].schema.get(n), pl.List) else pl.Utf8()
        for n in probe
    }


def _kept_roles(frame: pl.DataFrame) -> pl.DataFrame:
    """A role without a canonical equivalent is kept, as sent, in the metadata (few users)."""
    odd = frame.filter(
        pl.col("role").is_not_null()
        & (pl.col("role").replace_strict(ROLE_MAP, default="") != pl.col("role"))
    )
    if not odd.height:
        return frame
    fixed = {
        sid: metadata_json({**(json.loads(meta) if meta else {}), META_ROLE: role})
        for sid, role, meta in odd.select("sourcedId", "role", "metadata").iter_rows()
    }
    return frame.with_columns(
        pl.col("sourcedId").replace_strict(fixed, default=pl.col("metadata")).alias("metadata")
    )


def _typed(entity: str, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.Expr]]:
    """Text columns cast to the model's types, and the per-column "invalid" expressions."""
    schema = ENTITIES[entity].schema
    exprs: list[pl.Expr] = []
    for name in frame.columns:
        dtype = schema.get(name)
        value = pl.col(name)
        if dtype == pl.Date():
            exprs.append(value.str.to_date("%Y-%m-%d", strict=False).alias(name))
        elif dtype == pl.Boolean():
            lower = value.str.to_lowercase()
            exprs.append(
                pl.when(lower == "true").then(True).when(lower == "false").then(False).alias(name)
            )
        elif dtype == TIMESTAMP:
            exprs.append(
                pl.coalesce(
                    value.str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_zone="UTC", strict=False),
                    value.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_zone="UTC", strict=False),
                )
                .cast(TIMESTAMP)
                .alias(name)
            )
    return frame.with_columns(exprs), exprs


def canonical(
    entity: str, frame: pl.DataFrame, source: str, problems: list[str], version: str
) -> pl.DataFrame:
    """A raw frame as its canonical table; bad values are appended to ``problems``."""
    typed, _ = _typed(entity, frame)
    for name in frame.columns:
        if name.startswith("__") or frame.schema[name] != pl.Utf8:
            continue
        if typed.schema[name] != pl.Utf8:
            bad = typed.filter(pl.col(name).is_null() & frame[name].is_not_null())
            if bad.height:
                sid = bad["sourcedId"][0]
                value = frame.filter(pl.col("sourcedId") == sid)[name][0]
                more = f" (and {bad.height - 1} more records)" if bad.height > 1 else ""
                problems.append(f"{entity} {sid!r}: {name} {value!r} is not valid{more}")
    if entity == "users":
        unknown = typed.filter(pl.col("role").is_not_null() & ~pl.col("role").is_in(list(ROLE_MAP)))
        if unknown.height:
            more = f" (and {unknown.height - 1} more records)" if unknown.height > 1 else ""
            problems.append(
                f"users {unknown['sourcedId'][0]!r}: role {unknown['role'][0]!r} is not a "
                f"OneRoster role{more}"
            )
    for name in ENTITIES[entity].required:
        if name in ("source", "sourceId", "status") or name not in typed.columns:
            continue
        missing = typed.filter(pl.col(name).is_null())
        if missing.height:
            more = f" (and {missing.height - 1} more records)" if missing.height > 1 else ""
            problems.append(
                f"{entity} {missing['sourcedId'][0]!r}: required {name} is missing{more}"
            )
    typed = typed.with_columns(
        pl.col("status").fill_null("active"),
        pl.lit(source).alias("source"),
        pl.col("sourcedId").alias("sourceId"),
    )
    if entity == "users":
        typed = _users(typed, version)
    return conform(entity, typed.select([c for c in typed.columns if c in ENTITIES[entity].schema]))


def _users(frame: pl.DataFrame, version: str) -> pl.DataFrame:
    out = frame.with_columns(pl.col("role").replace_strict(ROLE_MAP, default=None))
    if version == "1.2":
        return out.with_columns(
            pl.coalesce("primaryOrgSourcedId", "__rolesPrimary").alias("primaryOrgSourcedId")
        )
    return out.with_columns(pl.col("orgSourcedIds").list.first().alias("primaryOrgSourcedId"))


def build_roster(tables: dict[str, pl.DataFrame]) -> Roster:
    """The canonical roster; users get their birth date from demographics."""
    roster = empty_roster()
    roster.update(tables)
    demo = roster["demographics"]
    if demo.height and roster["users"].height:
        births = demo.select(pl.col("sourcedId"), pl.col("birthDate").alias("__birth"))
        users = roster["users"].join(births, on="sourcedId", how="left")
        roster["users"] = conform(
            "users", users.with_columns(pl.col("__birth").alias("birthDate")).drop("__birth")
        )
    return roster
