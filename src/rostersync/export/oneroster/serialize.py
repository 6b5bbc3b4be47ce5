"""OneRoster JSON serializers: one canonical row → one 1.1 or 1.2 JSON object.

Driven by :mod:`.catalog`; rows come from the store as mappings of canonical column → value
(lists and metadata as JSON text, or already decoded). Works on one page of rows at a time, so
the per-row Python here is bounded by the page ``limit``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

import orjson

from rostersync.export.oneroster.catalog import REF_COLLECTIONS, JsonField, Resource


@functools.lru_cache(maxsize=4096)
def iso_datetime(value: dt.datetime) -> str:
    """UTC ISO 8601 with milliseconds and ``Z``, the form every OneRoster example uses.

    Memoized: a publish stamps many rows with the same ``dateLastModified``.
    """
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def as_list(value: Any) -> list[str]:
    """A list field from the store: JSON array text, a list, or nothing."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        decoded = orjson.loads(value)
        return [str(v) for v in decoded] if isinstance(decoded, list) else [str(decoded)]
    return [str(v) for v in value]


def as_metadata(value: Any) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    decoded = orjson.loads(value) if isinstance(value, str) else dict(value)
    return decoded if isinstance(decoded, dict) and decoded else None


def split_user_id(value: str) -> dict[str, str]:
    """``type:identifier`` (optionally in braces, the CSV form) → ``{type, identifier}``."""
    text = value.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    kind, sep, ident = text.partition(":")
    return {"type": kind, "identifier": ident} if sep else {"type": "", "identifier": text}


def role_1p2(role: str) -> str:
    """The canonical (1.1-style) role token in the 1.2 roles vocabulary."""
    return "siteAdministrator" if role == "administrator" else role


Getter = Callable[[Mapping[str, Any]], Any]

#: The values of ``sex`` OneRoster 1.1 allows (1.2 adds ``unspecified`` and ``other``).
SEX_1P1 = frozenset({"male", "female"})
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]*")


class Serializer:
    """Turns canonical rows into JSON objects of one resource, with hrefs under ``base_url``.

    Each field is compiled once into a small function, so serializing a page is a tight loop.
    """

    def __init__(self, resource: Resource, base_url: str, version: str) -> None:
        self.resource = resource
        self.base_url = base_url.rstrip("/")
        self.version = version
        self._prefixes: dict[str, str] = {}
        self._getters: dict[str, Getter] = {f.name: self._getter(f) for f in resource.fields}

    def ref(self, ref_type: str, sourced_id: str) -> dict[str, str]:
        prefix = self._prefixes.get(ref_type)
        if prefix is None:
            prefix = self._prefixes[ref_type] = f"{self.base_url}/{REF_COLLECTIONS[ref_type]}/"
        path = sourced_id if _URL_SAFE.fullmatch(sourced_id) else quote(sourced_id, safe="")
        return {"href": prefix + path, "sourcedId": sourced_id, "type": ref_type}

    def _getter(self, field: JsonField) -> Getter:
        """A function ``row -> JSON value`` for ``field``; ``None`` means "leave it out"."""
        col, kind, ref_type = field.column, field.kind, field.ref_type or ""
        if self.version == "1.1" and self.resource.entity == "demographics" and col == "sex":
            # 1.1 knows only male/female; 1.2's unspecified/other are left out rather than sent
            return lambda row: v if (v := row.get(col)) in SEX_1P1 else None
        if kind == "roles":
            return self._roles
        if kind == "refs":
            required = field.required

            def refs(row: Mapping[str, Any]) -> Any:
                out = [self.ref(ref_type, v) for v in as_list(row.get(col))]
                return out if out or required else None

            return refs
        if kind == "list":
            return lambda row: as_list(row.get(col)) or None
        if kind == "userIds":
            return lambda row: [split_user_id(v) for v in as_list(row.get(col))] or None
        if kind == "metadata":
            return lambda row: as_metadata(row.get(col))
        if kind == "ref":
            return lambda row: None if (v := row.get(col)) is None else self.ref(ref_type, str(v))
        if kind == "boolstr":
            return lambda row: None if (v := row.get(col)) is None else ("true" if v else "false")
        if kind == "date":
            return lambda row: None if (v := row.get(col)) is None else _date_text(v)
        if kind == "datetime":
            return lambda row: None if (v := row.get(col)) is None else _datetime_text(v)
        if field.required:
            return lambda row: "" if (v := row.get(col)) is None else str(v)
        return lambda row: None if (v := row.get(col)) is None else str(v)

    def value(self, field: JsonField, row: Mapping[str, Any]) -> Any:
        """The JSON value of ``field`` for ``row``; ``None`` means "leave the field out"."""
        return self._getters[field.name](row)

    def _roles(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        role = row.get("role")
        if not role:
            return []
        orgs = as_list(row.get("orgSourcedIds"))
        primary = row.get("primaryOrgSourcedId")
        if primary and primary not in orgs:
            orgs.insert(0, primary)
        primary = primary or (orgs[0] if orgs else None)
        return [
            {
                "roleType": "primary" if org == primary else "secondary",
                "role": role_1p2(str(role)),
                "org": self.ref("org", org),
            }
            for org in orgs
        ]

    def one(
        self,
        row: Mapping[str, Any],
        fields: Iterable[JsonField] | None = None,
    ) -> dict[str, Any]:
        """Serialize one row, limited to ``fields`` (default: every field of the resource)."""
        chosen = self.resource.fields if fields is None else fields
        return self.many([row], chosen)[0]

    def many(
        self, rows: Iterable[Mapping[str, Any]], fields: Iterable[JsonField]
    ) -> list[dict[str, Any]]:
        """Serialize a page of rows with the same field selection."""
        getters = [(f.name, self._getters[f.name]) for f in fields]
        out = []
        for row in rows:
            obj = {}
            for name, get in getters:
                value = get(row)
                if value is not None:
                    obj[name] = value
            out.append(obj)
        return out


def _date_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]


def _datetime_text(value: Any) -> str:
    return iso_datetime(value) if isinstance(value, dt.datetime) else str(value)
