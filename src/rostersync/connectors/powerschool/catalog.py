"""PowerSchool's field catalog for the Attributes Mapping step's field finder.

Custom fields are read through the schema table API (see :mod:`._tables`): a field of an
entity's core table (``STUDENTS.…``, keyed by ``dcid``) or of any table keyed by the core
record's DCID (``U_DEF_EXT_STUDENTS.studentsdcid``, ``StudentCoreFields.studentsdcid``). The
catalog lists exactly those: every table the API serves (``/ws/schema/table``), its columns
and their access (``/ws/schema/table/{t}/metadata``), and the v1 extension groups students
carry (``@extensions`` and ``_extension_data`` of one student) to say which group a field is
filed under.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rostersync.connectors.catalog import FieldKind, SourceField
from rostersync.connectors.powerschool._http import ApiSession
from rostersync.connectors.powerschool._json import as_list, dig, text
from rostersync.connectors.powerschool._tables import CORE_TABLES
from rostersync.errors import SourceError

#: Access levels of ``/ws/schema/table/{t}/metadata`` that mean "cannot be read".
_NO_ACCESS = frozenset({"noaccess", "blacklistnoaccess"})
#: Metadata reads at once (the session's own limits apply too).
_CONCURRENT = 4


def _key_of(core: str) -> str:
    return f"{core}dcid"


async def _table_names(session: ApiSession) -> list[str]:
    payload = await session.get("/ws/schema/table")
    names = as_list(payload.get("tables") if isinstance(payload, dict) else None)
    return sorted({str(n).lower() for n in names if n})


async def _columns(session: ApiSession, table: str, gate: asyncio.Semaphore) -> list[Any]:
    async with gate:
        payload = await session.get(f"/ws/schema/table/{table}/metadata")
    return [c for c in as_list(dig(payload, "columns")) if isinstance(c, dict) and c.get("name")]


async def _student_groups(session: ApiSession) -> dict[str, set[str]]:
    """Extension group → its field names (lower-case), from one student's v1 record."""
    head = await session.get("/ws/v1/district/student", {"pagesize": 1, "page": 1})
    names = text(dig(head, "students", "@extensions")) or ""
    groups = [g.strip().lower() for g in names.split(",") if g.strip()]
    if not groups:
        return {}
    one = await session.get(
        "/ws/v1/district/student", {"pagesize": 1, "page": 1, "extensions": ",".join(groups)}
    )
    out: dict[str, set[str]] = {g: set() for g in groups}
    for record in as_list(dig(one, "students", "student"))[:1]:
        for ext in as_list(dig(record, "_extension_data", "_table_extension")):
            if isinstance(ext, dict) and str(ext.get("name", "")).lower() in out:
                out[str(ext["name"]).lower()] |= {
                    str(f["name"]).lower()
                    for f in as_list(ext.get("_field"))
                    if isinstance(f, dict) and f.get("name")
                }
    return out


def _group_of(columns: set[str], groups: dict[str, set[str]]) -> str | None:
    """The extension group whose fields are all columns of this table."""
    for name, fields in sorted(groups.items()):
        if fields and fields <= columns:
            return name
    return None


async def source_fields(session: ApiSession) -> list[SourceField]:
    """Every field an attribute mapping can read, grouped by table, named ``TABLE.field``."""
    tables = await _table_names(session)
    gate = asyncio.Semaphore(_CONCURRENT)
    described = await asyncio.gather(*(_columns(session, t, gate) for t in tables))
    try:
        groups = await _student_groups(session)
    except SourceError:  # the groups only label fields; a plugin without v1 access has none
        groups = {}
    out: list[SourceField] = []
    for table, columns in zip(tables, described, strict=True):
        names = {str(c["name"]).lower() for c in columns}
        fits: list[tuple[str, FieldKind]] = []
        for entity_type, core in CORE_TABLES.items():
            if table == core:
                fits.append((entity_type, "core_table"))
            elif _key_of(core) in names:
                kind: FieldKind = "extension_table" if table.startswith(("u_", "s_")) else "table"
                if table.endswith("corefields"):
                    kind = "extension_table"
                fits.append((entity_type, kind))
        if not fits:
            continue
        types = tuple(t for t, _ in fits)
        kind = fits[0][1]
        group = _group_of(names, groups) if "student" in types else None
        keys = {"dcid", "id", *(_key_of(core) for core in CORE_TABLES.values())}
        for column in columns:
            field = str(column["name"]).lower()
            if field in keys:
                continue
            access = str(column.get("access") or "").lower()
            out.append(
                SourceField(
                    name=f"{table.upper()}.{field}",
                    table=table.upper(),
                    field=field,
                    kind=kind,
                    entity_types=types,
                    group=group,
                    type=text(column.get("type")),
                    readable=access not in _NO_ACCESS,
                )
            )
    return out
