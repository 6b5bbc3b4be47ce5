"""The LDAP / Active Directory connector: test the bind and the searches, list schools, extract.

Built by composition: an :class:`~._directory.Endpoint` (server, bind DN, the password read from
the secret store), the paged searches of :mod:`._directory` and the attribute mapping of
:mod:`.mapping`. The students, staff and group searches run concurrently, each on its own
connection in a worker thread, at most ``concurrency`` at once. A search the server cut short or
broke off fails the whole extract: nothing of it is returned, so nothing of it is published.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import httpx

from rostersync.connectors.base import (
    Capabilities,
    ConnectionReport,
    Connector,
    Extraction,
    ProgressCallback,
    ProgressEvent,
    RequestStats,
    SchoolInfo,
)
from rostersync.connectors.health import HealthProblem, PartialExtractError, SourceHealth
from rostersync.connectors.ldap import mapping as m
from rostersync.connectors.ldap._directory import (
    Endpoint,
    SearchOutcome,
    SearchSpec,
    close,
    connect,
    paged_search,
    search_all,
)
from rostersync.connectors.ldap.config import LdapOptions, PeopleSearch, parse_options
from rostersync.errors import ConfigurationError, SourceError

if TYPE_CHECKING:
    from rostersync.config import SourceConfig

_LDAP_URL = re.compile(r"^ldaps?://[^\s/]+/?$", re.IGNORECASE)


class LdapConnector:
    """Reads students and staff from an LDAP directory or Active Directory."""

    app: ClassVar[str] = "ldap"
    #: An extract is every entry the searches find: an account that leaves them (deleted,
    #: moved out of the OU, filtered out) is gone. A search cut short fails the extract.
    capabilities: ClassVar[Capabilities] = Capabilities(complete_snapshot=True)
    complete_snapshot: ClassVar[bool] = True
    #: The ``connector:`` options, checked when a configuration file is loaded.
    options_model: ClassVar[type[LdapOptions]] = LdapOptions

    def __init__(self, endpoint: Endpoint, options: LdapOptions) -> None:
        self.endpoint = endpoint
        self.options = options
        self.stats = RequestStats()

    def __repr__(self) -> str:
        return f"LdapConnector({self.endpoint!r})"

    @classmethod
    def from_source(
        cls,
        source: SourceConfig,
        client_secret: str,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> tuple[Self, httpx.AsyncClient]:
        """A connector for a configured ``ldap`` source; the bind password is the resolved
        ``delivery.client_secret``. LDAP needs no HTTP: the client is handed back unused (the
        caller closes it, as for every connector)."""
        options = parse_options(source.connector, f"sources.{source.name}.connector")
        delivery = source.require_delivery()
        if not _LDAP_URL.match(delivery.url):
            raise ConfigurationError(
                f"Source {source.name!r}: delivery.url {delivery.url!r} is not an LDAP server URL",
                setting="sources[].delivery.url",
                hint="write ldap://host:389 or ldaps://host:636 (no path)",
            )
        ldaps = delivery.url.lower().startswith("ldaps://")
        if ldaps and options.start_tls:
            raise ConfigurationError(
                f"Source {source.name!r}: connector.start_tls upgrades an ldap:// connection; "
                f"{delivery.url} is TLS from the start",
                setting="sources[].connector.start_tls",
                hint="remove start_tls, or use ldap://host:389 with it",
            )
        idle = sorted(options.model_fields_set & {"verify_tls", "ca_file"})
        if idle and not (ldaps or options.start_tls):
            raise ConfigurationError(
                f"Source {source.name!r}: connector.{idle[0]} applies to TLS, and "
                f"{delivery.url} without start_tls is not encrypted",
                setting=f"sources[].connector.{idle[0]}",
                hint="use ldaps://host:636 or start_tls: true (or remove the setting)",
            )
        if options.ca_file is not None and not Path(options.ca_file).is_file():
            raise ConfigurationError(
                f"Source {source.name!r}: connector.ca_file {options.ca_file!r} is not a file",
                setting="sources[].connector.ca_file",
                hint="give the path of the PEM file of the CA that signed the LDAP server's "
                "certificate",
            )
        endpoint = Endpoint(
            url=delivery.url.rstrip("/"),
            bind_dn=delivery.client_id,
            password=client_secret,
            timeout=options.timeout_seconds,
            start_tls=options.start_tls,
            verify_tls=options.verify_tls,
            ca_file=options.ca_file,
            source=source.name,
        )
        return cls(endpoint, options), client or httpx.AsyncClient()

    # ------------------------------------------------------------------ searches

    def _people_spec(self, name: str, search: PeopleSearch, *, schools_only: bool) -> SearchSpec:
        opts = self.options
        if schools_only:
            wanted = [search.school_attribute or opts.id_attribute(search)]
        else:
            wanted = [opts.id_attribute(search), *opts.mapping(search).values()]
            wanted += [search.school_attribute or "", *search.extra_attributes]
            if opts.groups.membership == "member_of":
                wanted.append("memberOf")
            if opts.directory == "active_directory":
                wanted.append("userAccountControl")
        attributes = tuple(dict.fromkeys(a for a in wanted if a))
        return SearchSpec(
            name,
            search.base_dn,
            opts.filter_of(search),
            search.scope,
            attributes,
            f"connector.{name}",
        )

    def specs(self, *, schools_only: bool = False) -> list[SearchSpec]:
        """Every search an extraction runs (the group search last)."""
        specs = [
            self._people_spec(name, s, schools_only=schools_only)
            for name, s in self.options.searches().items()
        ]
        groups = self.options.groups
        if groups.membership == "group_search" and groups.base_dn and not schools_only:
            specs.append(
                SearchSpec(
                    "groups",
                    groups.base_dn,
                    groups.filter,
                    "subtree",
                    (groups.name_attribute, groups.member_attribute),
                    "connector.groups",
                )
            )
        return specs

    async def _run(
        self, specs: Sequence[SearchSpec], progress: ProgressCallback | None
    ) -> dict[str, SearchOutcome]:
        """Run the searches concurrently (bounded); every one finishes before any error is
        raised, so no worker thread outlives the extract."""
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(self.options.concurrency)

        def on_page(name: str, records: int, pages: int) -> None:  # in a worker thread
            if progress is not None:
                event = ProgressEvent(name, records, pages, None)
                loop.call_soon_threadsafe(progress, event)

        async def one(spec: SearchSpec) -> SearchOutcome:
            async with gate:
                return await asyncio.to_thread(
                    search_all, self.endpoint, spec, self.options.page_size, on_page
                )

        results = await asyncio.gather(*(one(s) for s in specs), return_exceptions=True)
        outcomes: dict[str, SearchOutcome] = {}
        for spec, result in zip(specs, results, strict=True):
            if isinstance(result, BaseException):
                raise result
            outcomes[spec.name] = result
        self.stats.requests += sum(o.pages for o in outcomes.values())
        if progress is not None:
            for name, o in outcomes.items():
                progress(ProgressEvent(name, len(o.entries), o.pages, o.pages, finished=True))
        return outcomes

    def _health(self, specs: Sequence[SearchSpec], found: dict[str, SearchOutcome]) -> SourceHealth:
        problems = [
            HealthProblem(
                "users" if spec.name != "groups" else "groups",
                f"{spec.name}:{spec.base_dn}",
                None,
                len(found[spec.name].entries),
                f"the server stopped the search after {len(found[spec.name].entries)} entries "
                f"({found[spec.name].stopped})",
            )
            for spec in specs
            if found[spec.name].stopped
        ]
        return SourceHealth(tuple(problems))

    # ------------------------------------------------------------------ the contract

    async def test_connection(self) -> ConnectionReport:
        """Bind, then read the first entry of every search: what is wrong, or what was found.

        The first entry of a people search must carry the ID attribute (without it no record
        can be made); other attributes it lacks are listed in ``details`` only, since an entry
        may simply have no phone number.
        """
        try:
            details = await asyncio.to_thread(self._probe)
        except SourceError as exc:
            return ConnectionReport(False, exc.message, hint=exc.hint)
        no_id = {
            name: self.options.id_attribute(search)
            for name, search in self.options.searches().items()
            if self.options.id_attribute(search) in details[name]["first_entry_lacks"]
        }
        if no_id:
            return ConnectionReport(
                False,
                "The first entry of "
                + ", ".join(f"the {n} search has no {a}" for n, a in no_id.items())
                + ": entries without their ID attribute cannot become records",
                hint="choose an id_attribute every entry has, or narrow the search's filter",
                missing_fields=[f"connector.{n}.id_attribute: {a}" for n, a in no_id.items()],
                details={"searches": details},
            )
        return ConnectionReport(
            True,
            f"Connected to {self.endpoint.url} as {self.endpoint.bind_dn}: "
            + ", ".join(
                f"{n} under {d['base_dn']}"
                + ("" if d["found_entries"] else " (nothing matches the filter there)")
                for n, d in details.items()
            ),
            details={"searches": details},
        )

    def _probe(self) -> dict[str, dict[str, Any]]:
        conn = connect(self.endpoint)
        try:
            out: dict[str, dict[str, Any]] = {}
            for spec in self.specs():
                sample = paged_search(conn, spec, 1, self.endpoint, max_pages=1).entries
                first = sample[0] if sample else None
                lacks = [a for a in spec.attributes if first is not None and not m.first(first, a)]
                out[spec.name] = {
                    "base_dn": spec.base_dn,
                    "found_entries": first is not None,
                    "first_entry_lacks": lacks,
                }
            return out
        finally:
            close(conn)

    async def list_schools(self) -> list[SchoolInfo]:
        """The schools the people's school attribute holds, with ``school_names`` ones."""
        held: set[str] = set()
        names = self.options.school_names
        if not any(s.school_attribute for s in self.options.searches().values()):
            return [SchoolInfo(s, names[s], s) for s in sorted(names)]
        found = await self._run(self.specs(schools_only=True), None)
        for name, search in self.options.searches().items():
            if search.school_attribute:
                held.update(
                    v for e in found[name].entries if (v := m.first(e, search.school_attribute))
                )
        return [SchoolInfo(s, names.get(s, s), s) for s in sorted({*names, *held})]

    async def extract(
        self,
        schools: Sequence[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> Extraction:
        """Students, staff and their schools; raises a source error when a search fails and
        :class:`PartialExtractError` when the server stopped one short."""
        started = time.perf_counter()
        self.stats = RequestStats()  # this extraction's requests only
        specs = self.specs()
        found = await self._run(specs, progress)
        health = self._health(specs, found)
        if not health.ok:
            raise PartialExtractError(health, source=self.endpoint.source)
        extracted = time.perf_counter()
        groups = self.options.groups
        groups_of = (
            m.members_by_group(
                found["groups"].entries, groups.name_attribute, groups.member_attribute
            )
            if "groups" in found
            else None
        )
        people = {n: o.entries for n, o in found.items() if n != "groups"}
        roster = m.build_roster(self.options, people, groups_of, self.endpoint.source, schools)
        stats = {
            "requests": self.stats.requests,
            "extract_seconds": round(extracted - started, 3),
            "map_seconds": round(time.perf_counter() - extracted, 3),
            "entities": {
                n: {"pages": o.pages, "records": len(o.entries), "seconds": round(o.seconds, 3)}
                for n, o in found.items()
            },
        }
        return Extraction(roster, stats, health, self.stats)


if TYPE_CHECKING:
    _contract: type[Connector] = LdapConnector
