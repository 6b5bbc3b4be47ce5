"""OneRoster JSON (1.1 and 1.2) → canonical tables.

Each record's fields are picked once as it is decoded (GUIDRefs to their ``sourcedId``, string
booleans to booleans, ``metadata`` to canonical JSON text); types, required fields and enums are
then checked column-wise, and every problem names the collection, the record and the field.
1.2 users carry ``roles`` (the primary role and its org; every org), 1.1 users ``role`` and
``orgs``; finer 1.2 roles land on the canonical ones as in the CSV source, the role as sent kept
in ``metadata``; a user's birth date comes from ``demographics``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from rostersync.connectors.oneroster_csv.mapping import META_ROLE, ROLE_MAP
from rostersync.model import ENTITIES, TIMESTAMP, Roster, conform, empty_roster, metadata_json

Record = dict[str, Any]
Getter = Callable[[Record], Any]

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


def _ref(key: str) -> Getter:
    def get(r: Record) -> Any:
        ref = r.get(key)
        return ref.get("sourcedId") if isinstance(ref, dict) else None

    return get


def _refs(key: str) -> Getter:
    def get(r: Record) -> Any:
        refs = r.get(key)
        if not isinstance(refs, list):
            return None
        return [x["sourcedId"] for x in refs if isinstance(x, dict) and "sourcedId" in x]

    return get


def _text(key: str) -> Getter:
    def get(r: Record) -> Any:
        value = r.get(key)
        return None if value is None or value == "" else str(value)

    return get


def _list(key: str) -> Getter:
    def get(r: Record) -> Any:
        value = r.get(key)
        return [str(v) for v in value] if isinstance(value, list) else None

    return get


def _meta(r: Record) -> Any:
    value = r.get("metadata")
    return metadata_json(value) if isinstance(value, dict) and value else None


def _user_ids(r: Record) -> Any:
    ids = r.get("userIds")
    if not isinstance(ids, list):
        return None
    return [f"{i.get('type')}:{i.get('identifier')}" for i in ids if isinstance(i, dict)]


def _roles(r: Record) -> tuple[Any, Any, Any]:
    """(role, primary org, orgs) of a 1.2 user's ``roles``."""
    roles = [x for x in r.get("roles") or [] if isinstance(x, dict)]
    if not roles:
        return None, None, None
    primary = next((x for x in roles if x.get("roleType") == "primary"), roles[0])
    org = primary.get("org")
    orgs: list[str] = []
    for x in roles:
        ref = x.get("org")
        if isinstance(ref, dict) and ref.get("sourcedId") and ref["sourcedId"] not in orgs:
            orgs.append(str(ref["sourcedId"]))
    return primary.get("role"), org.get("sourcedId") if isinstance(org, dict) else None, orgs


_BASE: dict[str, Getter] = {
    "sourcedId": _text("sourcedId"),
    "status": _text("status"),
    "dateLastModified": _text("dateLastModified"),
    "metadata": _meta,
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

FIELDS: dict[str, dict[str, Getter]] = {
    "orgs": {
        "name": _text("name"),
        "type": _text("type"),
        "identifier": _text("identifier"),
        "parentSourcedId": _ref("parent"),
    },
    "academicSessions": {
        "title": _text("title"),
        "type": _text("type"),
        "startDate": _text("startDate"),
        "endDate": _text("endDate"),
        "parentSourcedId": _ref("parent"),
        "schoolYear": _text("schoolYear"),
    },
    "courses": {
        "title": _text("title"),
        "schoolYearSourcedId": _ref("schoolYear"),
        "courseCode": _text("courseCode"),
        "grades": _list("grades"),
        "orgSourcedId": _ref("org"),
        "subjects": _list("subjects"),
        "subjectCodes": _list("subjectCodes"),
    },
    "classes": {
        "title": _text("title"),
        "grades": _list("grades"),
        "courseSourcedId": _ref("course"),
        "classCode": _text("classCode"),
        "classType": _text("classType"),
        "location": _text("location"),
        "schoolSourcedId": _ref("school"),
        "termSourcedIds": _refs("terms"),
        "subjects": _list("subjects"),
        "subjectCodes": _list("subjectCodes"),
        "periods": _list("periods"),
    },
    "users": {
        "enabledUser": _text("enabledUser"),
        "username": _text("username"),
        "userIds": _user_ids,
        "givenName": _text("givenName"),
        "familyName": _text("familyName"),
        "middleName": _text("middleName"),
        "preferredFirstName": _text("preferredFirstName"),
        "preferredLastName": _text("preferredLastName"),
        "identifier": _text("identifier"),
        "email": _text("email"),
        "sms": _text("sms"),
        "phone": _text("phone"),
        "agentSourcedIds": _refs("agents"),
        "grades": _list("grades"),
        # 1.1: role + orgs; 1.2: roles + primaryOrg (see _user_frame)
        "role": _text("role"),
        "orgSourcedIds": _refs("orgs"),
        "primaryOrgSourcedId": _ref("primaryOrg"),
    },
    "enrollments": {
        "classSourcedId": _ref("class"),
        "schoolSourcedId": _ref("school"),
        "userSourcedId": _ref("user"),
        "role": _text("role"),
        "primary": _text("primary"),
        "beginDate": _text("beginDate"),
        "endDate": _text("endDate"),
    },
    "demographics": {
        "birthDate": _text("birthDate"),
        "sex": _text("sex"),
        **{f: _text(f) for f in _FLAGS},
        "countryOfBirthCode": _text("countryOfBirthCode"),
        "stateOfBirthAbbreviation": _text("stateOfBirthAbbreviation"),
        "cityOfBirth": _text("cityOfBirth"),
        "publicSchoolResidenceStatus": _text("publicSchoolResidenceStatus"),
    },
}


def raw_frame(entity: str, records: Sequence[Record], version: str) -> pl.DataFrame:
    """The records' fields as text / list columns (one pass over the records)."""
    getters = {**_BASE, **FIELDS[entity]}
    columns: dict[str, list[Any]] = {
        name: [get(r) for r in records] for name, get in getters.items()
    }
    if entity == "users" and version == "1.2":
        picked = [_roles(r) for r in records]
        columns["role"] = [p[0] for p in picked]
        columns["orgSourcedIds"] = [p[2] for p in picked]
        columns["__rolesPrimary"] = [p[1] for p in picked]
    if entity == "users":
        # A role without a canonical equivalent is kept, as sent, in the metadata.
        for i, role in enumerate(columns["role"]):
            if role is not None and ROLE_MAP.get(role, role) != role:
                meta = records[i].get("metadata")
                kept = dict(meta) if isinstance(meta, dict) else {}
                kept[META_ROLE] = role
                columns["metadata"][i] = metadata_json(kept)
    schema = {
        name: pl.List(pl.Utf8)
        if isinstance(ENTITIES[entity].schema.get(name), pl.List)
        else pl.Utf8
        for name in columns
    }
    return pl.DataFrame(columns, schema=schema)


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
