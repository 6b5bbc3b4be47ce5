"""The PowerSchool SIS connector: test the connection, list schools, extract a scope.

Built by composition (see CONVENTIONS.md): an :class:`~._http.ApiSession` (an ``httpx``
client the caller owns, the OAuth client credentials, retries and throttle), paginator
strategies from :mod:`._paging`, and the mapping to canonical tables in :mod:`.mapping`.

What it reads: the v1 API where it has the data (schools, terms, courses, sections, section
enrollments, students with their expansions, staff), and the schema table API for what v1 lacks
(SectionTeacher + RoleDef for co-teachers, CALENDAR_DAY for instructional days, the Contacts
module tables, and custom ``TABLE.field`` fields from extension tables or StudentCoreFields).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import polars as pl

from rostersync.connectors.base import (
    ConnectionReport,
    ExtractResult,
    ProgressCallback,
    ProgressEvent,
    SchoolInfo,
)
from rostersync.connectors.powerschool import _tables as tables
from rostersync.connectors.powerschool import mapping as m
from rostersync.connectors.powerschool._assemble import build_roster
from rostersync.connectors.powerschool._auth import ClientCredentials
from rostersync.connectors.powerschool._http import (
    ApiSession,
    FieldsNotGranted,
    RetryPolicy,
)
from rostersync.connectors.powerschool._json import JSONDict, text, unwrap_single
from rostersync.connectors.powerschool._paging import (
    Paginator,
    TablePages,
    V1Pages,
    count_records,
    fetch_pages,
)
from rostersync.connectors.powerschool.config import PowerSchoolOptions, parse_options
from rostersync.errors import SourceAuthError, SourceDataError, SourceError

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
STUDENT_EXPANSIONS = (
    "demographics,addresses,phones,school_enrollment,ethnicity_race,contact,contact_info"
)
STAFF_EXPANSIONS = "emails,phones,addresses,school_affiliations"
#: /ws/v1/metadata keys reported back by test_connection.
PAGE_SIZE_KEYS = (
    "school_max_page_size",
    "student_max_page_size",
    "staff_max_page_size",
    "section_max_page_size",
    "section_enrollment_max_page_size",
    "course_max_page_size",
    "term_max_page_size",
    "schema_table_query_max_page_size",
)


@dataclass(frozen=True)
class ExtractPlan:
    """What to extract, from the source's configuration: the switches that change the reads."""

    source: str = "sis"
    contact_module: bool = False
    sync_co_teachers: bool = True
    #: entity type → custom fields named ``TABLE.field`` (as in attribute_mapping)
    custom_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_source(cls, source: Any) -> ExtractPlan:
        """The plan of a ``rostersync.config`` SourceConfig (duck-typed to keep this light)."""
        custom: dict[str, tuple[str, ...]] = {}
        for entity_type, attrs in (source.attribute_mapping or {}).items():
            names: list[str] = []
            for rule in attrs.values():
                for name in rule.referenced_fields():
                    if tables.TABLE_FIELD.match(name) and not name.startswith("metadata."):
                        names.append(name)
            if names:
                custom[str(entity_type)] = tuple(dict.fromkeys(names))
        return cls(
            source=source.name,
            contact_module=bool(source.advanced.contact_module),
            sync_co_teachers=bool(source.advanced.sync_co_teachers),
            custom_fields=custom,
        )

    def table_reads(self) -> list[tables.TableRead]:
        """Every schema-table read this plan makes (what the plugin must grant)."""
        reads = [tables.CALENDAR_DAYS]
        if self.sync_co_teachers:
            reads += [tables.SECTION_IDS, tables.STAFF_IDS, tables.SECTION_TEACHERS, tables.ROLES]
        if self.contact_module:
            reads += list(tables.CONTACT_TABLES)
        reads += [c.read() for c in tables.custom_reads(self.custom_fields)]
        return reads


class _Tracker:
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


class PowerSchoolConnector:
    """Reads a PowerSchool district through a plugin's OAuth client."""

    app = "powerschool"
    #: Every extract is the whole of its scope (all schools of the mapping, every student the
    #: school lists), so a record that stops coming back is gone: the change flow treats absence
    #: as deletion for this source, like bulk upload mode (the hold threshold still guards
    #: against outages).
    complete_snapshot = True
    #: The ``connector:`` options, checked when a configuration file is loaded.
    options_model = PowerSchoolOptions

    def __init__(
        self,
        session: ApiSession,
        plan: ExtractPlan | None = None,
        options: PowerSchoolOptions | None = None,
    ) -> None:
        self.session = session
        self.plan = plan or ExtractPlan()
        self.options = options or PowerSchoolOptions()
        self._metadata: dict[str, Any] | None = None

    @classmethod
    def create(
        cls,
        client: httpx.AsyncClient,
        url: str,
        client_id: str,
        client_secret: str,
        *,
        plan: ExtractPlan | None = None,
        options: PowerSchoolOptions | None = None,
    ) -> PowerSchoolConnector:
        """Wire a connector onto ``client`` (which the caller opens and closes)."""
        opts = options or PowerSchoolOptions()
        plan = plan or ExtractPlan()
        auth = ClientCredentials(url, client_id, client_secret, source=plan.source)
        session = ApiSession(
            client,
            auth,
            url,
            concurrency=opts.concurrency,
            # A little over the server's interval: requests leave spaced by it but arrive with
            # network jitter, and one that arrives early is refused for a whole second.
            min_interval=opts.min_interval_ms * 1.1 / 1000 + (0.002 if opts.min_interval_ms else 0),
            retry=RetryPolicy(
                max_retries=opts.max_retries,
                base_seconds=opts.backoff_base_seconds,
                max_seconds=opts.backoff_max_seconds,
            ),
            source=plan.source,
        )
        return cls(session, plan, opts)

    @classmethod
    def from_source(
        cls, source: Any, client_secret: str, *, client: httpx.AsyncClient | None = None
    ) -> tuple[PowerSchoolConnector, httpx.AsyncClient]:
        """A connector for a configured source (``rostersync.config.SourceConfig``).

        Returns the connector and its client; the caller closes the client.
        """
        options = parse_options(source.connector, f"sources.{source.name}.connector")
        http = client or cls.http_client(options)
        plan = ExtractPlan.from_source(source)
        conn = cls.create(
            http,
            source.delivery.url,
            source.delivery.client_id,
            client_secret,
            plan=plan,
            options=options,
        )
        return conn, http

    @staticmethod
    def http_client(options: PowerSchoolOptions | None = None) -> httpx.AsyncClient:
        """An ``httpx`` client sized for the options: keep-alive pool ≥ concurrency."""
        opts = options or PowerSchoolOptions()
        return httpx.AsyncClient(
            timeout=httpx.Timeout(opts.timeout_seconds, connect=min(10.0, opts.timeout_seconds)),
            limits=httpx.Limits(
                max_connections=opts.concurrency + 2,
                max_keepalive_connections=opts.concurrency + 2,
            ),
            verify=opts.verify_tls,
            headers={"User-Agent": "rostersync"},
        )

    # ------------------------------------------------------------------ metadata and paging

    async def metadata(self) -> dict[str, Any]:
        """``/ws/v1/metadata`` (read once): page sizes, versions, time zone."""
        if self._metadata is None:
            self._metadata = unwrap_single(await self.session.get("/ws/v1/metadata"), "metadata")
        return self._metadata

    def page_size(self, key: str) -> int:
        """The page size for a collection: the plugin's maximum, lowered by the options."""
        md = self._metadata or {}
        raw = text(md.get(key))
        allowed = int(raw) if raw and raw.isdigit() and int(raw) > 0 else DEFAULT_PAGE_SIZE
        if self.options.page_size is not None:
            return min(allowed, self.options.page_size)
        return allowed

    async def _fetch(
        self,
        paginator: Paginator,
        convert: Callable[[list[JSONDict]], T],
        tracker: _Tracker,
        *,
        count: bool = True,
    ) -> list[T]:
        size = self.page_size(paginator.size_key)
        if not count:
            tracker.expect(1)
            return await fetch_pages(
                self.session,
                paginator,
                size,
                convert,
                on_page=lambda n, done, _e: tracker.on_page(n, done + 1, None),
                count=False,
            )
        return await fetch_pages(self.session, paginator, size, convert, on_page=tracker.on_page)

    # ------------------------------------------------------------------ connection test

    async def test_connection(self) -> ConnectionReport:
        """Check everything a sync needs and say exactly what is wrong, or what was found."""
        try:
            md = await self.metadata()
            district = unwrap_single(await self.session.get("/ws/v1/district"), "district")
            schools = await count_records(
                self.session,
                V1Pages("/ws/v1/district/school", "schools", "school", "school_max_page_size"),
            )
        except SourceError as exc:
            return ConnectionReport(False, exc.message, hint=exc.hint)
        page_sizes = {
            k.removesuffix("_max_page_size"): int(v)
            for k in PAGE_SIZE_KEYS
            if (v := text(md.get(k))) is not None and v.isdigit()
        }
        missing: list[str] = []
        problems: list[str] = []
        for read in self.plan.table_reads():
            probe = TablePages(read.table, read.columns)
            try:
                await self.session.get(
                    probe.page_request(1, 1).path, probe.page_request(1, 1).params
                )
            except FieldsNotGranted as exc:
                for denied in exc.fields:
                    shown = self._field_name(denied)
                    if shown not in missing:
                        missing.append(shown)
            except SourceAuthError as exc:
                problems.append(f"{read.table}: {exc.message}")
            except SourceDataError as exc:
                problems.append(f"{read.table}: {exc.message}")
            except SourceError as exc:
                return ConnectionReport(False, exc.message, hint=exc.hint)
        name = text(district.get("name"))
        base: dict[str, Any] = {
            "district_name": name,
            "school_count": schools,
            "page_sizes": page_sizes,
        }
        if missing:
            return ConnectionReport(
                False,
                "The PowerSchool plugin does not grant fields the configuration needs: "
                + ", ".join(missing),
                hint="write the plugin with `rostersync powerschool plugin --config FILE`, "
                "install it and copy its new client ID and secret",
                missing_fields=missing,
                details={"problems": problems},
                **base,
            )
        if problems:
            return ConnectionReport(
                False,
                "; ".join(problems),
                hint="check the plugin's access_request and the custom field names",
                details={"problems": problems},
                **base,
            )
        return ConnectionReport(
            True,
            f"Connected to {name or 'PowerSchool'}: {schools} schools",
            details={
                "powerschool_version": text(md.get("powerschool_version")),
                "district_timezone": text(md.get("district_timezone")),
            },
            **base,
        )

    def _field_name(self, name: str) -> str:
        """A denied ``table.column`` as the configuration spells it, else ``TABLE.column``."""
        for names in self.plan.custom_fields.values():
            for configured in names:
                if configured.lower() == name.lower():
                    return configured
        table, _, column = name.partition(".")
        return f"{table.upper()}.{column}" if column else name

    # ------------------------------------------------------------------ schools

    async def _schools(self, tracker: _Tracker | None = None) -> pl.DataFrame:
        await self.metadata()
        tr = tracker or _Tracker("schools", None)
        pages = await self._fetch(
            V1Pages("/ws/v1/district/school", "schools", "school", "school_max_page_size"),
            lambda recs: m.convert_page(recs, m.SCHOOL_SPEC),
            tr,
        )
        frame = m.concat(pages, m.SCHOOL_SPEC)
        return frame.filter(
            pl.col("school_number").fill_null("") != m.GRADUATED_SCHOOL_NUMBER
        ).unique("school_dcid", keep="first", maintain_order=True)

    async def list_schools(self) -> list[SchoolInfo]:
        """Every school (for the schools-mapping step), the Graduated Students school left out."""
        frame = await self._schools()
        return [
            SchoolInfo(
                r["school_dcid"],
                r["name"] or "",
                r["school_number"],
                r["low_grade"],
                r["high_grade"],
            )
            for r in frame.iter_rows(named=True)
        ]

    # ------------------------------------------------------------------ extraction

    async def extract(
        self,
        schools: Sequence[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> ExtractResult:
        """Canonical tables for the given schools (DCIDs or school numbers; None = all)."""
        started = time.perf_counter()
        src = self.plan.source
        trackers: dict[str, _Tracker] = {}

        def tracker(name: str) -> _Tracker:
            if name not in trackers:
                trackers[name] = _Tracker(name, progress)
            return trackers[name]

        await self.metadata()
        district = unwrap_single(await self.session.get("/ws/v1/district"), "district")
        school_frame = await self._schools(tracker("schools"))
        tracker("schools").finish()
        if schools is not None:
            wanted = [str(s) for s in schools]
            school_frame = school_frame.filter(
                pl.col("school_dcid").is_in(wanted) | pl.col("school_number").is_in(wanted)
            )
            found = set(school_frame["school_dcid"].to_list()) | set(
                school_frame["school_number"].to_list()
            )
            unknown = [s for s in wanted if s not in found]
            if unknown:
                raise SourceDataError(
                    "schools_mapping names schools PowerSchool does not have: "
                    + ", ".join(unknown),
                    source=src,
                    hint="list them with `rostersync powerschool schools --config FILE`",
                )
        school_ids: list[str] = school_frame["school_dcid"].to_list()

        async def per_school(
            name: str,
            path: str,
            plural: str,
            singular: str,
            key: str,
            spec: m.Spec,
            params: dict[str, Any] | None = None,
            convert: Callable[[list[JSONDict], str], pl.DataFrame] | None = None,
            *,
            count: bool = False,
        ) -> pl.DataFrame:
            # Lists of a school that usually fit one page are walked (one request); long
            # ones (students) are counted first so all their pages can be asked for at once.
            tr = tracker(name)

            async def one(sid: str) -> list[pl.DataFrame]:
                pag = V1Pages(path.format(sid=sid), plural, singular, key, params or {})
                conv = convert or (lambda recs, s: m.convert_page(recs, spec, school_dcid=s))
                return await self._fetch(pag, lambda recs: conv(recs, sid), tr, count=count)

            results = await asyncio.gather(*(one(s) for s in school_ids))
            tr.finish()
            return m.concat([f for pages in results for f in pages], spec, "school_dcid")

        student_params: dict[str, Any] = {"expansions": STUDENT_EXPANSIONS}
        if self.options.student_filter:
            student_params["q"] = self.options.student_filter

        async def sections_and_enrollments() -> tuple[pl.DataFrame, pl.DataFrame]:
            # Per school, a section's enrollments are asked for as soon as that school's
            # sections are in, so the slow schools do not hold the others' enrollments back.
            tr_sections, tr_cc = tracker("classes"), tracker("enrollments")

            async def enrollments_of(section: str) -> list[pl.DataFrame]:
                pag = V1Pages(
                    f"/ws/v1/section/{section}/section_enrollment",
                    "section_enrollments",
                    "section_enrollment",
                    "section_enrollment_max_page_size",
                )
                # Most sections fit one page: skip the count, walk until a short page.
                return await self._fetch(
                    pag, lambda recs: m.convert_page(recs, m.ENROLLMENT_SPEC), tr_cc, count=False
                )

            async def school(sid: str) -> tuple[list[pl.DataFrame], list[pl.DataFrame]]:
                pag = V1Pages(
                    f"/ws/v1/school/{sid}/section", "sections", "section", "section_max_page_size"
                )
                pages = await self._fetch(
                    pag,
                    lambda recs: m.convert_page(recs, m.SECTION_SPEC, school_dcid=sid),
                    tr_sections,
                    count=False,
                )
                ids = [i for p in pages for i in p["section_dcid"].to_list()]
                cc = await asyncio.gather(*(enrollments_of(i) for i in ids))
                return pages, [f for part in cc for f in part]

            results = await asyncio.gather(*(school(s) for s in school_ids))
            tr_sections.finish()
            tr_cc.finish()
            sections = m.concat(
                [f for pages, _ in results for f in pages], m.SECTION_SPEC, "school_dcid"
            )
            cc = m.concat([f for _, parts in results for f in parts], m.ENROLLMENT_SPEC)
            return sections, cc

        async def table(read: tables.TableRead, name: str) -> pl.DataFrame:
            tr = tracker(name)
            pages = await self._fetch(
                TablePages(read.table, read.columns, read.q),
                lambda recs: m.table_page(recs, read.columns),
                tr,
            )
            if pages:
                return pl.concat(pages)
            return pl.DataFrame(schema=dict.fromkeys(read.columns, pl.Utf8()))

        async def tables_of(
            reads: Sequence[tables.TableRead], name: str
        ) -> dict[str, pl.DataFrame]:
            frames = await asyncio.gather(*(table(r, name) for r in reads))
            tracker(name).finish()
            return {r.table: f for r, f in zip(reads, frames, strict=True)}

        custom = tables.custom_reads(self.plan.custom_fields)

        async def nothing() -> dict[str, pl.DataFrame]:
            return {}

        # Every independent read starts now; the session bounds how many requests fly at once.
        t_terms = asyncio.create_task(
            per_school(
                "sessions",
                "/ws/v1/school/{sid}/term",
                "terms",
                "term",
                "term_max_page_size",
                m.TERM_SPEC,
            )
        )
        t_courses = asyncio.create_task(
            per_school(
                "courses",
                "/ws/v1/school/{sid}/course",
                "courses",
                "course",
                "course_max_page_size",
                m.COURSE_SPEC,
            )
        )
        t_sections = asyncio.create_task(sections_and_enrollments())
        t_staff = asyncio.create_task(
            per_school(
                "staff",
                "/ws/v1/school/{sid}/staff",
                "staffs",
                "staff",
                "staff_max_page_size",
                m.STAFF_SPEC,
                {"expansions": STAFF_EXPANSIONS},
            )
        )
        t_students = asyncio.create_task(
            per_school(
                "students",
                "/ws/v1/school/{sid}/student",
                "students",
                "student",
                "student_max_page_size",
                m.STUDENT_SPEC,
                student_params,
                convert=m.student_page,
                count=True,
            )
        )
        t_calendar = asyncio.create_task(tables_of([tables.CALENDAR_DAYS], "calendar"))
        t_co = asyncio.create_task(
            tables_of(
                [tables.SECTION_IDS, tables.STAFF_IDS, tables.SECTION_TEACHERS, tables.ROLES],
                "co-teachers",
            )
            if self.plan.sync_co_teachers
            else nothing()
        )
        t_contacts = asyncio.create_task(
            tables_of(tables.CONTACT_TABLES, "contacts") if self.plan.contact_module else nothing()
        )
        t_custom = asyncio.create_task(
            tables_of([c.read() for c in custom], "custom fields") if custom else nothing()
        )
        everything: list[asyncio.Task[Any]] = [
            t_terms,
            t_courses,
            t_sections,
            t_staff,
            t_students,
            t_calendar,
            t_co,
            t_contacts,
            t_custom,
        ]
        try:
            await asyncio.gather(*everything)
        except BaseException:
            for task in everything:
                task.cancel()
            await asyncio.gather(*everything, return_exceptions=True)
            raise
        terms, courses, staff, students = (
            t_terms.result(),
            t_courses.result(),
            t_staff.result(),
            t_students.result(),
        )
        sections, cc = t_sections.result()
        calendar, co_tables = t_calendar.result(), t_co.result()
        contact_tables, custom_tables = t_contacts.result(), t_custom.result()
        extracted = time.perf_counter()

        roster = build_roster(
            self.plan,
            district,
            school_frame,
            terms,
            courses,
            sections,
            cc,
            staff,
            students,
            calendar["calendar_day"],
            co_tables,
            contact_tables,
            custom,
            custom_tables,
        )
        if "contacts" not in trackers:
            tracker("contacts")
        tracker("contacts").records = int(
            roster["users"].filter(pl.col("role").is_in(["guardian", "parent", "relative"])).height
        )
        stats = {
            "requests": self.session.stats.requests,
            "retries": self.session.stats.retries,
            "token_renewals": self.session.stats.renewals,
            "bytes": self.session.stats.bytes,
            "extract_seconds": round(extracted - started, 3),
            "map_seconds": round(time.perf_counter() - extracted, 3),
            "entities": {
                name: {"pages": t.pages, "records": t.records, "seconds": round(t.seconds, 3)}
                for name, t in trackers.items()
            },
        }
        return ExtractResult(roster, stats)
