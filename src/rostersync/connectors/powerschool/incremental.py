"""Incremental extraction: fold what PowerSchool's change tracking says changed into the last
extraction, so a sync reads only the changed records instead of the whole district.

Law (``tests/incremental``): folding the changes since a baseline into it gives, record for
record, the canonical roster a full pull of the same moment gives.

How each part of an extraction is brought up to date:

- the district, its schools and the metadata: read again (a few requests);
- students: the changed DCIDs (``students`` and its 1:1 extension tables) are read again through
  ``/ws/v1/district/student?q=id==(...)`` with the full pull's expansions, and kept when the
  school list would list them (active unless ``student_filter`` says otherwise, at a school of
  the scope); a changed DCID that no longer qualifies is dropped (a deletion);
- enrollments: the CC rows changed since the baseline, from the plugin's PowerQuery asked with
  ``$dataversion`` (:mod:`._changes`); a changed CC key that no longer comes back is dropped;
- terms, courses, staff, sections: read again for every school when a table behind them changed
  (rare: rollover, staffing), else kept; new sections get their enrollments read;
- schema tables (calendar, co-teachers, contacts, custom fields): a changed table is read again,
  only the changed keys' rows when the table is keyed by a DCID (ranges of keys), else whole.

A full pull happens instead, and the extraction's stats say why, when: there is no baseline or it
was read for another scope or configuration, ``full_pull_every_days`` have passed since the last
full pull, the data version went backwards (PowerSchool's change log was reset), the schools
themselves changed, or change tracking is unavailable (then no baseline is kept either).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl

from rostersync.connectors.base import Baseline
from rostersync.connectors.powerschool import _tables as tables
from rostersync.connectors.powerschool import mapping as m
from rostersync.connectors.powerschool._assemble import ExtractedFrames
from rostersync.connectors.powerschool._changes import (
    changed_enrollments,
    changed_keys,
    students_by_dcid,
)
from rostersync.connectors.powerschool._paging import TablePages
from rostersync.connectors.powerschool._reads import (
    Executor,
    SchoolRead,
    TableGroup,
    enrollment_pages,
)

if TYPE_CHECKING:
    from rostersync.connectors.powerschool.connector import PowerSchoolConnector

#: Bumped when the baseline's frames change meaning: older baselines then give a full pull.
BASELINE_FORMAT = "powerschool-1"
#: Per-school collections → the tables behind their v1 records (a change re-reads them).
SCHOOL_READ_TABLES: Mapping[str, frozenset[str]] = {
    "sessions": frozenset({"terms"}),
    "courses": frozenset({"courses", "sections"}),
    "staff": frozenset({"users", "schoolstaff"}),
    "classes": frozenset({"sections", "courses", "terms", "schoolstaff"}),
}
#: Tables whose keys are student DCIDs (STUDENTS and its 1:1 extensions v1 joins).
STUDENT_TABLES = frozenset({"students", "u_def_ext_students", "studentcorefields"})
#: The tables the enrollments PowerQuery reads: it can return rows only when one changed.
ENROLLMENT_TABLES = frozenset({"cc", "sections", "students"})
#: Tables whose change invalidates everything folded per school.
FULL_PULL_TABLES = frozenset({"schools"})
#: The most key ranges one changed schema table is read in before it is read whole instead.
MAX_RANGES = 50


@dataclass(frozen=True)
class Mode:
    """How an extraction was made, for the run's stats."""

    mode: str  # "full" or "incremental"
    reason: str
    since: str | None = None
    version: str | None = None
    changed: Mapping[str, int] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def fingerprint(connector: PowerSchoolConnector, schools: Sequence[str] | None) -> str:
    """What a baseline was read for: scope, reads and the options that change records."""
    plan = connector.plan
    doc = {
        "format": BASELINE_FORMAT,
        "scope": sorted(schools) if schools is not None else None,
        "source": plan.source,
        "contact_module": plan.contact_module,
        "sync_co_teachers": plan.sync_co_teachers,
        "custom_fields": {k: list(v) for k, v in sorted(plan.custom_fields.items())},
        "student_filter": connector.options.student_filter,
        "application": connector.options.dataversion_application,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]


def full_pull_reason(
    connector: PowerSchoolConnector,
    baseline: Baseline | None,
    print_: str,
    now: datetime,
) -> str | None:
    """Why this extraction must be a full pull (None: it can be incremental)."""
    if baseline is None:
        return "no previous extraction to fold changes into"
    if baseline.fingerprint != print_:
        return "the scope or the configured reads changed since the previous extraction"
    every = connector.options.full_pull_every_days
    if now - baseline.full_at >= timedelta(days=every):
        return f"full_pull_every_days: the last full pull is {every} or more days old"
    return None


def baseline_frames(x: ExtractedFrames) -> dict[str, pl.DataFrame]:
    """The frames of an extraction a later one folds into (everything but the district)."""
    frames = {
        "terms": x.terms,
        "courses": x.courses,
        "sections": x.sections,
        "cc": x.cc,
        "staff": x.staff,
        "students": x.students,
        "calendar": x.calendar,
        "schools": x.schools,
    }
    for prefix, group in (
        ("co-teachers", x.co_tables),
        ("contacts", x.contact_tables),
        ("custom fields", x.custom_tables),
    ):
        for name, frame in group.items():
            frames[f"{prefix}/{name}"] = frame
    return frames


def _group(frames: Mapping[str, pl.DataFrame], prefix: str) -> dict[str, pl.DataFrame]:
    cut = len(prefix) + 1
    return {k[cut:]: v for k, v in frames.items() if k.startswith(prefix + "/")}


def replace_rows(
    old: pl.DataFrame, fresh: pl.DataFrame, key: str, changed: Collection[Any]
) -> pl.DataFrame:
    """``old`` without the rows of ``changed`` keys (or of any key ``fresh`` brings), plus
    ``fresh``: a changed key that does not come back is a deletion."""
    gone = set(changed) | set(fresh[key].to_list())
    kept = old.filter(~pl.col(key).is_in(list(gone)))
    return pl.concat([kept, fresh.select(old.columns)], how="vertical_relaxed")


def key_ranges(keys: Collection[int], gap: int = 64) -> list[tuple[int, int]]:
    """Sorted keys as inclusive ranges, joining keys closer than ``gap``."""
    out: list[tuple[int, int]] = []
    for k in sorted(keys):
        if out and k - out[-1][1] <= gap:
            out[-1] = (out[-1][0], k)
        else:
            out.append((k, k))
    return out


class IncrementalRead:
    """One incremental extraction: the changes since ``baseline`` folded into its frames."""

    def __init__(
        self,
        connector: PowerSchoolConnector,
        executor: Executor,
        baseline: Baseline,
        school_frame: pl.DataFrame,
    ) -> None:
        self.connector = connector
        self.executor = executor
        self.baseline = baseline
        self.frames = baseline.frames
        self.schools = school_frame
        self.school_ids: list[str] = school_frame["school_dcid"].to_list()

    async def changes(self) -> tuple[str, dict[str, set[int]]]:
        app = self.connector.options.dataversion_application
        return await changed_keys(self.connector.session, app, self.baseline.cursor)

    def _in_scope(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("school_dcid").is_in(self.school_ids))

    async def per_school(self, read: SchoolRead, changed: Collection[str]) -> pl.DataFrame:
        """One per-school collection: read again for every school if its tables changed."""
        name = {"sessions": "terms", "classes": "sections"}.get(read.entity, read.entity)
        if not (SCHOOL_READ_TABLES.get(read.entity, frozenset()) & set(changed)):
            return self._in_scope(self.frames[name])

        async def one(sid: str) -> list[pl.DataFrame]:
            return await self.executor.fetch(
                read.pages(sid), lambda recs: read.page(recs, sid), read.entity, f"school:{sid}"
            )

        results = await asyncio.gather(*(one(s) for s in self.school_ids))
        self.executor.tracker(read.entity).finish()
        return m.concat([f for part in results for f in part], read.spec, "school_dcid")

    async def students(self, keys: Collection[int], read: SchoolRead) -> pl.DataFrame:
        """The baseline's students with the changed ones read again."""
        old = self._in_scope(self.frames["students"])
        if not keys:
            return old
        opts = self.connector.options
        params = {k: v for k, v in read.params.items() if k != "q"}
        if opts.student_filter:
            params["q"] = opts.student_filter
        size = self.connector.page_size("student_max_page_size")
        pages = await students_by_dcid(self.connector.session, list(keys), params, size)
        tracker = self.executor.tracker("students")
        fresh_parts = []
        for recs in pages:
            tracker.on_page(len(recs), tracker.pages + 1, None)
            fresh_parts.append(m.convert_page(recs, m.STUDENT_SPEC))
        tracker.finish()
        fresh = m.concat(fresh_parts, m.STUDENT_SPEC)
        if not (opts.student_filter and "enroll_status" in opts.student_filter):
            fresh = fresh.filter(pl.col("enroll_status") == "A")
        fresh = fresh.with_columns(pl.col("enroll_school_dcid").alias("school_dcid"))
        fresh = self._in_scope(fresh)
        return replace_rows(old, fresh, "student_dcid", {str(k) for k in keys})

    async def enrollments(
        self,
        changed: Mapping[str, Collection[int]],
        sections: pl.DataFrame,
        new_sections: Sequence[str],
    ) -> pl.DataFrame:
        """The baseline's enrollments with the changed CC rows folded in (``changed``: the
        tables and keys change tracking reported; a changed CC key the query no longer
        returns was deleted)."""
        folded = self.frames["cc"]
        if set(changed) & ENROLLMENT_TABLES:  # else the query would return nothing: not asked
            app = self.connector.options.dataversion_application
            session = self.connector.session
            size = self.connector.page_size("schema_table_query_max_page_size")
            fresh = await changed_enrollments(session, app, self.baseline.cursor, size)
            self.executor.tracker("enrollments").on_page(fresh.height, 1, None)
            gone = {str(k) for k in changed.get("cc", ())}
            folded = replace_rows(folded, fresh, "cc_dcid", gone)
        if new_sections:
            results = await asyncio.gather(
                *(
                    self.executor.fetch(
                        enrollment_pages(section),
                        lambda recs: m.convert_page(recs, m.ENROLLMENT_SPEC),
                        "enrollments",
                        f"section:{section}",
                    )
                    for section in new_sections
                )
            )
            extra = m.concat([f for part in results for f in part], m.ENROLLMENT_SPEC)
            folded = replace_rows(folded, extra, "cc_dcid", ())
        self.executor.tracker("enrollments").finish()
        return folded.filter(pl.col("section_dcid").is_in(sections["section_dcid"].to_list()))

    async def table(
        self, read: tables.TableRead, entity: str, old: pl.DataFrame, keys: Collection[int]
    ) -> pl.DataFrame:
        """A changed schema table: the changed keys' rows read again, or the whole table."""
        key = "dcid" if "dcid" in read.columns else None
        if key is None and read.columns[0].endswith("dcid"):
            key = read.columns[0]
        ranges = key_ranges(keys) if key is not None else []
        if key is None or len(ranges) > MAX_RANGES or not keys:
            pages = await self.executor.fetch(
                TablePages(read.table, read.columns, read.q),
                lambda recs: m.table_page(recs, read.columns),
                entity,
                f"table:{read.table}",
            )
            if pages:
                return pl.concat(pages)
            return pl.DataFrame(schema=dict.fromkeys(read.columns, pl.Utf8()))

        async def one(low: int, high: int) -> list[pl.DataFrame]:
            q = f"{key}=ge={low};{key}=le={high}" + (f";{read.q}" if read.q else "")
            return await self.executor.fetch(
                TablePages(read.table, read.columns, q),
                lambda recs: m.table_page(recs, read.columns),
                entity,
                f"table:{read.table}:{low}-{high}",
                count=False,
            )

        parts = [f for part in await asyncio.gather(*(one(a, b) for a, b in ranges)) for f in part]
        fresh = (
            pl.concat(parts)
            if parts
            else pl.DataFrame(schema=dict.fromkeys(read.columns, pl.Utf8()))
        )
        covered = pl.lit(False)
        for low, high in ranges:
            covered = covered | pl.col(key).cast(pl.Int64, strict=False).is_between(low, high)
        kept = old.filter(~covered)
        return pl.concat([kept, fresh.select(old.columns)], how="vertical_relaxed")

    async def groups(
        self, groups: Sequence[TableGroup], changed: Mapping[str, set[int]]
    ) -> dict[str, dict[str, pl.DataFrame]]:
        out: dict[str, dict[str, pl.DataFrame]] = {}
        for g in groups:
            if g.entity == "calendar":
                old_group = {"calendar_day": self.frames["calendar"]}
            else:
                old_group = _group(self.frames, g.entity)
            frames: dict[str, pl.DataFrame] = {}
            for read in g.reads:
                old = old_group.get(read.table)
                if old is None or read.table in changed:
                    keys = changed.get(read.table, set()) if old is not None else set()
                    base = (
                        old
                        if old is not None
                        else pl.DataFrame(schema=dict.fromkeys(read.columns, pl.Utf8()))
                    )
                    frames[read.table] = await self.table(read, g.entity, base, keys)
                else:
                    frames[read.table] = old
            self.executor.tracker(g.entity).finish()
            out[g.entity] = frames
        return out
