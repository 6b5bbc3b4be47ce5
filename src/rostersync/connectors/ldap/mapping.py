"""Attribute mapping of directory entries onto canonical users and orgs.

LDAP / Active Directory source: every entry of the students search becomes a ``student`` user,
every entry of the staff search a ``teacher``, ``aide`` or ``administrator`` (by its groups when
``roles_by_group`` says so). Canonical attributes come from the LDAP attributes the mapping
names; the person's groups become ``metadata.groups`` (a sorted list, so filter rules can test
membership) and ``extra_attributes`` become ``metadata.<attribute>``. The values of a school
attribute become the source's schools. Entries are decoded once into columns; the tables are
then assembled and checked as whole columns.
"""

from __future__ import annotations

import base64
import functools
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, get_args

import polars as pl
from ldap3.core.exceptions import LDAPInvalidDnError
from ldap3.utils.dn import parse_dn

from rostersync.connectors.ldap._directory import Entry
from rostersync.connectors.ldap.config import LdapOptions, MappedAttribute, PeopleSearch
from rostersync.errors import SourceDataError
from rostersync.model import ENTITIES, conform, empty_roster, metadata_json

DISTRICT_ID: Final = "district"
#: Attributes holding a binary GUID, shown as Active Directory shows them (little-endian UUID).
BINARY_GUIDS: Final = frozenset({"objectguid"})
#: ``userAccountControl`` bit ACCOUNTDISABLE: the account may not sign in.
ACCOUNT_DISABLED: Final = 0x2
#: How many offending entries an error lists.
SHOWN: Final = 5
_ESCAPED = re.compile(r"\\([0-9A-Fa-f]{2}|.)")


def decode(attribute: str, raw: bytes) -> str:
    """One raw LDAP value as text: UTF-8, a binary GUID as a UUID, other binary as base64."""
    if attribute in BINARY_GUIDS and len(raw) == 16:
        return str(uuid.UUID(bytes_le=raw))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii")


def first(entry: Entry, attribute: str) -> str | None:
    """The first value of an attribute (None when the entry has none)."""
    name = attribute.lower()
    values = entry.values.get(name)
    if not values:
        return None
    text = decode(name, values[0]).strip()
    return text or None


def every(entry: Entry, attribute: str) -> list[str]:
    """Every value of an attribute, decoded, blanks left out."""
    name = attribute.lower()
    return [t for v in entry.values.get(name, []) if (t := decode(name, v).strip())]


def normal_dn(dn: str) -> str:
    """A DN compared case- and space-insensitively (``CN=A, OU=B`` equals ``cn=a,ou=b``)."""
    try:
        parts = parse_dn(dn, escape=False, strip=True)
    except LDAPInvalidDnError:
        return dn.strip().lower()
    return ",".join(f"{a.lower()}={v.lower()}" for a, v, _ in parts)


@functools.lru_cache(maxsize=65536)
def group_name(dn: str) -> str:
    """A group's name as an admin knows it: the value of its DN's first RDN, unescaped (cached:
    the same few groups come back on every member)."""
    try:
        value = parse_dn(dn, escape=False, strip=True)[0][1]
    except (LDAPInvalidDnError, IndexError):
        return dn.strip()
    return unescape(value)


def unescape(value: str) -> str:
    """An RDN value without its escapes (RFC 4514): ``\\,`` is ``,`` and ``\\C3\\A9`` is é."""
    out = bytearray()
    at = 0
    for found in _ESCAPED.finditer(value):
        out += value[at : found.start()].encode("utf-8")
        escaped = found.group(1)
        out += bytes.fromhex(escaped) if len(escaped) == 2 else escaped.encode("utf-8")
        at = found.end()
    out += value[at:].encode("utf-8")
    return out.decode("utf-8", "replace")


def members_by_group(
    groups: Iterable[Entry], name_attribute: str, member_attribute: str
) -> dict[str, list[str]]:
    """group_search: member DN (normalised) → the names of the groups listing it."""
    out: dict[str, set[str]] = {}
    for group in groups:
        name = first(group, name_attribute) or group_name(group.dn)
        for member in every(group, member_attribute):
            out.setdefault(normal_dn(member), set()).add(name)
    return {dn: sorted(names) for dn, names in out.items()}


_SEP: Final = "\x1f"
#: The users columns the decoding fills, each with its type (the others come from conform).
_TEXT_TARGETS: Final = tuple(t for t in get_args(MappedAttribute) if t != "grades")
_SCHEMA: Final = {
    **{t: pl.Utf8() for t in _TEXT_TARGETS},
    "grades": pl.Utf8(),  # joined by _SEP: a list column from Python lists is slow to build
    "sourceId": pl.Utf8(),
    "sourcedId": pl.Utf8(),
    "role": pl.Utf8(),
    "enabledUser": pl.Boolean(),
    "primaryOrgSourcedId": pl.Utf8(),
    "metadata": pl.Utf8(),
    "_dn": pl.Utf8(),
    "_search": pl.Utf8(),
}


@dataclass(frozen=True)
class _Plan:
    """One search's mapping, resolved once (lower-cased LDAP names, as entries hold them)."""

    search: str
    role: str
    id_attribute: str
    id_prefix: str
    text: tuple[tuple[str, str], ...]
    grades: str | None
    school: str | None
    extras: tuple[tuple[str, str], ...]
    roles_by_group: tuple[tuple[str, str], ...]
    account_control: bool

    @classmethod
    def of(cls, options: LdapOptions, name: str, search: PeopleSearch) -> _Plan:
        mapping = options.mapping(search)
        staff = name != "students"
        return cls(
            search=name,
            role=search.role if staff else "student",
            id_attribute=options.id_attribute(search).lower(),
            id_prefix=search.id_prefix,
            text=tuple((t, a.lower()) for t, a in mapping.items() if t != "grades"),
            grades=mapping["grades"].lower() if "grades" in mapping else None,
            school=search.school_attribute.lower() if search.school_attribute else None,
            extras=tuple((a, a.lower()) for a in search.extra_attributes),
            roles_by_group=tuple(search.roles_by_group.items()) if staff else (),
            account_control=options.directory == "active_directory",
        )


def _decoded(values: dict[str, list[bytes]], name: str) -> list[str]:
    return [t for v in values.get(name, ()) if (t := decode(name, v).strip())]


def _one(values: dict[str, list[bytes]], name: str) -> str | None:
    found = values.get(name)
    if not found:
        return None
    return decode(name, found[0]).strip() or None


def _decode_people(
    plan: _Plan,
    entries: Sequence[Entry],
    groups_of: Mapping[str, list[str]] | None,
    cols: dict[str, list[Any]],
) -> None:
    """Append one row per entry to the columns (the only per-entry loop: LDAP values are
    decoded once, here)."""
    mapped = {t for t, _ in plan.text}
    unmapped = [t for t in _TEXT_TARGETS if t not in mapped]
    for entry in entries:
        values = entry.values
        for target, name in plan.text:
            cols[target].append(_one(values, name))
        for target in unmapped:
            cols[target].append(None)
        grades = _decoded(values, plan.grades) if plan.grades else None
        cols["grades"].append(_SEP.join(grades) if grades else None)
        if groups_of is None:
            groups = sorted({group_name(g) for g in _decoded(values, "memberof")})
        else:
            groups = groups_of.get(normal_dn(entry.dn), [])
        role = next((r for g, r in plan.roles_by_group if g in groups), plan.role)
        school = _one(values, plan.school) if plan.school else None
        enabled = True
        if plan.account_control:
            control = _one(values, "useraccountcontrol")
            enabled = not (control and control.isdigit() and int(control) & ACCOUNT_DISABLED)
        meta: dict[str, Any] = {"groups": groups}
        for attribute, name in plan.extras:
            found = _decoded(values, name)
            if found:
                meta[attribute] = found[0] if len(found) == 1 else found
        raw_id = _one(values, plan.id_attribute)
        cols["sourceId"].append(raw_id)
        cols["sourcedId"].append(None if raw_id is None else plan.id_prefix + raw_id)
        cols["role"].append(role)
        cols["enabledUser"].append(enabled)
        cols["primaryOrgSourcedId"].append(school)
        cols["metadata"].append(metadata_json(meta))
        cols["_dn"].append(entry.dn)
        cols["_search"].append(plan.search)


def build_users(
    options: LdapOptions,
    found: Mapping[str, Sequence[Entry]],
    groups_of: Mapping[str, list[str]] | None,
    source: str,
) -> pl.DataFrame:
    """The canonical users of every search; a clear error for entries without an ID or with
    one another entry has too."""
    cols: dict[str, list[Any]] = {name: [] for name in _SCHEMA}
    for name, search in options.searches().items():
        _decode_people(_Plan.of(options, name, search), found.get(name, ()), groups_of, cols)
    if not cols["_dn"]:
        return ENTITIES["users"].empty()
    frame = pl.DataFrame(cols, schema=_SCHEMA).with_columns(
        pl.col("grades").str.split(_SEP),
        pl.when(pl.col("primaryOrgSourcedId").is_not_null())
        .then(pl.concat_list(pl.col("primaryOrgSourcedId")))
        .alias("orgSourcedIds"),
    )
    _check_ids(frame, options, source)
    users = frame.drop("_dn", "_search").with_columns(
        pl.lit("active").alias("status"),
        pl.lit(source).alias("source"),
    )
    return conform("users", users)


def _check_ids(frame: pl.DataFrame, options: LdapOptions, source: str) -> None:
    missing = frame.filter(pl.col("sourcedId").is_null())
    if missing.height:
        shown = [f"{r['_dn']} ({r['_search']})" for r in missing.head(SHOWN).iter_rows(named=True)]
        searches = sorted(set(missing["_search"].to_list()))
        attrs = sorted({options.id_attribute(options.searches()[s]) for s in searches})
        raise SourceDataError(
            f"{missing.height} directory entries have no {' or '.join(attrs)} (their ID): "
            + "; ".join(shown)
            + (" …" if missing.height > SHOWN else ""),
            source=source,
            hint="give those entries the attribute, narrow the filter of connector."
            f"{searches[0]} to entries that have it (e.g. (&(objectClass=user)({attrs[0]}=*))), "
            "or choose another id_attribute",
        )
    dupes = frame.filter(pl.col("sourcedId").is_duplicated()).sort("sourcedId", "_dn")
    if dupes.height:
        shown = [
            f"{r['sourcedId']}: {r['_dn']} ({r['_search']})"
            for r in dupes.head(SHOWN * 2).iter_rows(named=True)
        ]
        raise SourceDataError(
            f"{dupes['sourcedId'].n_unique()} IDs belong to more than one directory entry: "
            + "; ".join(shown),
            source=source,
            hint="an entry found by both the students and the staff search needs narrower "
            "filters; two entries sharing an ID need a unique id_attribute",
        )


def build_orgs(options: LdapOptions, schools: Sequence[str], source: str) -> pl.DataFrame:
    """The district org (when ``district_name`` is set) and one org per school."""
    names = options.school_names
    parent = DISTRICT_ID if options.district_name else None
    rows = pl.DataFrame(
        {
            "sourcedId": list(schools),
            "name": [names.get(s, s) for s in schools],
            "identifier": list(schools),
        },
        schema={"sourcedId": pl.Utf8, "name": pl.Utf8, "identifier": pl.Utf8},
    ).with_columns(
        pl.lit("school").alias("type"),
        pl.lit(parent, dtype=pl.Utf8).alias("parentSourcedId"),
    )
    if options.district_name:
        district = pl.DataFrame(
            {
                "sourcedId": [DISTRICT_ID],
                "name": [options.district_name],
                "identifier": [DISTRICT_ID],
                "type": ["district"],
                "parentSourcedId": [None],
            },
            schema=rows.schema,
        )
        rows = pl.concat([district, rows])
    orgs = rows.with_columns(
        pl.lit("active").alias("status"),
        pl.lit(source).alias("source"),
        pl.col("sourcedId").alias("sourceId"),
    )
    return conform("orgs", orgs)


def school_ids(options: LdapOptions, users: pl.DataFrame) -> list[str]:
    """Every school: those named in ``school_names`` and those people's entries hold."""
    held = users["primaryOrgSourcedId"].drop_nulls().unique().to_list()
    return sorted({*options.school_names, *held})


def build_roster(
    options: LdapOptions,
    found: Mapping[str, Sequence[Entry]],
    groups_of: Mapping[str, list[str]] | None,
    source: str,
    scope: Sequence[str] | None = None,
) -> dict[str, pl.DataFrame]:
    """The canonical roster of one extraction (people and orgs; the other tables empty)."""
    users = build_users(options, found, groups_of, source)
    schools = school_ids(options, users)
    if scope is not None:
        wanted = [str(s) for s in scope]
        unknown = [s for s in wanted if s not in schools]
        if unknown:
            raise SourceDataError(
                "schools_mapping names schools the directory does not have: " + ", ".join(unknown),
                source=source,
                hint="map the schools the school_attribute values hold (or list them in "
                "connector.school_names); `schools_mapping: auto` takes them all",
            )
        users = users.filter(pl.col("primaryOrgSourcedId").is_in(wanted))
        schools = wanted
    roster = empty_roster()
    roster["users"] = users
    roster["orgs"] = build_orgs(options, schools, source)
    return roster
