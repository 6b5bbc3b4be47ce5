"""The OneRoster REST source reads our own provider back: every record and every field the
protocol carries, over 1.2 and 1.1, with OAuth 2 and OAuth 1.0a, in concurrent pages."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import polars as pl
import pytest
from rest_helpers import Provider, make

from rostersync.connectors import Extraction, get_connector_class
from rostersync.connectors.oneroster_rest import OneRosterRestConnector
from rostersync.model import ENTITIES, metadata_json

#: Canonical columns OneRoster JSON does not carry.
NOT_SERVED = {"source", "sourceId", "dateLastModified", "metadata"}
PER_ENTITY = {"academicSessions": {"orgSourcedId"}, "enrollments": {"teacherRole"}}


def _extract(provider: Provider, **options: object) -> Extraction:
    async def run() -> Extraction:
        async with httpx.AsyncClient(timeout=30) as client:
            conn = make(client, provider.url, provider.client_id, provider.secret, **options)
            return await conn.extract()

    return asyncio.run(run())


def _normal(table: pl.DataFrame, drop: set[str]) -> pl.DataFrame:
    keep = [c for c in table.columns if c not in drop]
    lists = [c for c in keep if isinstance(table.schema[c], pl.List)]
    return table.select(keep).with_columns(pl.col(c).list.sort() for c in lists).sort("sourcedId")


def test_registered_under_its_app_name() -> None:
    assert get_connector_class("oneroster_rest") is OneRosterRestConnector


@pytest.mark.parametrize(
    "options",
    [
        {"version": "1.2", "page_size": 7, "concurrency": 4},
        {"version": "1.1", "page_size": 50},
        {"version": "1.1", "auth": "oauth1", "page_size": 1000},
    ],
    ids=["1.2-oauth2-small-pages", "1.1-oauth2", "1.1-oauth1"],
)
def test_the_provider_reads_back_as_published(
    provider: Provider, options: dict[str, object]
) -> None:
    result = _extract(provider, **options)
    for name in ENTITIES:
        if name == "userContacts":
            continue
        drop = NOT_SERVED | PER_ENTITY.get(name, set())
        if name == "users" and options["version"] == "1.1":
            drop |= {"primaryOrgSourcedId", "preferredFirstName", "preferredLastName"}
        expected = _normal(provider.roster[name], drop)
        got = _normal(result.roster[name], drop)
        assert got.equals(expected), (name, options, got.head(2), expected.head(2))
        assert result.roster[name].schema == ENTITIES[name].schema
    assert result.health.ok
    assert result.stats["requests"] >= len(ENTITIES) - 1  # one page or more per collection


def test_pages_are_read_concurrently_and_counted(provider: Provider) -> None:
    result = _extract(provider, page_size=5, concurrency=8)
    users = provider.roster["users"].height
    assert result.stats["entities"]["users"] == users
    assert result.requests.requests >= users // 5
    assert result.stats["delta"] is False


def _without_nulls(text: str | None) -> str | None:
    """Metadata members whose value is null read as absent (JSON decoding cannot tell them
    apart from keys other records have)."""
    if text is None:
        return None
    kept = {k: v for k, v in json.loads(text).items() if v is not None}
    return metadata_json(kept) if kept else None


def test_metadata_comes_back_as_published(provider: Provider) -> None:
    result = _extract(provider, page_size=25)
    assert provider.roster["users"]["metadata"].null_count() < provider.roster["users"].height
    for name in ("users", "classes", "orgs", "enrollments"):
        expected = provider.roster[name].select("sourcedId", "metadata").sort("sourcedId")
        expected = expected.with_columns(
            pl.col("metadata").map_elements(_without_nulls, return_dtype=pl.Utf8)
        )
        got = result.roster[name].select("sourcedId", "metadata").sort("sourcedId")
        # 1.2 serves administrators as siteAdministrator: the role as sent is kept
        got = got.with_columns(
            pl.col("metadata").str.replace(
                ',"oneroster.role":"siteAdministrator"', "", literal=True
            )
        )
        assert got.equals(expected), (name, got.head(3), expected.head(3))


class _Rewrite(httpx.AsyncBaseTransport):
    """The network, with the provider's answers or our requests changed at the edge."""

    def __init__(self, *, drop_total: bool = False, cap_limit: int | None = None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.drop_total = drop_total
        self.cap_limit = cap_limit
        self.pages = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.cap_limit is not None and "limit" in request.url.params:
            limit = min(int(request.url.params["limit"]), self.cap_limit)
            request.url = request.url.copy_set_param("limit", str(limit))
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/users"):
            self.pages += 1
        if self.drop_total:
            await response.aread()
            headers = [(k, v) for k, v in response.headers.items() if k.lower() != "x-total-count"]
            return httpx.Response(response.status_code, headers=headers, content=response.content)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize(
    "rewrite", [{"drop_total": True}, {"cap_limit": 4}], ids=["link-next", "capped-limit"]
)
def test_paging_without_a_total_or_with_a_capped_limit(
    provider: Provider, rewrite: dict[str, Any]
) -> None:
    transport = _Rewrite(**rewrite)

    async def run() -> Extraction:
        async with httpx.AsyncClient(timeout=30, transport=transport) as client:
            conn = make(client, provider.url, provider.client_id, provider.secret, page_size=10)
            return await conn.extract()

    result = asyncio.run(run())
    users = provider.roster["users"].height
    assert set(result.roster["users"]["sourcedId"]) == set(provider.roster["users"]["sourcedId"])
    step = rewrite.get("cap_limit", 10)
    assert transport.pages >= users // step
