"""JSON normalisation for PowerSchool payloads: one place that knows the API's serialisation quirks.

The v1 API serialises XML-mapped objects, so a client must tolerate (see the reference, §3):
collections double-wrapped (``{"students": {"student": [...]}}``), a one-element collection sent as
a bare object, empty expansions sent as ``""``, the singular key missing on an empty page, digit
strings sent as numbers (and leading-zero codes as strings), and absent keys instead of nulls. The
schema table API sends every column as a string with ``""`` for null. Everything here turns those
shapes into plain lists of dicts and ``str | None`` scalars, so mapping code never has to care.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSONDict = dict[str, Any]


def as_list(value: Any) -> list[Any]:
    """A collection as a list: ``None``/``""`` → ``[]``, a lone object → ``[obj]``."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [value]


def as_dict(value: Any) -> JSONDict:
    """An object that may be absent or sent as ``""`` (an empty expansion) as a dict."""
    if isinstance(value, dict):
        return value
    return {}


def unwrap_collection(payload: Any, plural: str, singular: str) -> list[JSONDict]:
    """The records of a double-wrapped v1 collection page, whatever shape the page came in.

    ``{"students": {"student": [...]}}`` → the list; a single object → a 1-item list; the singular
    key missing (empty page), ``""`` or ``null`` → ``[]``.
    """
    outer = as_dict(payload).get(plural)
    if isinstance(outer, list):  # tolerated: a bare list under the plural key
        return [r for r in outer if isinstance(r, dict)]
    inner = as_dict(outer).get(singular)
    return [r for r in as_list(inner) if isinstance(r, dict)]


def unwrap_single(payload: Any, key: str) -> JSONDict:
    """A single-object v1 answer: ``{"district": {...}}`` → the inner dict."""
    return as_dict(as_dict(payload).get(key))


def text(value: Any) -> str | None:
    """A scalar as text: numbers that arrived as JSON numbers become their digit string.

    ``None`` and ``""`` become ``None`` (the table API writes nulls as ``""``). Floats that are
    whole numbers (``120.0``) lose the ``.0`` so IDs compare equal whichever way they came.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return None
    return str(value)


def flag(value: Any) -> bool | None:
    """A PowerSchool boolean: ``true``/``false``, ``1``/``0``, ``"1"``/``"0"``, ``"Y"``/``"N"``."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in ("1", "true", "y", "yes", "t"):
        return True
    if s in ("0", "false", "n", "no", "f"):
        return False
    return None


def dig(obj: Any, *path: str) -> Any:
    """``obj[path[0]][path[1]]…`` where any level may be missing or ``""``; ``None`` if absent."""
    cur = obj
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def table_records(payload: Any, table: str | None = None) -> list[JSONDict]:
    """Rows of a schema-table or PowerQuery page as flat dicts (lower-case keys).

    Table API rows are ``{"id": 1, "tables": {"cc": {...}}}``; non-flattened PowerQuery rows look
    the same with any table name; flattened PowerQuery rows are already flat. ``record`` may be
    missing, ``null``, an object or a list.
    """
    out: list[JSONDict] = []
    for rec in as_list(as_dict(payload).get("record")):
        if not isinstance(rec, dict):
            continue
        tables = rec.get("tables")
        if isinstance(tables, dict):
            row: JSONDict = {}
            if table is not None and table.lower() in tables:
                row.update(as_dict(tables[table.lower()]))
            else:
                for key, part in tables.items():
                    if isinstance(part, dict):
                        for col, val in part.items():
                            row.setdefault(col.lower(), val)
                            row[f"{key.lower()}.{col.lower()}"] = val
            out.append({k.lower(): v for k, v in row.items()})
        else:
            out.append({k.lower(): v for k, v in rec.items()})
    return out


def extension_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """Values of a v1 record's ``_extension_data`` keyed ``extensionname.field`` (lower-case)."""
    out: dict[str, Any] = {}
    for ext in as_list(dig(record, "_extension_data", "_table_extension")):
        if not isinstance(ext, dict):
            continue
        name = str(ext.get("name", "")).lower()
        for field in as_list(ext.get("_field")):
            if isinstance(field, dict) and "name" in field:
                out[f"{name}.{str(field['name']).lower()}"] = field.get("value")
    return out
