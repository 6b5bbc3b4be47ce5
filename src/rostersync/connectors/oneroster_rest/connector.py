"""The OneRoster REST source connector: a consumer of any OneRoster 1.1 or 1.2 provider.

Built by composition: an ``httpx`` client the caller owns, a sign-in (OAuth 2 client
credentials or OAuth 1.0a signatures, :mod:`._auth`), a retrying session (:mod:`._http`) and
the pager (:mod:`._paging`) reading each collection with bounded concurrency. The seven
rostering collections are read at once, mapped by :mod:`.mapping`, and checked against what
the provider announced. Between full pulls only what changed is read and folded into the
previous extraction (:mod:`.incremental`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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
from rostersync.connectors.health import HealthLedger, PartialExtractError
from rostersync.connectors.oneroster_rest import incremental as inc
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
from rostersync.connectors.scope import check_scope
from rostersync.errors import SourceDataError, SourceError

if TYPE_CHECKING:
    from rostersync.config import SourceConfig


class OneRosterRestConnector:
    """Reads a district from a OneRoster REST provider."""

    app: ClassVar[str] = "oneroster_rest"
    #: A provider lists deleted records as ``tobedeleted`` for a while (or not at all): absence
    #: deletes only in the source's ``bulk_upload`` mode. Between full pulls a sync reads only
    #: what changed and folds it into the previous extraction (see :mod:`.incremental`).
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
        problems: list[str] = []
        pages = await fetch_collection(self.session, "orgs", "orgs", HealthLedger())
        orgs = raw_frame("orgs", pages, self.session.options.version, problems)
        schools = orgs.filter(pl.col("type") == "school", pl.col("sourcedId").is_not_null())
        return [
            SchoolInfo(r["sourcedId"], r["name"] or "", r["identifier"])
            for r in schools.iter_rows(named=True)
        ]

    async def extract(
        self,
        schools: Sequence[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        baseline: Baseline | None = None,
    ) -> Extraction:
        """Every rostering collection of the provider, as canonical tables: read whole, or —
        given the previous extraction's ``baseline`` — only what changed since, folded into it.
        The result carries the baseline for the next run; ``stats["incremental"]`` says how it
        was made and why."""
        options = self.session.options
        mark = inc.fingerprint(self.session.base_url, options, schools)
        now = utcnow()
        reason = inc.full_pull_reason(options, baseline, mark, now)
        if reason is None and baseline is not None:
            clause = f"dateLastModified>'{baseline.cursor}'"
            if not await self._can_filter(clause):
                reason = "the provider cannot filter by dateLastModified"
        if reason is not None or baseline is None:
            result = await self._extract(progress, None)
            mode: dict[str, Any] = {"mode": "full", "reason": reason}
            roster, full_at = result.roster, now
            cursor = inc.cursor_of(roster, None)
        else:
            result = await self._extract(progress, clause)
            roster = inc.fold(baseline.frames, result.roster)
            full_at = baseline.full_at
            mode = {
                "mode": "incremental",
                "since": baseline.cursor,
                "changed": inc.changed_counts(result.roster),
            }
            cursor = inc.cursor_of(result.roster, baseline.cursor)
        check_scope(
            roster["orgs"],
            schools,
            source=self.session.source,
            holder="the provider",
            hint="list the provider's schools with Test connection, or use auto mapping",
        )
        result.stats["incremental"] = mode
        kept = Baseline(cursor or "", roster, mark, full_at) if cursor else None
        return Extraction(roster, result.stats, result.health, result.requests, kept)

    async def _can_filter(self, clause: str) -> bool:
        try:
            await self.session.get(self.session.url("/orgs"), {"limit": "1", "filter": clause})
        except SourceDataError:
            return False
        return True

    async def _extract(self, progress: ProgressCallback | None, clause: str | None) -> Extraction:
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
        for entity, pages in zip(entities, fetched, strict=True):
            frame = raw_frame(entity, pages, version, problems)
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
        stats: dict[str, Any] = {
            "requests": self.session.stats.requests,
            "retries": self.session.stats.retries,
            "token_renewals": self.session.stats.renewals,
            "bytes": self.session.stats.bytes,
            "delta": clause is not None,
            "extract_seconds": round(extracted - started, 3),
            "map_seconds": round(time.perf_counter() - extracted, 3),
            "entities": {e: t.height for e, t in tables.items()},
        }
        return Extraction(roster, stats, health, self.session.stats)


if TYPE_CHECKING:
    _contract: type[Connector] = OneRosterRestConnector
