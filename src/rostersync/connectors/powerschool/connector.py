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

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Self

import httpx
import polars as pl

from rostersync.clock import utcnow
from rostersync.connectors.base import (
    Baseline,
    Capabilities,
    ConnectionReport,
    Connector,
    Extraction,
    ProgressCallback,
    SchoolInfo,
)
from rostersync.connectors.catalog import SourceField
from rostersync.connectors.health import PartialExtractError
from rostersync.connectors.powerschool import _tables as tables
from rostersync.connectors.powerschool import catalog, diagnosis
from rostersync.connectors.powerschool import incremental as inc
from rostersync.connectors.powerschool import mapping as m
from rostersync.connectors.powerschool._assemble import ExtractedFrames, build_roster
from rostersync.connectors.powerschool._auth import ClientCredentials
from rostersync.connectors.powerschool._changes import ChangeTrackingUnavailable, current_version
from rostersync.connectors.powerschool._http import (
    ApiSession,
    FieldsNotGranted,
    RetryPolicy,
)
from rostersync.connectors.powerschool._json import text, unwrap_single
from rostersync.connectors.powerschool._paging import TablePages, count_records
from rostersync.connectors.powerschool._reads import SCHOOLS, Executor, SchoolRead, TableGroup
from rostersync.connectors.powerschool.config import PowerSchoolOptions, parse_options
from rostersync.connectors.powerschool.writeback import (
    WRITE_ACCESS,
    GradeSync,
    WriteAccessNotGranted,
)
from rostersync.errors import ConfigurationError, SourceAuthError, SourceDataError, SourceError

if TYPE_CHECKING:
    from rostersync.config import SourceConfig


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
    #: ``sync_mode: two_way``: grades are written back (the plugin must grant grade sync)
    write_back: bool = False
    #: Incremental extraction: the change-tracking PowerQuery and its columns are needed.
    change_tracking: bool = False

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
        options = parse_options(source.connector, f"sources.{source.name}.connector")
        return cls(
            source=source.name,
            contact_module=bool(source.advanced.contact_module),
            sync_co_teachers=bool(source.advanced.sync_co_teachers),
            custom_fields=custom,
            write_back=getattr(source, "sync_mode", "import") == "two_way",
            change_tracking=options.incremental,
        )

    def table_reads(self) -> list[tables.TableRead]:
        """Every schema-table read this plan makes (what the plugin must grant)."""
        reads = [tables.CALENDAR_DAYS]
        if self.sync_co_teachers:
            reads += [tables.SECTION_IDS, tables.STAFF_IDS, tables.SECTION_TEACHERS, tables.ROLES]
        if self.contact_module:
            reads += list(tables.CONTACT_TABLES)
        reads += [c.read() for c in tables.custom_reads(self.custom_fields)]
        if self.change_tracking:
            from rostersync.connectors.powerschool._changes import ENROLLMENTS_COLUMNS

            reads += [tables.TableRead(t, c) for t, c in ENROLLMENTS_COLUMNS.items()]
        return reads


class PowerSchoolConnector:
    """Reads a PowerSchool district through a plugin's OAuth client."""

    app: ClassVar[str] = "powerschool"
    #: The name of its card in the Application Gallery.
    title: ClassVar[str] = "PowerSchool SIS"
    #: Every extract is the whole of its scope (all schools of the mapping, every student the
    #: school lists), so a record that stops coming back is gone: the change flow treats absence
    #: as deletion for this source, like bulk upload mode (the health ledger and the hold
    #: threshold guard against outages). An incremental extract folds the changes into the
    #: previous one, so it is still the whole of its scope. No write-back yet.
    capabilities: ClassVar[Capabilities] = Capabilities(complete_snapshot=True, incremental=True)
    complete_snapshot: ClassVar[bool] = True
    #: The ``connector:`` options, checked when a configuration file is loaded.
    options_model: ClassVar[type[PowerSchoolOptions]] = PowerSchoolOptions

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
    ) -> Self:
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
            max_throttle_wait=opts.max_throttle_wait_seconds,
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
        cls,
        source: SourceConfig,
        client_secret: str,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> tuple[Self, httpx.AsyncClient]:
        """A connector for a configured source (``rostersync.config.SourceConfig``).

        Returns the connector and its client; the caller closes the client.
        """
        options = parse_options(source.connector, f"sources.{source.name}.connector")
        delivery = source.require_delivery()
        http = client or cls.http_client(options)
        plan = ExtractPlan.from_source(source)
        conn = cls.create(
            http,
            delivery.url,
            delivery.client_id,
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
            wrong_url = diagnosis.service_url_report(self.session.base_url)
            if wrong_url is not None:  # every read would fail as if the credentials were wrong
                raise ConfigurationError(
                    wrong_url.message, setting="delivery.url", hint=wrong_url.hint
                )
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

    # ------------------------------------------------------------------ connection test

    async def test_connection(self) -> ConnectionReport:
        """Check everything a sync needs and say exactly what is wrong, or what was found."""
        wrong_url = diagnosis.service_url_report(self.session.base_url)
        if wrong_url is not None:
            return wrong_url
        try:
            md = await self.metadata()
            district = unwrap_single(await self.session.get("/ws/v1/district"), "district")
            schools = await count_records(self.session, SCHOOLS)
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
                hint="write the plugin with `rostersync powerschool plugin --config FILE --out "
                "plugin.zip`, "
                "install it and copy its new client ID and secret",
                missing_fields=missing,
                details={"problems": problems},
                **base,
            )
        if self.plan.write_back:  # sync_mode two_way: the plugin must grant grade sync too
            try:
                await GradeSync(self.session).probe()
            except WriteAccessNotGranted as exc:
                return ConnectionReport(
                    False,
                    f"sync_mode two_way: {exc.message}",
                    hint=exc.hint,
                    missing_fields=[f"{table} ({access})" for table, access in WRITE_ACCESS],
                    **base,
                )
        unknown = await diagnosis.unknown_fields(
            self.session, tables.custom_reads(self.plan.custom_fields)
        )
        if unknown:
            return ConnectionReport(
                False,
                "PowerSchool has no field " + ", ".join(unknown) + " (read by the attribute "
                "mapping)",
                hint="check the spelling of each TABLE.field against PowerSchool's tables",
                details={"problems": problems, "unknown_fields": unknown},
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

    async def source_fields(self) -> list[SourceField]:
        """The tables, extension groups and extension tables a mapping can read."""
        return await catalog.source_fields(self.session)

    def _field_name(self, name: str) -> str:
        """A denied ``table.column`` as the configuration spells it, else ``TABLE.column``."""
        for names in self.plan.custom_fields.values():
            for configured in names:
                if configured.lower() == name.lower():
                    return configured
        table, _, column = name.partition(".")
        return f"{table.upper()}.{column}" if column else name

    # ------------------------------------------------------------------ schools

    async def _schools(self, executor: Executor | None = None) -> pl.DataFrame:
        await self.metadata()
        return await (executor or Executor(self.session, self.page_size, None)).schools()

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

    def school_reads(self) -> tuple[tuple[SchoolRead, ...], SchoolRead]:
        """The per-school reads of an extraction (sections apart: enrollments hang on them)."""
        student_params: dict[str, Any] = {"expansions": STUDENT_EXPANSIONS}
        if self.options.student_filter:
            student_params["q"] = self.options.student_filter
        reads = (
            SchoolRead("sessions", "term", "terms", m.TERM_SPEC),
            SchoolRead("courses", "course", "courses", m.COURSE_SPEC),
            SchoolRead("staff", "staff", "staffs", m.STAFF_SPEC, {"expansions": STAFF_EXPANSIONS}),
            SchoolRead(
                "students", "student", "students", m.STUDENT_SPEC, student_params, m.student_page
            ),
        )
        return reads, SchoolRead("classes", "section", "sections", m.SECTION_SPEC)

    def table_groups(self) -> list[TableGroup]:
        """The schema-table reads of an extraction, by progress name."""
        groups = [TableGroup("calendar", (tables.CALENDAR_DAYS,))]
        if self.plan.sync_co_teachers:
            groups.append(
                TableGroup(
                    "co-teachers",
                    (tables.SECTION_IDS, tables.STAFF_IDS, tables.SECTION_TEACHERS, tables.ROLES),
                )
            )
        if self.plan.contact_module:
            groups.append(TableGroup("contacts", tuple(tables.CONTACT_TABLES)))
        custom = tables.custom_reads(self.plan.custom_fields)
        if custom:
            groups.append(TableGroup("custom fields", tuple(c.read() for c in custom)))
        return groups

    async def extract(
        self,
        schools: Sequence[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        baseline: Baseline | None = None,
    ) -> Extraction:
        """Canonical tables for the given schools (DCIDs or school numbers; None = all).

        With the ``incremental`` option, the changes since ``baseline`` are folded into it when
        change tracking allows (see :mod:`.incremental`), and the result carries the baseline
        for the next run; ``stats["incremental"]`` says how it was made and why.

        Raises :class:`~rostersync.connectors.health.PartialExtractError` when the source sent
        less than it says it holds (a partial outage): short tables are never returned.
        """
        started = time.perf_counter()
        executor = Executor(self.session, self.page_size, progress)
        await self.metadata()
        district = unwrap_single(await self.session.get("/ws/v1/district"), "district")
        school_frame = await executor.schools()
        executor.tracker("schools").finish()
        # A source that lists nothing at all is no partial outage: its empty tables go to the
        # circuit breaker, which fails a run whose extract has no records.
        school_frame = self._in_scope(school_frame, schools)
        tracking = self.options.incremental
        mark = inc.fingerprint(self, schools) if tracking else ""
        mode: inc.Mode | None = None
        frames: ExtractedFrames | None = None
        version: str | None = None
        full_at = utcnow()
        if tracking:
            reason = inc.full_pull_reason(self, baseline, mark, full_at)
            if reason is None and baseline is not None:
                frames, mode, version = await self._incremental(
                    executor, baseline, district, school_frame
                )
                full_at = baseline.full_at
            else:
                mode = inc.Mode("full", reason or "")
        if frames is None:
            if tracking:
                try:
                    version = await current_version(
                        self.session, self.options.dataversion_application
                    )
                except ChangeTrackingUnavailable as exc:
                    version = None
                    mode = inc.Mode("full", f"change tracking unavailable: {exc.reason}")
            frames = await self._full(executor, district, school_frame)
            full_at = utcnow() if mode is None or mode.mode == "full" else full_at
        health = executor.ledger.verdict()
        if not health.ok:
            raise PartialExtractError(health, source=self.plan.source)
        extracted = time.perf_counter()
        roster = build_roster(self.plan, frames)
        contacts = executor.tracker("contacts")
        contacts.records = int(
            roster["users"].filter(pl.col("role").is_in(["guardian", "parent", "relative"])).height
        )
        requests = replace(self.session.stats, by_status=dict(self.session.stats.by_status))
        stats: dict[str, Any] = {
            "requests": requests.requests,
            "retries": requests.retries,
            "token_renewals": requests.renewals,
            "throttled": requests.throttled,
            "throttle_wait_seconds": round(requests.throttle_wait_seconds, 3),
            "bytes": requests.bytes,
            "extract_seconds": round(extracted - started, 3),
            "map_seconds": round(time.perf_counter() - extracted, 3),
            "entities": {
                name: {"pages": t.pages, "records": t.records, "seconds": round(t.seconds, 3)}
                for name, t in executor.trackers.items()
            },
        }
        kept: Baseline | None = None
        if mode is not None:
            stats["incremental"] = {**mode.as_dict(), "version": version}
            if version is not None:
                kept = Baseline(version, inc.baseline_frames(frames), mark, full_at)
        return Extraction(roster, stats, health, requests, baseline=kept)

    async def _full(
        self, executor: Executor, district: dict[str, Any], school_frame: pl.DataFrame
    ) -> ExtractedFrames:
        """Every read of the scope (a full pull)."""
        reads, sections = self.school_reads()
        fetched = await executor.run(school_frame, reads, sections, self.table_groups())
        groups = fetched.tables
        return ExtractedFrames(
            district=district,
            schools=school_frame,
            terms=fetched.school_frames["sessions"],
            courses=fetched.school_frames["courses"],
            sections=fetched.school_frames["classes"],
            cc=fetched.enrollments,
            staff=fetched.school_frames["staff"],
            students=fetched.school_frames["students"],
            calendar=groups["calendar"]["calendar_day"],
            co_tables=groups.get("co-teachers", {}),
            contact_tables=groups.get("contacts", {}),
            custom=tables.custom_reads(self.plan.custom_fields),
            custom_tables=groups.get("custom fields", {}),
        )

    async def _incremental(
        self,
        executor: Executor,
        baseline: Baseline,
        district: dict[str, Any],
        school_frame: pl.DataFrame,
    ) -> tuple[ExtractedFrames | None, inc.Mode, str | None]:
        """The baseline with the changes since it folded in, or (None, why a full pull)."""
        read = inc.IncrementalRead(self, executor, baseline, school_frame)
        try:
            now, changed = await read.changes()
        except ChangeTrackingUnavailable as exc:
            return None, inc.Mode("full", f"change tracking unavailable: {exc.reason}"), None
        since = baseline.cursor
        if int(now) < int(since):
            why = f"the data version went back from {since} to {now} (change tracking was reset)"
            return None, inc.Mode("full", why), None
        if set(changed) & inc.FULL_PULL_TABLES or set(
            baseline.frames["schools"]["school_dcid"].to_list()
        ) != set(school_frame["school_dcid"].to_list()):
            return None, inc.Mode("full", "the district's schools changed"), None
        reads, section_read = self.school_reads()
        by_entity = {r.entity: r for r in reads}
        try:
            terms = await read.per_school(by_entity["sessions"], changed)
            courses = await read.per_school(by_entity["courses"], changed)
            staff = await read.per_school(by_entity["staff"], changed)
            sections = await read.per_school(section_read, changed)
            new_sections = sorted(
                set(sections["section_dcid"].to_list())
                - set(baseline.frames["sections"]["section_dcid"].to_list())
            )
            student_keys = set().union(*(changed.get(t, set()) for t in inc.STUDENT_TABLES))
            students = await read.students(student_keys, by_entity["students"])
            cc = await read.enrollments(changed, sections, new_sections)
            groups = await read.groups(self.table_groups(), changed)
        except ChangeTrackingUnavailable as exc:
            return None, inc.Mode("full", f"change tracking unavailable: {exc.reason}"), None
        frames = ExtractedFrames(
            district=district,
            schools=school_frame,
            terms=terms,
            courses=courses,
            sections=sections,
            cc=cc,
            staff=staff,
            students=students,
            calendar=groups["calendar"]["calendar_day"],
            co_tables=groups.get("co-teachers", {}),
            contact_tables=groups.get("contacts", {}),
            custom=tables.custom_reads(self.plan.custom_fields),
            custom_tables=groups.get("custom fields", {}),
        )
        counts = {t: len(k) for t, k in sorted(changed.items())}
        mode = inc.Mode("incremental", "changes since the previous extraction", since, now, counts)
        return frames, mode, now

    def _in_scope(self, frame: pl.DataFrame, schools: Sequence[str] | None) -> pl.DataFrame:
        """The schools of the scope; a clear error naming the schools the source lacks."""
        if schools is None:
            return frame
        wanted = [str(s) for s in schools]
        frame = frame.filter(
            pl.col("school_dcid").is_in(wanted) | pl.col("school_number").is_in(wanted)
        )
        found = set(frame["school_dcid"].to_list()) | set(frame["school_number"].to_list())
        unknown = [s for s in wanted if s not in found]
        if unknown:
            raise SourceDataError(
                "schools_mapping names schools PowerSchool does not have: " + ", ".join(unknown),
                source=self.plan.source,
                hint="list them with `rostersync powerschool schools --config FILE`",
            )
        return frame


if TYPE_CHECKING:
    _contract: type[Connector] = PowerSchoolConnector
