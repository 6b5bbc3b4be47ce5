"""The OneRoster REST source connector: a consumer of any OneRoster 1.1 or 1.2 provider.

Built by composition: an ``httpx`` client the caller owns, a sign-in (OAuth 2 client
credentials or OAuth 1.0a signatures, :mod:`._auth`), a retrying session (:mod:`._http`) and
the pager (:mod:`._paging`) reading each collection with bounded concurrency. The seven
rostering collections are read at once, mapped by :mod:`.mapping`, and checked against what
the provider announced. :meth:`OneRosterRestConnector.extract_changes` reads only what changed
since a time (``filter=dateLastModified>'…'``) when the provider supports the filter, and
everything otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self

import httpx
import polars as pl

from rostersync.connectors.base import (
    Capabilities,
    ConnectionReport,
    Connector,
    Extraction,
    ProgressCallback,
    SchoolInfo,
)
from rostersync.connectors.health import HealthLedger, PartialExtractError
from rostersync.connectors.oneroster_rest._auth import Auth, OAuth1Signer, OAuth2Client
from rostersync.connectors.oneroster_rest._http import Session
from rostersync.connectors.oneroster_rest._paging import fetch_collection, gather_all
from rostersync.connectors.oneroster_rest.config import RestOptions, parse_options
from rostersync.connectors.oneroster_rest.mapping import (
    COLLECTIONS,
    build_roster,
    canonical,
    raw_frame,
)
from rostersync.errors import SourceDataError, SourceError

if TYPE_CHECKING:
    from rostersync.config import SourceConfig


class OneRosterRestConnector:
    """Reads a district from a OneRoster REST provider."""

    app: ClassVar[str] = "oneroster_rest"
    #: A provider lists deleted records as ``tobedeleted`` for a while (or not at all): absence
    #: deletes only in the source's ``bulk_upload`` mode. Delta reads: ``extract_changes``.
    capabilities: ClassVar[Capabilities] = Capabilities(complete_snapshot=False, incremental=True)
    complete_snapshot: ClassVar[bool] = False
    options_model: ClassVar[type[RestOptions]] = RestOptions

    def __init__(self, session: Session) -> None:
        self.session = session

    def __repr__(self) -> str:
        return f"OneRosterRestConnector(url={self.session.base_url!r}, auth={self.session.auth!r})"

    @classmethod
    def create(
        cls,
        client: httpx.AsyncClient,
        url: str,
        client_id: str,
        client_secret: str,
        *,
        options: RestOptions | None = None,
        source: str = "oneroster",
    ) -> Self:
        """Wire a connector onto ``client`` (which the caller opens and closes)."""
        opts = options or RestOptions()
        base = url.rstrip("/")
        auth: Auth
        if opts.auth == "oauth1":
            auth = OAuth1Signer(client_id, client_secret)
        else:
            token_url = opts.token_url or f"{base}/oauth/token"
            auth = OAuth2Client(token_url, client_id, client_secret, opts.scopes(), source)
        return cls(Session(client, auth, base, opts, source))

    @classmethod
    def from_source(
        cls,
        source: SourceConfig,
        client_secret: str,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> tuple[Self, httpx.AsyncClient]:
        """A connector for a configured source, and its client (the caller closes it)."""
        options = parse_options(source.connector, f"sources.{source.name}.connector")
        delivery = source.require_delivery()
        http = client or cls.http_client(options)
        conn = cls.create(
            http,
            delivery.url,
            delivery.client_id,
            client_secret,
            options=options,
            source=source.name,
        )
        return conn, http

    @staticmethod
    def http_client(options: RestOptions | None = None) -> httpx.AsyncClient:
        """An ``httpx`` client sized for the options: keep-alive pool ≥ concurrency."""
        opts = options or RestOptions()
        return httpx.AsyncClient(
            timeout=httpx.Timeout(opts.timeout_seconds, connect=min(10.0, opts.timeout_seconds)),
            limits=httpx.Limits(
                max_connections=opts.concurrency + 2,
                max_keepalive_connections=opts.concurrency + 2,
            ),
            verify=opts.verify_tls,
            headers={"User-Agent": "rostersync"},
        )

    # ------------------------------------------------------------------ the contract

    async def test_connection(self) -> ConnectionReport:
        """Sign in and read one page of orgs: what is wrong, or what the provider holds."""
        try:
            page = await self.session.get(self.session.url("/orgs"), {"limit": "1000"})
            orgs = page.body.get("orgs")
            if not isinstance(orgs, list):
                raise SourceDataError(
                    f"{self.session.url('/orgs')} answered without an 'orgs' list",
                    hint="check delivery.url and connector.version (1.1 or 1.2)",
                )
        except SourceError as exc:
            return ConnectionReport(False, exc.message, hint=exc.hint)
        schools = [o for o in orgs if isinstance(o, dict) and o.get("type") == "school"]
        districts = [o for o in orgs if isinstance(o, dict) and o.get("type") == "district"]
        name = str(districts[0].get("name")) if districts else None
        return ConnectionReport(
            True,
            f"Connected to {name or 'the OneRoster provider'} (OneRoster "
            f"{self.session.options.version}): {page.total or len(orgs)} orgs",
            district_name=name,
            school_count=len(schools),
        )

    async def list_schools(self) -> list[SchoolInfo]:
        """Every school the provider lists."""
        ledger = HealthLedger()
        orgs = await fetch_collection(self.session, "orgs", "orgs", ledger)
        return [
            SchoolInfo(str(o["sourcedId"]), str(o.get("name") or ""), o.get("identifier"))
            for o in orgs
            if o.get("type") == "school" and o.get("sourcedId")
        ]

    async def extract(
        self,
        schools: Sequence[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> Extraction:
        """Every rostering collection of the provider, as canonical tables."""
        return await self._extract(schools, progress, None)

    async def extract_changes(
        self,
        since: datetime,
        schools: Sequence[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> Extraction:
        """What changed since ``since`` (``stats["delta"]`` says whether the provider could
        filter by ``dateLastModified``; when it cannot, everything is read)."""
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        clause = f"dateLastModified>'{stamp}'"
        probe = {"limit": "1", "filter": clause}
        try:
            await self.session.get(self.session.url("/orgs"), probe)
        except SourceDataError:
            return await self._extract(schools, progress, None)
        return await self._extract(schools, progress, clause)

    async def _extract(
        self,
        schools: Sequence[str] | None,
        progress: ProgressCallback | None,
        clause: str | None,
    ) -> Extraction:
        started = time.perf_counter()
        ledger = HealthLedger()
        extra = {"filter": clause} if clause else None
        entities = list(COLLECTIONS)
        fetched = await gather_all(
            fetch_collection(
                self.session, e, COLLECTIONS[e], ledger, extra=extra, progress=progress
            )
            for e in entities
        )
        health = ledger.verdict()
        if not health.ok:
            raise PartialExtractError(health, source=self.session.source)
        extracted = time.perf_counter()
        version = self.session.options.version
        problems: list[str] = []
        tables: dict[str, pl.DataFrame] = {}
        for entity, records in zip(entities, fetched, strict=True):
            frame = raw_frame(entity, records, version)
            dupes = frame.filter(pl.col("sourcedId").is_duplicated())["sourcedId"]
            if dupes.len():
                problems.append(f"{entity} {dupes[0]!r}: the provider lists it more than once")
            tables[entity] = canonical(entity, frame, self.session.source, problems, version)
        if problems:
            shown = "; ".join(problems[:10])
            more = f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
            raise SourceDataError(
                f"The OneRoster provider sent records that cannot be imported: {shown}{more}",
                source=self.session.source,
                hint="nothing was imported; correct the records on the provider",
            )
        roster = build_roster(tables)
        self._check_scope(roster, schools)
        stats: dict[str, Any] = {
            "requests": self.session.stats.requests,
            "retries": self.session.stats.retries,
            "token_renewals": self.session.stats.renewals,
            "bytes": self.session.stats.bytes,
            "delta": clause is not None,
            "extract_seconds": round(extracted - started, 3),
            "map_seconds": round(time.perf_counter() - extracted, 3),
            "entities": {e: len(r) for e, r in zip(entities, fetched, strict=True)},
        }
        return Extraction(roster, stats, health, self.session.stats)

    def _check_scope(self, roster: dict[str, pl.DataFrame], schools: Sequence[str] | None) -> None:
        if schools is None:
            return
        orgs = roster["orgs"].filter(pl.col("type") == "school")
        known = set(orgs["sourcedId"].to_list()) | set(orgs["identifier"].drop_nulls().to_list())
        unknown = [s for s in map(str, schools) if s not in known]
        if unknown:
            raise SourceDataError(
                "schools_mapping names schools the provider does not have: " + ", ".join(unknown),
                source=self.session.source,
                hint="list the provider's schools with Test connection, or use auto mapping",
            )


if TYPE_CHECKING:
    _contract: type[Connector] = OneRosterRestConnector
