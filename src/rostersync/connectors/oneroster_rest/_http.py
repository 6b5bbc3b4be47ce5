"""One GET to a OneRoster provider: signed, retried with backoff and jitter, its JSON checked.

Transient failures (connection errors, timeouts, 5xx, 429 with its ``Retry-After``) are
retried up to the options' limit; 401 renews the OAuth 2 token once; anything else is a clear
error naming the URL and what the provider said (its ``imsx_description`` when it sent one).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from rostersync.connectors.base import RequestStats
from rostersync.connectors.oneroster_rest._auth import Auth
from rostersync.connectors.oneroster_rest.config import RestOptions
from rostersync.errors import SourceAuthError, SourceDataError, SourceError, SourceUnreachable


@dataclass
class Page:
    """A page's body (raw, and as a JSON object on demand) and its paging headers."""

    url: str
    content: bytes
    total: int | None
    next_url: str | None
    source: str = "oneroster"
    _body: dict[str, Any] | None = None

    @property
    def body(self) -> dict[str, Any]:
        """The body as a JSON object; a clear error when it is none."""
        if self._body is None:
            try:
                body = orjson.loads(self.content)
            except orjson.JSONDecodeError as exc:
                raise not_json(self.url, self.source) from exc
            if not isinstance(body, dict):
                raise SourceDataError(
                    f"The OneRoster provider sent {self.url} JSON that is not an object",
                    source=self.source,
                    hint="the provider is not answering as a OneRoster service; check delivery.url",
                )
            self._body = body
        return self._body


def not_json(url: str, source: str) -> SourceDataError:
    return SourceDataError(
        f"The OneRoster provider sent {url} a body that is not JSON",
        source=source,
        hint="the provider is not answering as a OneRoster service; check delivery.url",
    )


@dataclass
class Session:
    """The HTTP client, sign-in and retry policy of one extraction."""

    client: httpx.AsyncClient
    auth: Auth
    base_url: str
    options: RestOptions
    source: str = "oneroster"
    stats: RequestStats = field(default_factory=RequestStats)

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(self.options.concurrency)

    def url(self, path: str) -> str:
        return f"{self.base_url}{self.options.rostering_path()}{path}"

    async def get(self, url: str, params: dict[str, str] | None = None) -> Page:
        """The page at ``url`` (bounded by the concurrency slots)."""
        parsed = httpx.URL(url)
        query = {**dict(parsed.params.multi_items()), **(params or {})}
        async with self.slots:
            return await self._get(str(parsed.copy_with(query=None)), query)

    async def _get(self, url: str, params: dict[str, str]) -> Page:
        attempt = 0
        renewed = False
        while True:
            token = self.auth.token
            headers = await self.auth.headers(self.client, "GET", url, params.items())
            self.stats.requests += 1
            try:
                resp = await self.client.get(url, params=params, headers=headers)
            except httpx.HTTPError as exc:
                problem: str = f"{type(exc).__name__} on {url}"
                resp = None
            if resp is not None:
                self.stats.by_status[resp.status_code] = (
                    self.stats.by_status.get(resp.status_code, 0) + 1
                )
                self.stats.bytes += len(resp.content)
                if resp.status_code == 200:
                    return self._page(url, resp)
                if resp.status_code == 401 and not renewed:
                    renewed = True
                    await self.auth.renew(self.client, token)
                    self.stats.renewals += 1
                    continue
                if resp.status_code in (401, 403):
                    raise SourceAuthError(
                        f"The OneRoster provider refused {url}: HTTP {resp.status_code}"
                        f"{_described(resp)}",
                        source=self.source,
                        hint="check the API client's scopes and sharing rules on the provider",
                    )
                if resp.status_code != 429 and resp.status_code < 500:
                    raise SourceDataError(
                        f"The OneRoster provider answered HTTP {resp.status_code} to {url}"
                        f"{_described(resp)}",
                        source=self.source,
                        hint="check delivery.url and connector.version (1.1 or 1.2)",
                    )
                problem = f"HTTP {resp.status_code} from {url}{_described(resp)}"
            if attempt >= self.options.max_retries:
                raise SourceUnreachable(
                    f"The OneRoster provider failed {attempt + 1} times: {problem}",
                    source=self.source,
                    hint="the provider may be down or overloaded; run the sync again later",
                )
            attempt += 1
            self.stats.retries += 1
            await asyncio.sleep(self._delay(attempt, resp))

    def _delay(self, attempt: int, resp: httpx.Response | None) -> float:
        if resp is not None and resp.status_code == 429:
            self.stats.throttled += 1
            after = resp.headers.get("retry-after", "")
            if after.isdigit():
                wait = min(float(after), self.options.backoff_max_seconds)
                self.stats.throttle_wait_seconds += wait
                return wait
        base = self.options.backoff_base_seconds * 2 ** (attempt - 1)
        return float(min(base, self.options.backoff_max_seconds) * (0.5 + random.random() / 2))

    def _page(self, url: str, resp: httpx.Response) -> Page:
        total_text = resp.headers.get("x-total-count", "")
        total = int(total_text) if total_text.isdigit() else None
        next_link = resp.links.get("next", {}).get("url")
        return Page(url, resp.content, total, next_link, self.source)


def _described(resp: httpx.Response) -> str:
    """The provider's own words (``imsx_description``), when it sent any."""
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return ""
    info = body
    if isinstance(body, dict) and isinstance(body.get("statusInfoSet"), list):
        info = body["statusInfoSet"][0] if body["statusInfoSet"] else {}
    if isinstance(info, dict) and isinstance(info.get("imsx_description"), str):
        return f": {info['imsx_description'][:300]}"
    return ""


__all__ = ["Page", "Session", "SourceError"]
