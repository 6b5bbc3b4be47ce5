"""Change tracking reads ("delta pull", reference §6): what changed since a data version.

- :func:`current_version` — the district's data version now, from a one-row PowerQuery asked
  with ``$dataversion`` "0" (the version a full pull is current to; asked before it starts).
- :func:`changed_keys` — ``GET /ws/dataversion/{app}/{version}``: table → changed keys.
- :func:`changed_enrollments` — the plugin's :data:`ENROLLMENTS_QUERY` with ``$dataversion``:
  the CC rows changed since a version, shaped as ``/ws/v1/section/{id}/section_enrollment``
  rows so they map exactly as a full pull's.
- :func:`students_by_dcid` — ``/ws/v1/district/student?q=id==(...)``: changed students with the
  expansions a full pull asks for, a batch of keys per request.

Any of them failing with "not granted", "not installed" or "no such subscription" means change
tracking is unavailable: :class:`ChangeTrackingUnavailable` carries why, and the connector falls
back to a full pull and says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import polars as pl

from rostersync.connectors.powerschool import mapping as m
from rostersync.connectors.powerschool._http import ApiSession
from rostersync.connectors.powerschool._json import JSONDict, as_dict, text
from rostersync.connectors.powerschool._paging import PowerQueryPages, V1Pages, fetch_pages
from rostersync.errors import SourceAuthError, SourceDataError

#: The plugin's PowerQuery of CC rows (installed from ``queries_root/`` of our plugin zip).
ENROLLMENTS_QUERY = "org.rostersync.roster.enrollments"
#: A core query any PowerSchool has, asked for one row to learn the current data version.
VERSION_PROBE = "com.pearson.core.student.student_dcid_id_map"
#: Keys per ``q=id==(...)`` request (keeps the URL short).
BATCH = 100

#: ``queries_root/rostersync.named_queries.xml``: outer joins, so a changed CC row comes back
#: whatever else changed (reference §6: inner joins need every joined table to have changed).
NAMED_QUERIES_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<queries>
  <query name="{ENROLLMENTS_QUERY}" coreTable="cc" flattened="true">
    <description>Section enrollments (CC) with section and student DCIDs</description>
    <columns>
      <column column="CC.DCID">cc_dcid</column>
      <column column="CC.DATEENROLLED">entry_date</column>
      <column column="CC.DATELEFT">exit_date</column>
      <column column="CC.SECTIONID">sectionid</column>
      <column column="SECTIONS.DCID">section_dcid</column>
      <column column="STUDENTS.DCID">student_dcid</column>
    </columns>
    <sql><![CDATA[select cc.dcid, cc.dateenrolled, cc.dateleft, cc.sectionid,
se.dcid as section_dcid, s.dcid as student_dcid from cc
left join sections se on se.id = abs(cc.sectionid)
left join students s on s.id = cc.studentid order by cc.dcid]]></sql>
  </query>
</queries>
"""
#: The columns the query reads (the plugin must grant them).
ENROLLMENTS_COLUMNS: dict[str, tuple[str, ...]] = {
    "cc": ("dcid", "dateenrolled", "dateleft", "sectionid", "studentid"),
    "sections": ("id", "dcid"),
    "students": ("id", "dcid"),
}


class ChangeTrackingUnavailable(Exception):
    """The source cannot say what changed; ``reason`` says why (shown in the run's stats)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _unavailable(exc: Exception, what: str) -> ChangeTrackingUnavailable:
    message = getattr(exc, "message", str(exc))
    return ChangeTrackingUnavailable(f"{what}: {message}")


def _tracking_body(app: str, version: str) -> dict[str, Any]:
    return {"$dataversion": version, "$dataversion_applicationname": app}


async def current_version(session: ApiSession, app: str) -> str:
    """The district's data version now (taken before a full pull reads anything)."""
    try:
        payload = await session.post(
            f"/ws/schema/query/{VERSION_PROBE}", _tracking_body(app, "0"), {"pagesize": 1}
        )
    except (SourceAuthError, SourceDataError) as exc:
        raise _unavailable(
            exc,
            f"PowerSchool gave no data version for the subscription {app!r} "
            f"(dataversion_application) when {VERSION_PROBE} was asked with $dataversion",
        ) from exc
    version = text(as_dict(payload).get("$dataversion"))
    if version is None or not version.isdigit():
        raise ChangeTrackingUnavailable("PowerSchool sent no data version ($dataversion)")
    return version


async def changed_keys(
    session: ApiSession, app: str, version: str
) -> tuple[str, dict[str, set[int]]]:
    """(the version now, table → keys changed after ``version``)."""
    try:
        payload = as_dict(await session.get(f"/ws/dataversion/{app}/{version}"))
    except (SourceAuthError, SourceDataError) as exc:
        raise _unavailable(exc, f"/ws/dataversion/{app} is not available") from exc
    now = text(payload.get("$dataversion"))
    if now is None or not now.isdigit():
        raise ChangeTrackingUnavailable("PowerSchool sent no data version ($dataversion)")
    tables: dict[str, set[int]] = {}
    for table, keys in as_dict(payload.get("tables")).items():
        found = tables.setdefault(str(table).lower(), set())
        for key in keys if isinstance(keys, list) else [keys]:
            raw = text(key)
            if raw is not None and raw.lstrip("-").isdigit():
                found.add(int(raw))
    return now, tables


def _enrollment_record(row: JSONDict) -> JSONDict:
    """A query row in the shape of a v1 section_enrollment (``dropped``: negative SectionID)."""
    section = text(row.get("sectionid")) or ""
    return {
        "id": row.get("cc_dcid"),
        "section_id": row.get("section_dcid"),
        "student_id": row.get("student_dcid"),
        "entry_date": row.get("entry_date"),
        "exit_date": row.get("exit_date"),
        "dropped": section.startswith("-"),
    }


async def changed_enrollments(
    session: ApiSession, app: str, version: str, page_size: int
) -> pl.DataFrame:
    """CC rows changed after ``version``, as the flat enrollment frame of a full pull."""
    pages = PowerQueryPages(ENROLLMENTS_QUERY, _tracking_body(app, version))
    try:
        frames = await fetch_pages(
            session,
            pages,
            page_size,
            lambda recs: m.convert_page([_enrollment_record(r) for r in recs], m.ENROLLMENT_SPEC),
        )
    except (SourceAuthError, SourceDataError) as exc:
        raise _unavailable(exc, f"the PowerQuery {ENROLLMENTS_QUERY} could not be run") from exc
    return m.concat(frames, m.ENROLLMENT_SPEC)


async def students_by_dcid(
    session: ApiSession,
    dcids: Sequence[int],
    params: dict[str, Any],
    page_size: int,
) -> list[list[JSONDict]]:
    """The v1 records of these students (any school, any status), batch by batch."""
    keys = sorted(set(dcids))
    batches = [keys[i : i + BATCH] for i in range(0, len(keys), BATCH)]
    base_q = params.get("q")

    async def one(batch: list[int]) -> list[list[JSONDict]]:
        q = "id==(" + ",".join(str(k) for k in batch) + ")"
        pages = V1Pages(
            "/ws/v1/district/student",
            "students",
            "student",
            "student_max_page_size",
            {**params, "q": f"{q};{base_q}" if base_q else q},
        )
        return await fetch_pages(session, pages, page_size, lambda recs: recs, count=False)

    results = await asyncio.gather(*(one(b) for b in batches))
    return [page for pages in results for page in pages]
