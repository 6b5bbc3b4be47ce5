"""The conformance kit on a third-party-style connector: a tiny JSON source over HTTP.

``TinyConnector`` is what a third party would write against the public contract only
(``rostersync.connectors``, ``rostersync.model``, ``rostersync.errors``); the kit passes it, and
fails a variant that returns short tables during a partial outage.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

import httpx
import polars as pl
import pytest

from rostersync.connectors import (
    Capabilities,
    ConnectionReport,
    Connector,
    Extraction,
    HealthLedger,
    PartialExtractError,
    ProgressCallback,
    RequestStats,
    SchoolInfo,
)
from rostersync.connectors.testing import ConnectorConformance, SourceKind
from rostersync.errors import SourceUnreachable
from rostersync.model import ENTITIES, conform

if TYPE_CHECKING:
    from rostersync.config import SourceConfig

SECRET = "tiny-secret-value"
SCHOOLS = [{"id": "s1", "name": "North"}, {"id": "s2", "name": "South"}]
STUDENTS = {
    "s1": [{"id": f"n{i}", "first": "Ann", "last": f"N{i}"} for i in range(5)],
    "s2": [{"id": f"s{i}", "first": "Bo", "last": f"S{i}"} for i in range(3)],
}


class TinySource:
    """The source app: ``/schools``, ``/schools/{id}/students`` and their ``/count``."""

    def __init__(self, *, empty: bool = False, outage_after: int | None = None) -> None:
        self.empty = empty
        self.outage_after = outage_after
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {SECRET}":
            return httpx.Response(401)
        self.calls += 1
        dark = self.empty or (self.outage_after is not None and self.calls > self.outage_after)
        parts = request.url.path.strip("/").split("/")
        if parts == ["schools"]:
            rows: list[dict[str, str]] = [] if dark else SCHOOLS
        else:
            rows = [] if dark else STUDENTS.get(parts[1], [])
        if parts[-1] == "count":
            return httpx.Response(200, json={"count": len(rows)})
        return httpx.Response(200, json=rows)


class TinyConnector:
    app: ClassVar[str] = "tiny"
    capabilities: ClassVar[Capabilities] = Capabilities(complete_snapshot=True)
    complete_snapshot: ClassVar[bool] = True
    #: The kit must catch a connector that skips its health checks.
    check_health: ClassVar[bool] = True

    def __init__(self, client: httpx.AsyncClient, url: str, secret: str) -> None:
        self._client = client
        self._url = url
        self.__secret = secret
        self.stats = RequestStats()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self._url!r})"

    @classmethod
    def from_source(
        cls,
        source: SourceConfig,
        client_secret: str,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> tuple[Self, httpx.AsyncClient]:
        http = client or httpx.AsyncClient()
        return cls(http, source.delivery.url, client_secret), http

    async def _get(self, path: str) -> Any:
        self.stats.requests += 1
        try:
            response = await self._client.get(
                self._url + path, headers={"Authorization": f"Bearer {self.__secret}"}
            )
        except httpx.TransportError as exc:
            raise SourceUnreachable(
                f"cannot reach the tiny source at {self._url}",
                source=self.app,
                hint="check the URL",
            ) from exc
        response.raise_for_status()
        return response.json()

    async def test_connection(self) -> ConnectionReport:
        try:
            schools = await self._get("/schools/count")
        except SourceUnreachable as exc:
            return ConnectionReport(False, exc.message, hint=exc.hint)
        return ConnectionReport(True, "connected", school_count=schools["count"])

    async def list_schools(self) -> list[SchoolInfo]:
        return [SchoolInfo(s["id"], s["name"]) for s in await self._get("/schools")]

    async def extract(
        self, schools: Sequence[str] | None = None, *, progress: ProgressCallback | None = None
    ) -> Extraction:
        ledger = HealthLedger()
        ledger.announced("schools", "district", (await self._get("/schools/count"))["count"])
        found = await self._get("/schools")
        ledger.page("schools", "district", len(found), None)
        students: list[dict[str, str]] = []
        for school in found:
            scope = f"school:{school['id']}"
            counted = await self._get(f"/schools/{school['id']}/students/count")
            ledger.announced("students", scope, counted["count"])
            rows = await self._get(f"/schools/{school['id']}/students")
            ledger.page("students", scope, len(rows), None)
            students += [{**r, "school": school["id"]} for r in rows]
        health = ledger.verdict()
        if self.check_health and not health.ok:
            raise PartialExtractError(health, source=self.app)
        roster = {name: entity.empty() for name, entity in ENTITIES.items()}
        roster["orgs"] = conform(
            "orgs",
            pl.DataFrame(
                {
                    "sourcedId": [f"org-{s['id']}" for s in found],
                    "name": [s["name"] for s in found],
                    "type": ["school"] * len(found),
                    "source": [self.app] * len(found),
                },
                schema=dict.fromkeys(["sourcedId", "name", "type", "source"], pl.Utf8),
            ),
        )
        roster["users"] = conform(
            "users",
            pl.DataFrame(
                {
                    "sourcedId": [f"student-{s['id']}" for s in students],
                    "givenName": [s["first"] for s in students],
                    "familyName": [s["last"] for s in students],
                    "role": ["student"] * len(students),
                    "source": [self.app] * len(students),
                },
                schema=dict.fromkeys(
                    ["sourcedId", "givenName", "familyName", "role", "source"], pl.Utf8
                ),
            ),
        )
        return Extraction(roster, {"requests": self.stats.requests}, health, self.stats)


class ShortTablesConnector(TinyConnector):
    """Returns whatever came, as if it were whole: what the kit exists to refuse."""

    check_health = False


class TestTinyConnectorConformance(ConnectorConformance):
    connector_class: ClassVar[type[Connector]] = TinyConnector
    secrets = (SECRET,)

    @contextlib.asynccontextmanager
    async def source(self, kind: SourceKind) -> AsyncIterator[Connector | None]:
        if kind == "unreachable":
            transport: httpx.AsyncBaseTransport = httpx.MockTransport(_refuse)
        else:
            transport = httpx.MockTransport(
                TinySource(
                    empty=kind == "empty", outage_after=4 if kind == "partial_outage" else None
                )
            )
        async with httpx.AsyncClient(transport=transport) as client:
            yield self.connector_class(client, "http://tiny.test", SECRET)  # type: ignore[call-arg]


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def test_the_kit_fails_a_connector_that_returns_short_tables() -> None:
    class Broken(TestTinyConnectorConformance):
        connector_class = ShortTablesConnector

    with pytest.raises(AssertionError, match="partial_outage source did not fail"):
        Broken().test_a_partial_outage_gives_a_health_verdict()


def test_the_kit_fails_a_connector_that_shows_its_secret() -> None:
    class Leaky(TinyConnector):
        def __repr__(self) -> str:
            return f"Leaky(secret={SECRET!r})"

    class Broken(TestTinyConnectorConformance):
        connector_class = Leaky

    with pytest.raises(AssertionError, match="secret was shown"):
        Broken().test_secrets_are_never_shown()


def test_the_registry_refuses_what_is_no_connector() -> None:
    from rostersync.connectors import checked_connector
    from rostersync.errors import ConfigurationError

    class Half:
        app = "half"

        async def extract(self) -> None: ...

    with pytest.raises(ConfigurationError, match="missing: capabilities, from_source"):
        checked_connector(Half, "half = pkg:Half")
