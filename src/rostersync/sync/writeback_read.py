"""Gradebook in import mode, the run's side: after a sync, the SIS's gradebook (PowerTeacher
Pro's categories, assignments and scores) is stored as gradebook objects of origin ``sis``, so
apps read teachers' grades over the OneRoster Gradebook service.

On when the PowerSchool source's connector option ``gradebook_import`` is true. The SIS is the
truth for these objects: each run stores what changed (an unchanged object keeps its
``dateLastModified``, so delta readers see only real changes) and marks ``tobedeleted`` what the
SIS no longer has. A plugin without grade-sync access, or a failure, is a warning of the run;
the published roster stands.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from rostersync.clock import utcnow
from rostersync.config import DistrictConfig, SourceConfig
from rostersync.connectors.powerschool.config import parse_options
from rostersync.connectors.powerschool.connector import PowerSchoolConnector
from rostersync.connectors.powerschool.gradebook import ClassInSis, SisGradebook, read_gradebook
from rostersync.connectors.powerschool.writeback import GradeSync
from rostersync.errors import RostersyncError
from rostersync.export.oneroster.gradebook_store import mark_deleted, upsert
from rostersync.logs import get_logger
from rostersync.model import Roster
from rostersync.settings import Settings
from rostersync.store import Store
from rostersync.store.schema import gradebook_objects
from rostersync.sync.events import RunEvent, RunEvents
from rostersync.sync.sources import connector_for
from rostersync.sync.writeback_plan import sections_of

log = get_logger("gradebook_import")
g = gradebook_objects.c


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0


def importing_source(config: DistrictConfig) -> SourceConfig | None:
    for source in config.sources:
        if source.app == "powerschool":
            options = parse_options(source.connector, f"sources.{source.name}.connector")
            if options.gradebook_import:
                return source
    return None


def classes_in_sis(roster: Roster) -> dict[str, ClassInSis]:
    """Roster classes with their PowerSchool keys (columnar joins in ``sections_of``)."""
    info = roster["classes"].select(
        "sourcedId", "schoolSourcedId", pl.col("termSourcedIds").list.first().alias("term")
    )
    facts = {r[0]: (r[1], r[2]) for r in info.iter_rows()}
    out = {}
    for cid, section in sections_of(roster).items():
        school, term = facts.get(cid, ("", None))
        students = {dcid: sid for sid, dcid in section.students.items()}
        out[cid] = ClassInSis(cid, section.dcid, section.teacher, school, term, students)
    return out


def store_sis_gradebook(store: Store, district_id: int, found: SisGradebook) -> ImportCounts:
    """Store what the SIS holds (changes only); what it no longer holds is marked deleted."""
    counts = ImportCounts()
    now = utcnow()
    with store.engine.begin() as conn:
        for kind, objects in found.objects.items():
            before = {
                r.sourcedId: (r.status, r.body)
                for r in conn.execute(
                    sa.select(g.sourcedId, g.status, g.body).where(
                        g.district_id == district_id, g.kind == kind, g.origin == "sis"
                    )
                )
            }
            for sid, body in objects.items():
                old = before.get(sid)
                if old is not None and old[0] == "active" and json.loads(old[1]) == body:
                    counts.unchanged += 1
                    continue
                created = upsert(conn, district_id, kind, sid, body, "sis", now)  # type: ignore[arg-type]
                counts.created += created
                counts.updated += not created
            gone = [
                s for s, (status, _) in before.items() if status == "active" and s not in objects
            ]
            counts.deleted += mark_deleted(conn, district_id, kind, gone, now)  # type: ignore[arg-type]
    return counts


def import_gradebook(
    store: Store,
    config: DistrictConfig,
    settings: Settings,
    events: RunEvents | None = None,
    *,
    store_lookup: Callable[[str], str | None] | None = None,
) -> ImportCounts | None:
    """Read the SIS's gradebook into the store (when the source asks for it)."""
    source = importing_source(config)
    if source is None:
        return None
    district_id = store.get_district(config.district).id
    classes = classes_in_sis(store.read_version(district_id))
    try:
        connector, http = connector_for(source, settings, store_lookup=store_lookup)
        assert isinstance(connector, PowerSchoolConnector)

        async def go() -> SisGradebook:
            try:
                return await read_gradebook(GradeSync(connector.session), classes, utcnow().date())
            finally:
                await http.aclose()

        found = asyncio.run(go())
        counts = store_sis_gradebook(store, district_id, found)
    except RostersyncError as exc:
        if events is not None:
            events.warning(f"gradebook import failed: {exc}", phase="gradebook")
        log.warning("gradebook import failed", error=str(exc))
        return None
    if events is not None:
        events.emit(
            RunEvent(
                "progress",
                f"gradebook import: {counts.created} created, {counts.updated} updated, "
                f"{counts.deleted} deleted, {counts.unchanged} unchanged",
                phase="gradebook",
                data=vars(counts),
            )
        )
    return counts
