"""The OneRoster REST connector passes the connector conformance kit against our provider."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import ClassVar

import httpx
import orjson
import pytest
from rest_helpers import FaultyTransport, Provider, make, refused_url

from rostersync.changes.health import check_source_health
from rostersync.connectors.base import Connector
from rostersync.connectors.oneroster_rest import OneRosterRestConnector
from rostersync.connectors.testing import CircuitBreaker, ConnectorConformance, SourceKind


def _second_users_page_empty(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    """A provider in a partial outage: the second page of users is empty, its count unchanged."""
    if request.url.path.endswith("/users") and request.url.params.get("offset") == "5":
        body = orjson.dumps({"users": []})
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(200, content=body, headers=headers)
    return response


class TestOneRosterRestConformance(ConnectorConformance):
    connector_class: ClassVar[type[Connector]] = OneRosterRestConnector
    circuit_breaker: ClassVar[CircuitBreaker | None] = staticmethod(check_source_health)

    provider: Provider

    @pytest.fixture(autouse=True)
    def _provider(self, provider: Provider) -> None:
        self.provider = provider
        type(self).secrets = (provider.secret, provider.empty_secret)

    @contextlib.asynccontextmanager
    async def source(self, kind: SourceKind) -> AsyncIterator[Connector | None]:
        p = self.provider
        url, client_id, secret = p.url, p.client_id, p.secret
        transport = FaultyTransport()
        if kind == "empty":
            client_id, secret = p.empty_client_id, p.empty_secret
        elif kind == "unreachable":
            url = refused_url()
        elif kind == "partial_outage":
            transport = FaultyTransport(mangle=_second_users_page_empty)
        async with httpx.AsyncClient(timeout=10, transport=transport) as client:
            yield make(client, url, client_id, secret, page_size=5)
