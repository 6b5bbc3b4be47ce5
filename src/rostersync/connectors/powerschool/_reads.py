"""What one PowerSchool extraction reads, declared as data, and the one executor that runs it.

Per school: terms, courses, sections (with each section's enrollments), staff and students, each a
:class:`SchoolRead`. District-wide: the schema tables the plan needs (calendar days, co-teachers,
the Contacts module, custom fields), each a :class:`TableGroup`. :class:`Executor` starts every
read at once (the session bounds the requests in flight) and keeps the health ledger: every
collection is counted just before its pages are asked for (all at once, as the count announces
them) and counted again once everything is in, the sections whose enrollments came back empty
are counted then too, and the district's schools last — so a source that answers empty for a
while, or from some point on, is caught and never mistaken for deletions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import polars as pl

from rostersync.connectors.base import ProgressCallback, ProgressEvent
from rostersync.connectors.health import HealthLedger
from rostersync.connectors.powerschool import _tables as tables
from rostersync.connectors.powerschool import mapping as m
from rostersync.connectors.powerschool._http import ApiSession
from rostersync.connectors.powerschool._json import JSONDict
from rostersync.connectors.powerschool._paging import (
    Paginator,
    TablePages,
    V1Pages,
    count_records,
    fetch_pages,
)

T = TypeVar("T")

SCHOOLS = V1Pages("/ws/v1/district/school", "schools", "school", "school_max_page_size")

#: Converts one page of a school's records (the school's DCID as second argument).
SchoolConvert = Callable[[list[JSONDict], str], pl.DataFrame]


@dataclass(frozen=True)
class SchoolRead:
    """One v1 collection read for every school of the scope (``/ws/v1/school/{sid}/...``)."""

    #: The entity name of progress events and health problems.
    entity: str
    resource: str
    plural: str
    spec: m.Spec
    params: Mapping[str, Any] = field(default_factory=dict)
    convert: SchoolConvert | None = None

    def pages(self, sid: str) -> V1Pages:
        return V1Pages(
            f"/ws/v1/school/{sid}/{self.resource}",
            self.plural,
            self.resource,
            f"{self.resource}_max_page_size",
            dict(self.params),
        )

    def page(self, records: list[JSONDict], sid: str) -> pl.DataFrame:
        if self.convert is not None:
            return self.convert(records, sid)
        return m.convert_page(records, self.spec, school_dcid=sid)


@dataclass(frozen=True)
class TableGroup:
    """Schema tables read together under one progress name."""

    entity: str
    reads: tuple[tables.TableRead, ...]


def enrollment_pages(section: str) -> V1Pages:
    return V1Pages(
        f"/ws/v1/section/{section}/section_enrollment",
        "section_enrollments",
        "section_enrollment",
        "section_enrollment_max_page_size",
    )


class Tracker:
    """Per-entity progress: pages and records as they arrive."""

    def __init__(self, entity: str, callback: ProgressCallback | None) -> None:
        self.entity = entity
        self.callback = callback
        self.pages = 0
        self.total: int | None = None
        self.records = 0
        self.started = time.perf_counter()
        self.seconds = 0.0

    def expect(self, pages: int) -> None:
        self.total = (self.total or 0) + pages

    def on_page(self, records: int, done: int, expected: int | None) -> None:
        if done == 1 and expected is not None:
            self.expect(expected)
        if expected == 0:
            return
        self.pages += 1
        self.records += records
        self._emit(False)

    def finish(self) -> None:
        self.seconds = time.perf_counter() - self.started
        self._emit(True)

    def _emit(self, finished: bool) -> None:
        if self.callback is not None:
            total = max(self.total, self.pages) if self.total is not None else None
            self.callback(ProgressEvent(self.entity, self.records, self.pages, total, finished))


@dataclass
class Fetched:
    """What the executor read: per school read, its frames; per table group, its tables."""

    schools: pl.DataFrame
    school_frames: dict[str, pl.DataFrame]
    enrollments: pl.DataFrame
    tables: dict[str, dict[str, pl.DataFrame]]


class Executor:
    """Runs the declared reads of one extraction and keeps its progress and health ledger."""

    def __init__(
        self,
        session: ApiSession,
        page_size: Callable[[str], int],
        progress: ProgressCallback | None,
    ) -> None:
        self.session = session
        self.page_size = page_size
        self.progress = progress
        self.trackers: dict[str, Tracker] = {}
        self.ledger = HealthLedger()
        #: Sections whose enrollments were walked without a count and may be short.
        self._uncounted: list[str] = []

    def tracker(self, name: str) -> Tracker:
        if name not in self.trackers:
            self.trackers[name] = Tracker(name, self.progress)
        return self.trackers[name]

    async def fetch(
        self,
        paginator: Paginator,
        convert: Callable[[list[JSONDict]], T],
        entity: str,
        scope: str,
        *,
        total: int | None = None,
        count: bool = True,
    ) -> list[T]:
        """Every page of one collection; the ledger learns the count and what arrived."""
        tracker = self.tracker(entity)
        size = self.page_size(paginator.size_key)
        if total is None and count:
            total = await count_records(self.session, paginator)
        self.ledger.announced(entity, scope, total)

        def on_page(records: int, done: int, expected: int | None) -> None:
            self.ledger.page(entity, scope, records, expected)
            tracker.on_page(records, done, expected)

        if total is None:
            tracker.expect(1)
        return await fetch_pages(
            self.session, paginator, size, convert, on_page=on_page, total=total, count=False
        )

    async def schools(self) -> pl.DataFrame:
        """Every school the district lists, the Graduated Students school left out."""
        pages = await self.fetch(
            SCHOOLS, lambda recs: m.convert_page(recs, m.SCHOOL_SPEC), "schools", "district"
        )
        frame = m.concat(pages, m.SCHOOL_SPEC)
        return frame.filter(
            pl.col("school_number").fill_null("") != m.GRADUATED_SCHOOL_NUMBER
        ).unique("school_dcid", keep="first", maintain_order=True)

    async def census(
        self, reads: Sequence[SchoolRead], school_ids: Sequence[str]
    ) -> dict[tuple[str, str], int | None]:
        """Each school's count of each collection, as the source announces it now."""
        keys = [(r, sid) for r in reads for sid in school_ids]
        counts = await asyncio.gather(
            *(count_records(self.session, r.pages(sid)) for r, sid in keys)
        )
        out: dict[tuple[str, str], int | None] = {}
        for (read, sid), n in zip(keys, counts, strict=True):
            self.ledger.announced(read.entity, f"school:{sid}", n)
            out[(read.entity, sid)] = n
        return out

    async def run(
        self,
        school_frame: pl.DataFrame,
        reads: Sequence[SchoolRead],
        sections: SchoolRead,
        groups: Sequence[TableGroup],
    ) -> Fetched:
        """Every read at once; then the closing counts that catch an outage begun meanwhile."""
        school_ids: list[str] = school_frame["school_dcid"].to_list()

        async def per_school(read: SchoolRead) -> pl.DataFrame:
            async def one(sid: str) -> list[pl.DataFrame]:
                return await self.fetch(
                    read.pages(sid),
                    lambda recs: read.page(recs, sid),
                    read.entity,
                    f"school:{sid}",
                    count=True,
                )

            results = await asyncio.gather(*(one(s) for s in school_ids))
            self.tracker(read.entity).finish()
            return m.concat([f for pages in results for f in pages], read.spec, "school_dcid")

        async def sections_and_enrollments() -> tuple[pl.DataFrame, pl.DataFrame]:
            # Per school, a section's enrollments are asked for as soon as that school's
            # sections are in, so the slow schools do not hold the others' enrollments back.
            async def enrollments_of(section: str) -> list[pl.DataFrame]:
                # Most sections fit one page: skip the count, walk until a short page. The
                # sections that came back empty or took several pages are counted at the end.
                pag = enrollment_pages(section)
                frames = await self.fetch(
                    pag,
                    lambda recs: m.convert_page(recs, m.ENROLLMENT_SPEC),
                    "enrollments",
                    f"section:{section}",
                    count=False,
                )
                received = sum(f.height for f in frames)
                if received == 0 or received >= self.page_size(pag.size_key):
                    self._uncounted.append(section)
                return frames

            async def school(sid: str) -> tuple[list[pl.DataFrame], list[pl.DataFrame]]:
                pages = await self.fetch(
                    sections.pages(sid),
                    lambda recs: sections.page(recs, sid),
                    sections.entity,
                    f"school:{sid}",
                    count=True,
                )
                ids = [i for p in pages for i in p["section_dcid"].to_list()]
                cc = await asyncio.gather(*(enrollments_of(i) for i in ids))
                return pages, [f for part in cc for f in part]

            self.tracker(sections.entity)
            self.tracker("enrollments")
            results = await asyncio.gather(*(school(s) for s in school_ids))
            self.tracker(sections.entity).finish()
            self.tracker("enrollments").finish()
            frames = m.concat(
                [f for pages, _ in results for f in pages], sections.spec, "school_dcid"
            )
            cc = m.concat([f for _, parts in results for f in parts], m.ENROLLMENT_SPEC)
            return frames, cc

        async def table(read: tables.TableRead, entity: str) -> pl.DataFrame:
            pages = await self.fetch(
                TablePages(read.table, read.columns, read.q),
                lambda recs: m.table_page(recs, read.columns),
                entity,
                f"table:{read.table}",
            )
            if pages:
                return pl.concat(pages)
            return pl.DataFrame(schema=dict.fromkeys(read.columns, pl.Utf8()))

        async def group(g: TableGroup) -> dict[str, pl.DataFrame]:
            frames = await asyncio.gather(*(table(r, g.entity) for r in g.reads))
            self.tracker(g.entity).finish()
            return {r.table: f for r, f in zip(g.reads, frames, strict=True)}

        # Every independent read starts now; the session bounds how many requests fly at once.
        t_reads = [asyncio.create_task(per_school(r)) for r in reads]
        t_sections = asyncio.create_task(sections_and_enrollments())
        t_groups = [asyncio.create_task(group(g)) for g in groups]
        everything: list[asyncio.Task[Any]] = [*t_reads, t_sections, *t_groups]
        await _all_or_none(everything)

        await self._closing_counts([*reads, sections], school_ids, groups)
        section_frame, cc = t_sections.result()
        frames = {r.entity: t.result() for r, t in zip(reads, t_reads, strict=True)}
        frames[sections.entity] = section_frame
        return Fetched(
            school_frame,
            frames,
            cc,
            {g.entity: t.result() for g, t in zip(groups, t_groups, strict=True)},
        )

    async def _closing_counts(
        self,
        reads: Sequence[SchoolRead],
        school_ids: Sequence[str],
        groups: Sequence[TableGroup] = (),
    ) -> None:
        # A count taken during an outage says 0 like the lists, so the counts are taken again
        # once everything is in: a count that fell to 0 while another said more is itself a
        # problem, and the smallest count above 0 is what must have arrived.
        # A table read is counted just before its pages: an outage over both says 0 twice.
        tables_read = [(g.entity, r) for g in groups for r in g.reads]
        counts = await asyncio.gather(
            *(
                count_records(self.session, TablePages(r.table, r.columns, r.q))
                for _, r in tables_read
            )
        )
        for (entity, read), n in zip(tables_read, counts, strict=True):
            self.ledger.announced(entity, f"table:{read.table}", n)
        await self.census(reads, school_ids)
        # Far from their lists (the census in between), so an outage that hid a list and
        # lasted until its count also zeroed the census.
        sections = await asyncio.gather(
            *(count_records(self.session, enrollment_pages(s)) for s in self._uncounted)
        )
        for section, n in zip(self._uncounted, sections, strict=True):
            self.ledger.announced("enrollments", f"section:{section}", n)
        # The schools last: an outage still on at the end counts 0 here, against the schools
        # counted when the extraction began.
        self.ledger.announced("schools", "district", await count_records(self.session, SCHOOLS))


async def _all_or_none(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Wait for every task; on the first failure cancel the rest and raise it."""
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
