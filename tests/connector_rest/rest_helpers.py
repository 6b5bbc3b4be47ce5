"""Helpers of the OneRoster REST source tests: a connector on the provider, fault transports."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from rostersync.connectors.oneroster_rest import OneRosterRestConnector, RestOptions
from rostersync.model import Roster
from rostersync.settings import Settings
from rostersync.store import Store


@dataclass
class Provider:
    """Our OneRoster provider serving a published district, and its API clients."""

    url: str
    settings: Settings
    store: Store
    district_id: int
    client_id: str
    secret: str
    empty_client_id: str
    empty_secret: str
    roster: Roster


FAST = {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.05, "max_retries": 2}

#: (request) -> a response to send instead, or None to pass the request to the provider
Fault = Callable[[httpx.Request], httpx.Response | None]


class FaultyTransport(httpx.AsyncBaseTransport):
    """The real network transport, with some answers replaced (the outer edge only)."""

    def __init__(self, fault: Fault | None = None, mangle: Callable[..., Any] | None = None):
        self.inner = httpx.AsyncHTTPTransport()
        self.fault = fault
        self.mangle = mangle
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.fault is not None:
            replaced = self.fault(request)
            if replaced is not None:
                return replaced
        response = await self.inner.handle_async_request(request)
        if self.mangle is not None:
            await response.aread()
            return self.mangle(request, response)  # type: ignore[no-any-return]
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def make(
    client: httpx.AsyncClient, url: str, client_id: str, secret: str, **options: Any
) -> OneRosterRestConnector:
    opts = RestOptions(**{**FAST, **options})
    return OneRosterRestConnector.create(client, url, client_id, secret, options=opts, source="or")
