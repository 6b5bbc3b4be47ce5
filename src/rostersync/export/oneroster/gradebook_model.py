"""OneRoster Gradebook objects (categories, line items, results, score scales): their fields per
version, the shape check of a written object, and the JSON each version serves.

A written object is checked here for its own shape (required fields, types, vocabularies, the
sourcedId it may carry); what it refers to (class, student, line item…) is checked against the
store by :mod:`rostersync.export.oneroster.gradebook_rules`. Every problem is collected with the
field's path, so a bad write gets one 400 naming all of them.

Stored form: ``body`` holds the object's own fields, references as bare sourcedIds; serving
turns them into GUIDRefs (``href``, ``sourcedId``, ``type``) under the right service's base URL.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from rostersync.export.oneroster.serialize import iso_datetime

Kind = Literal["categories", "lineItems", "results", "scoreScales"]
KINDS: Final[tuple[Kind, ...]] = ("categories", "lineItems", "results", "scoreScales")
FieldType = Literal["text", "datetime", "date", "number", "boolstr", "ref", "list", "scale"]
#: OneRoster's sourcedId character set (GUID), as every strict consumer checks it.
GUID = re.compile(r"^[0-9A-Za-z.\-_/@]{1,255}$")
SCORE_STATUSES: Final = (
    "exempt",
    "fully graded",
    "not submitted",
    "partially graded",
    "submitted",
)


@dataclass(frozen=True)
class Field:
    """One field of a gradebook object: its JSON name, type, whether a write must carry it,
    the ref type (refs) and the indexed column it is copied to."""

    name: str
    type: FieldType
    required: bool = False
    ref_type: str = ""
    column: str | None = None
    only: Literal["1.1", "1.2", ""] = ""


@dataclass(frozen=True)
class Shape:
    """A gradebook object type: collection and single keys, fields, and ref type."""

    kind: Kind
    single: str
    ref_type: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


SHAPES: Final[dict[Kind, Shape]] = {
    "categories": Shape(
        "categories",
        "category",
        "category",
        (
            Field("title", "text", True, column="title"),
            Field("weight", "number", only="1.2"),
        ),
    ),
    "lineItems": Shape(
        "lineItems",
        "lineItem",
        "lineItem",
        (
            Field("title", "text", True, column="title"),
            Field("description", "text"),
            Field("assignDate", "datetime", True),
            Field("dueDate", "datetime", True),
            Field("class", "ref", True, "class", "classSourcedId"),
            Field("school", "ref", False, "org", "schoolSourcedId", only="1.2"),
            Field("category", "ref", True, "category", "categorySourcedId"),
            Field("gradingPeriod", "ref", False, "academicSession", "academicSessionSourcedId"),
            Field("academicSession", "ref", False, "academicSession", only="1.2"),
            Field("scoreScale", "ref", False, "scoreScale", "scoreScaleSourcedId", only="1.2"),
            Field("resultValueMin", "number"),
            Field("resultValueMax", "number"),
            Field("learningObjectiveSet", "list", only="1.2"),
        ),
    ),
    "results": Shape(
        "results",
        "result",
        "result",
        (
            Field("lineItem", "ref", True, "lineItem", "lineItemSourcedId"),
            Field("student", "ref", True, "user", "studentSourcedId"),
            Field("class", "ref", False, "class", "classSourcedId", only="1.2"),
            Field("scoreScale", "ref", False, "scoreScale", "scoreScaleSourcedId", only="1.2"),
            Field("scoreStatus", "text", True),
            Field("score", "number"),
            Field("textScore", "text", only="1.2"),
            Field("scoreDate", "date", True),
            Field("comment", "text"),
            Field("learningObjectiveSet", "list", only="1.2"),
            Field("inProgress", "boolstr", only="1.2"),
            Field("incomplete", "boolstr", only="1.2"),
            Field("late", "boolstr", only="1.2"),
            Field("missing", "boolstr", only="1.2"),
        ),
    ),
    "scoreScales": Shape(
        "scoreScales",
        "scoreScale",
        "scoreScale",
        (
            Field("title", "text", True, column="title"),
            Field("type", "text", True),
            Field("course", "ref", False, "course"),
            Field("class", "ref", True, "class", "classSourcedId"),
            Field("scoreScaleValue", "scale", True),
        ),
    ),
}
#: Fields a written object may carry besides its own (the service sets status and time).
BASE_FIELDS: Final = ("sourcedId", "status", "dateLastModified", "metadata")
#: Where each ref type is served: (service, collection path).
REF_PATHS: Final[dict[str, tuple[str, str]]] = {
    "class": ("rostering", "classes"),
    "org": ("rostering", "orgs"),
    "user": ("rostering", "users"),
    "course": ("rostering", "courses"),
    "academicSession": ("rostering", "academicSessions"),
    "category": ("gradebook", "categories"),
    "lineItem": ("gradebook", "lineItems"),
    "scoreScale": ("gradebook", "scoreScales"),
}


class Problems(list[str]):
    """Problems of one written object, each starting with the field's path."""


def _datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(dt.UTC)


def _check(f: Field, value: Any, path: str, problems: Problems) -> Any:
    """The stored form of one field's value, or a problem appended (and ``None``)."""
    if f.type == "text":
        if not isinstance(value, str) or (f.required and not value.strip()):
            problems.append(f"{path}: must be {'non-empty ' if f.required else ''}text")
            return None
        if f.name == "scoreStatus" and value not in SCORE_STATUSES:
            problems.append(f"{path}: must be one of {', '.join(SCORE_STATUSES)}, not {value!r}")
            return None
        return value
    if f.type == "datetime":
        parsed = _datetime(value)
        if parsed is None:
            problems.append(f"{path}: must be a UTC date-time such as 2026-12-02T08:00:00Z")
            return None
        return iso_datetime(parsed)
    if f.type == "date":
        if isinstance(value, str) and len(value) >= 10:
            text = value[:10] if len(value) == 10 else None
            found = _datetime(value)
            try:
                day = dt.date.fromisoformat(text) if text else (found.date() if found else None)
            except ValueError:
                day = None
            if day is not None:
                return day.isoformat()
        problems.append(f"{path}: must be a date YYYY-MM-DD (or a UTC date-time)")
        return None
    if f.type == "number":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            problems.append(f"{path}: must be a number")
            return None
        return value
    if f.type == "boolstr":
        if value in (True, False):
            return "true" if value else "false"
        if value not in ("true", "false"):
            problems.append(f"{path}: must be 'true' or 'false'")
            return None
        return value
    if f.type == "ref":
        sid = value.get("sourcedId") if isinstance(value, dict) else None
        if not isinstance(sid, str) or not GUID.fullmatch(sid):
            problems.append(f"{path}.sourcedId: a reference needs a valid sourcedId")
            return None
        return sid
    if f.type == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: must be an array")
            return None
        return value
    # scale: score scale values [{itemValueLHS, itemValueRHS}]
    if not isinstance(value, list) or not value:
        problems.append(f"{path}: must be a non-empty array of {{itemValueLHS, itemValueRHS}}")
        return None
    out = []
    for i, item in enumerate(value):
        lhs = item.get("itemValueLHS") if isinstance(item, dict) else None
        rhs = item.get("itemValueRHS") if isinstance(item, dict) else None
        if not (isinstance(lhs, str) and lhs and isinstance(rhs, str) and rhs):
            problems.append(f"{path}[{i}]: needs itemValueLHS and itemValueRHS as text")
            continue
        out.append({"itemValueLHS": lhs, "itemValueRHS": rhs})
    return out


def parse(shape: Shape, raw: Any, sourced_id: str, version: str) -> tuple[dict[str, Any], Problems]:
    """The stored ``body`` of a written object, and every problem with its shape."""
    problems = Problems()
    where = shape.single
    if not GUID.fullmatch(sourced_id):
        problems.append(
            f"{where}.sourcedId: {sourced_id[:80]!r} is not a valid sourcedId "
            "(1-255 of 0-9 A-Z a-z . - _ / @)"
        )
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a JSON object")
        return {}, problems
    given = raw.get("sourcedId")
    if given is not None and given != sourced_id:
        problems.append(f"{where}.sourcedId: {given!r} differs from the sourcedId in the path")
    fields = [f for f in shape.fields if f.only in ("", version)]
    known = {f.name for f in fields} | set(BASE_FIELDS)
    unknown = sorted(k for k in raw if k not in known)
    if unknown:
        problems.append(
            f"{where}.{unknown[0]}: not a field of a OneRoster {version} {where}"
            + (f" (nor {', '.join(unknown[1:])})" if len(unknown) > 1 else "")
            + "; vendor data belongs in metadata"
        )
    body: dict[str, Any] = {}
    for f in fields:
        value = raw.get(f.name)
        if value is None:
            if f.required:
                problems.append(f"{where}.{f.name}: is required")
            continue
        checked = _check(f, value, f"{where}.{f.name}", problems)
        if checked is not None:
            body[f.name] = checked
    metadata = raw.get("metadata")
    if metadata is not None:
        if isinstance(metadata, dict):
            body["metadata"] = metadata
        else:
            problems.append(f"{where}.metadata: must be a JSON object")
    if shape.kind == "lineItems":
        low, high = body.get("resultValueMin"), body.get("resultValueMax")
        if low is not None and high is not None and low > high:
            problems.append(f"{where}.resultValueMin: {low} is above resultValueMax {high}")
        if "assignDate" in body and "dueDate" in body and body["dueDate"] < body["assignDate"]:
            problems.append(f"{where}.dueDate: is before assignDate")
    return body, problems


def columns(shape: Shape, body: Mapping[str, Any]) -> dict[str, Any]:
    """The indexed columns of an object (copies of its title and references)."""
    out: dict[str, Any] = {
        "title": None,
        "classSourcedId": None,
        "schoolSourcedId": None,
        "lineItemSourcedId": None,
        "studentSourcedId": None,
        "categorySourcedId": None,
        "academicSessionSourcedId": None,
        "scoreScaleSourcedId": None,
    }
    for f in shape.fields:
        if f.column and body.get(f.name) is not None:
            out[f.column] = body[f.name]
    if shape.kind == "lineItems" and body.get("academicSession"):
        out["academicSessionSourcedId"] = body["academicSession"]
    return out


def serve(
    shape: Shape,
    sourced_id: str,
    status: str,
    modified: dt.datetime,
    body: Mapping[str, Any],
    bases: Mapping[str, str],
    version: str,
) -> dict[str, Any]:
    """The JSON object of one stored gradebook object in ``version`` (1.1 or 1.2).

    ``bases`` maps ``rostering`` and ``gradebook`` to their base URLs (the same in 1.1)."""
    out: dict[str, Any] = {
        "sourcedId": sourced_id,
        "status": status,
        "dateLastModified": iso_datetime(modified),
    }
    if body.get("metadata"):
        out["metadata"] = body["metadata"]
    for f in shape.fields:
        if f.only not in ("", version):
            continue
        value = body.get(f.name)
        if version == "1.1" and f.name == "gradingPeriod" and value is None:
            value = body.get("academicSession")
        if value is None:
            continue
        if f.type == "ref":
            service, path = REF_PATHS[f.ref_type]
            out[f.name] = {
                "href": f"{bases[service]}/{path}/{value}",
                "sourcedId": value,
                "type": f.ref_type,
            }
        else:
            out[f.name] = value
    return out
