"""OneRoster JSON serializers: one canonical row → one 1.1 or 1.2 JSON object.

Driven by :mod:`.catalog`; rows come from the store as mappings of canonical column → value
(lists and metadata as JSON text, or already decoded). Works on one page of rows at a time, so
the per-row Python here is bounded by the page ``limit``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from rostersync.export.oneroster.catalog import REF_COLLECTIONS, JsonField, Resource


def iso_datetime(value: dt.datetime) -> str:
    """UTC ISO 8601 with milliseconds and ``Z``, the form every OneRoster example uses."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def as_list(value: Any) -> list[str]:
    """A list field from the store: JSON array text, a list, or nothing."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        decoded = json.loads(value)
        return [str(v) for v in decoded] if isinstance(decoded, list) else [str(decoded)]
    return [str(v) for v in value]


def as_metadata(value: Any) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    decoded = json.loads(value) if isinstance(value, str) else dict(value)
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


class Serializer:
    """Turns canonical rows into JSON objects of one resource, with hrefs under ``base_url``."""

    def __init__(self, resource: Resource, base_url: str, version: str) -> None:
        self.resource = resource
        self.base_url = base_url.rstrip("/")
        self.version = version

    def ref(self, ref_type: str, sourced_id: str) -> dict[str, str]:
        collection = REF_COLLECTIONS[ref_type]
        return {
            "href": f"{self.base_url}/{collection}/{quote(sourced_id, safe='')}",
            "sourcedId": sourced_id,
            "type": ref_type,
        }

    def value(self, field: JsonField, row: Mapping[str, Any]) -> Any:
        """The JSON value of ``field`` for ``row``; ``None`` means "leave the field out"."""
        raw = row.get(field.column)
        kind = field.kind
        if kind == "roles":
            return self._roles(row)
        if kind == "refs":
            refs = [self.ref(field.ref_type or "", v) for v in as_list(raw)]
            return refs if refs or field.required else None
        if kind == "list":
            return as_list(raw) or None
        if kind == "userIds":
            return [split_user_id(v) for v in as_list(raw)] or None
        if kind == "metadata":
            return as_metadata(raw)
        if raw is None:
            return "" if field.required and kind == "text" else None
        if kind == "ref":
            return self.ref(field.ref_type or "", str(raw))
        if kind == "boolstr":
            return "true" if raw else "false"
        if kind == "date":
            return raw.isoformat() if isinstance(raw, dt.date) else str(raw)[:10]
        if kind == "datetime":
            return iso_datetime(raw) if isinstance(raw, dt.datetime) else str(raw)
        return str(raw)

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
        out: dict[str, Any] = {}
        for field in fields if fields is not None else self.resource.fields:
            value = self.value(field, row)
            if value is not None:
                out[field.name] = value
        return out
