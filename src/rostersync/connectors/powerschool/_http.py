"""The request layer of the PowerSchool connector: bounded concurrency, throttle, retries, errors.

An :class:`ApiSession` wraps an ``httpx.AsyncClient`` that the caller owns (composition: tests and
benchmarks pass their own client or transport). Every request

- waits for a slot (a semaphore bounds requests in flight) and for the throttle (PowerSchool's
  "minimum time interval between API requests" is honoured client-side);
- carries the bearer token, and on a 401 renews the token once and tries again;
- is retried with exponential backoff and full jitter on timeouts, dropped connections, 5xx and
  throttling answers, honouring ``Retry-After`` (or PowerSchool's "wait N seconds" text);
- ends, when it cannot succeed, in one error of :mod:`rostersync.errors` whose message says what
  is wrong: DNS, refused connection, TLS, credentials, a field the plugin does not grant…
"""

from __future__ import annotations

import asyncio
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from rostersync.connectors.base import RequestStats
from rostersync.connectors.powerschool._auth import ClientCredentials
from rostersync.connectors.powerschool._json import as_dict, as_list
from rostersync.errors import SourceAuthError, SourceDataError, SourceError, SourceUnreachable

Sleep = Callable[[float], Awaitable[None]]

_WAIT_SECONDS = re.compile(r"wait\s+(\d+(?:\.\d+)?)\s*(?:s\b|sec|second)", re.I)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base·2ⁿ))."""

    max_retries: int = 6
    base_seconds: float = 0.5
    max_seconds: float = 30.0
    #: Retries of a refused/failed connection (fewer: a server that is down stays down).
    connect_retries: int = 2

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        ceiling = min(self.max_seconds, self.base_seconds * (2**attempt))
        wait = rng.uniform(0, ceiling)
        if retry_after is not None:
            # The server said when: wait at least that long, plus a little jitter so that many
            # clients told the same moment do not all come back at once.
            wait = max(wait, min(retry_after, self.max_seconds * 4) + rng.uniform(0, 0.05))
        return wait


class Throttle:
    """Spacing of request starts, adapted to what the server accepts.

    The spacing is the configured minimum (PowerSchool's "minimum time interval between API
    requests"), raised when the server answers "too many requests" — doubled once per refusal
    burst, from :attr:`FLOOR` up to :attr:`CEILING` — and decaying again as requests succeed.
    A server's ``Retry-After`` pushes every start back, whether or not a spacing is configured.
    """

    FLOOR = 0.02
    CEILING = 10.0
    RAISE = 1.5
    DECAY = 0.98
    #: How fast the memory of a refused spacing fades (so the pace is probed again, rarely).
    FORGET = 0.998

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.learned = 0.0
        self._clock = clock
        self._next = 0.0
        self._raised_at = -float("inf")
        #: The spacing at which the server last refused: the pace does not decay below it.
        self._refused_spacing = 0.0
        self._lock = asyncio.Lock()

    @property
    def spacing(self) -> float:
        """Seconds between two request starts now."""
        return max(self.interval, self.learned)

    async def wait(self, sleep: Sleep = asyncio.sleep) -> float:
        """Return when a request may start, reserving that moment; the seconds waited."""
        async with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.spacing
        if start > now:
            await sleep(start - now)
            return start - now
        return 0.0

    def push_back(self, seconds: float) -> None:
        """The server said 'too many requests': nobody starts before ``seconds`` from now."""
        self._next = max(self._next, self._clock() + seconds)

    def throttled(self, retry_after: float | None) -> None:
        """A request was refused as one too many: space requests wider, honour ``retry_after``."""
        now = self._clock()
        # Requests refused together are one signal: raise once per spacing window.
        if now - self._raised_at >= max(self.spacing, self.FLOOR):
            self._refused_spacing = max(self._refused_spacing, self.spacing)
            self.learned = min(self.CEILING, max(self.FLOOR, self.learned * self.RAISE))
            self._raised_at = now
        if retry_after:
            self.push_back(retry_after)

    def succeeded(self) -> None:
        """A request went through: let the learned spacing shrink back slowly, not below the
        spacing the server last refused (a memory that itself fades)."""
        if self.learned:
            self._refused_spacing *= self.FORGET
            self.learned = max(self.learned * self.DECAY, self._refused_spacing * 1.1)
            if self.learned < self.FLOOR / 2:
                self.learned = 0.0
                self._refused_spacing = 0.0


class FieldsNotGranted(SourceAuthError):
    """The plugin's ``<access_request>`` lacks fields we read; ``fields`` lists ``TABLE.field``."""

    def __init__(self, message: str, *, fields: list[str], source: str, hint: str) -> None:
        super().__init__(message, source=source, hint=hint)
        self.fields = fields


class V1AccessDenied(SourceAuthError):
    """The plugin may not call ``/ws/v1`` (``accessLevelV1Api`` is NONE or missing)."""


class _Retry(Exception):
    """Internal: this attempt failed in a way worth trying again."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _Throttled(_Retry):
    """Internal: the server refused the request as one too many (not an error: wait, retry)."""


def describe_connect_error(exc: Exception, url: str) -> tuple[str, str]:
    """(message, hint) naming what kind of connection failure ``exc`` is."""
    host = urlsplit(url).netloc or url
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 10:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    blob = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in blob or "certificate" in blob:
        return (
            f"TLS handshake with {host} failed",
            "check the delivery URL's scheme (https) and the server certificate "
            "(or set connector.verify_tls: false for a test server)",
        )
    if any(
        s in blob
        for s in ("name or service not known", "nodename nor servname", "getaddrinfo", "resolve")
    ) or any(isinstance(e, OSError) and getattr(e, "errno", None) in (-2, -3, -5) for e in chain):
        return (
            f"cannot resolve the host name of {host} (DNS)",
            "check the delivery URL's host name",
        )
    if "refused" in blob or any(isinstance(e, ConnectionRefusedError) for e in chain):
        return (
            f"connection to {host} refused",
            "check the delivery URL's host and port, and that PowerSchool is running",
        )
    return (f"cannot connect to {host}: {exc}", "check the delivery URL and the network")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value:
        try:
            return max(float(value), 0.0)
        except ValueError:
            try:
                from email.utils import parsedate_to_datetime

                when = parsedate_to_datetime(value)
                return max(when.timestamp() - time.time(), 0.0)
            except (TypeError, ValueError):
                return None
    match = _WAIT_SECONDS.search(response.text[:500])
    return float(match.group(1)) if match else None


def _is_throttled(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    if response.status_code == 503 and response.headers.get("Retry-After"):
        return True
    if response.status_code in (400, 403, 503):
        snippet = response.text[:500].lower()
        return "too many requests" in snippet or "rate limit" in snippet
    return False


def denied_fields(response: httpx.Response) -> list[str]:
    """The ``TABLE.field`` names a 403 body says the plugin may not read."""
    try:
        body = as_dict(response.json())
    except ValueError:
        return []
    out: list[str] = []
    for err in as_list(body.get("errors")):
        name = as_dict(err).get("field")
        if name and str(name) not in out:
            out.append(str(name))
    return out


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    body = as_dict(body)
    parts = [str(body[k]) for k in ("message", "error", "error_description") if body.get(k)]
    return "; ".join(parts) or response.text[:200].strip()


class ApiSession:
    """Sends PowerSchool API requests through one shared client, auth, throttle and retry policy."""

    #: Renewals one request may go through with no other request succeeding meanwhile (tokens
    #: that expire after N uses are renewed again and again under concurrency: that is fine as
    #: long as requests keep getting through).
    MAX_RENEWALS = 5

    def __init__(
        self,
        client: httpx.AsyncClient,
        auth: ClientCredentials,
        base_url: str,
        *,
        concurrency: int = 8,
        min_interval: float = 0.0,
        retry: RetryPolicy | None = None,
        max_throttle_wait: float = 600.0,
        source: str = "",
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.auth = auth
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.source = source
        self.stats = RequestStats()
        self._sem = asyncio.Semaphore(concurrency)
        self._throttle = Throttle(min_interval)
        self.max_throttle_wait = max_throttle_wait
        self._successes = 0
        self._sleep = sleep
        self._rng = rng or random.Random()

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a ``/ws/...`` path and return its decoded JSON."""
        return await self.request("GET", path, params=params)

    async def post(
        self, path: str, body: dict[str, Any], params: dict[str, Any] | None = None
    ) -> Any:
        """POST JSON (PowerQueries) and return the decoded answer."""
        return await self.request("POST", path, params=params, json=body)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        allow_empty: bool = True,
        refusals: bool = False,
    ) -> Any:
        """One API call with auth, throttle, retries; the decoded JSON (``None`` for 204).

        With ``refusals``, a 4xx answer (other than 401) is returned as the ``httpx.Response``
        instead of raised: a write-back reads PowerSchool's validation answers itself."""
        url = self.base_url + path
        rejected: set[str] = set()
        successes_at_first_401 = 0
        attempt = 0
        throttle_waited = 0.0
        while True:
            token = await self.auth.token(self._send_token)
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            try:
                response = await self._attempt(method, url, params, json, headers)
            except _Throttled as exc:
                throttle_waited = await self._throttle_wait(exc, throttle_waited, url)
                continue
            except _Retry as exc:
                attempt = await self._backoff(attempt, exc, url)
                continue
            if response.status_code == 401:
                # Renew and try again. Give up when the same token is refused twice, or when
                # renewal after renewal helps no request at all: the credentials stopped working.
                if not rejected:
                    successes_at_first_401 = self._successes
                stuck = self._successes == successes_at_first_401
                if token in rejected or (len(rejected) >= self.MAX_RENEWALS and stuck):
                    raise SourceAuthError(
                        f"PowerSchool rejected a freshly issued token for {path} (HTTP 401)",
                        source=self.source,
                        hint="the plugin may have been disabled or its secret regenerated",
                    )
                rejected.add(token)
                await self.auth.renew(self._send_token, token)
                # The credentials count renewals once per stale token, not once per waiter.
                self.stats.renewals = self.auth.renewals
                continue
            self._successes += 1
            if response.status_code == 204:
                return None
            if response.status_code >= 400:
                if refusals:
                    return response
                raise self._http_error(response, path)
            self.stats.bytes += len(response.content)
            try:
                return response.json()
            except ValueError as exc:
                # A page cut short in transit is worth fetching again; a server that keeps
                # sending something else is not speaking the API.
                bad = _Retry(f"unreadable JSON ({response.text[:60]!r}…)")
                bad.__cause__ = SourceDataError(
                    f"PowerSchool sent an unreadable answer for {path}: {response.text[:80]!r}",
                    source=self.source,
                    hint="check that the delivery URL points at PowerSchool",
                )
                try:
                    attempt = await self._backoff(attempt, bad, url)
                except SourceDataError as final:
                    raise final from exc
                continue

    async def _send_token(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        throttle_waited = 0.0
        while True:
            try:
                return await self._attempt_request(request)
            except _Throttled as exc:
                throttle_waited = await self._throttle_wait(exc, throttle_waited, str(request.url))
            except _Retry as exc:
                attempt = await self._backoff(attempt, exc, str(request.url))

    async def _attempt(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        json: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> httpx.Response:
        request = self.client.build_request(method, url, params=params, json=json, headers=headers)
        return await self._attempt_request(request)

    async def _attempt_request(self, request: httpx.Request) -> httpx.Response:
        async with self._sem:
            await self._throttle.wait(self._sleep)
            self.stats.requests += 1
            try:
                response = await self.client.send(request)
                await response.aread()
            except httpx.ConnectTimeout:
                host = urlsplit(str(request.url)).netloc
                message = f"connection to {host} timed out"
                raise _Retry(message) from SourceUnreachable(
                    message,
                    source=self.source,
                    hint="check the delivery URL, the network and any firewall in between",
                )
            except httpx.TimeoutException as exc:
                raise _Retry(f"timed out ({type(exc).__name__})") from exc
            except httpx.ConnectError as exc:
                message, hint = describe_connect_error(exc, str(request.url))
                raise _Retry(message, retry_after=None) from SourceUnreachable(
                    message, source=self.source, hint=hint
                )
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                raise _Retry(f"connection dropped ({type(exc).__name__})") from exc
        status = response.status_code
        self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
        if _is_throttled(response):
            after = _retry_after(response)
            self.stats.throttled += 1
            self._throttle.throttled(after)
            raise _Throttled(f"throttled (HTTP {status})", after)
        if status >= 500:
            raise _Retry(f"HTTP {status}", _retry_after(response) if status == 503 else None)
        if status < 400:
            self._throttle.succeeded()
        return response

    async def _throttle_wait(self, exc: _Throttled, waited: float, url: str) -> float:
        """Wait as a throttling answer asks (Retry-After, else a growing pause); the total
        waited by this request, bounded by ``max_throttle_wait``."""
        if exc.retry_after is not None:
            delay = exc.retry_after + self._rng.uniform(0, self._throttle.spacing)
        else:
            tries = int(waited / max(self.retry.base_seconds, 0.001)).bit_length()
            delay = max(
                self._throttle.spacing,
                self.retry.delay(min(tries, 16), self._rng),
            )
        if waited + delay > self.max_throttle_wait:
            path = urlsplit(url).path
            raise SourceUnreachable(
                f"PowerSchool kept refusing {path} as too many requests: waiting "
                f"{waited + delay:.0f} s in all would pass connector.max_throttle_wait_seconds "
                f"({self.max_throttle_wait:g} s)",
                source=self.source,
                hint="raise connector.max_throttle_wait_seconds, lower connector.concurrency, or "
                "set connector.min_interval_ms to PowerSchool's minimum request interval",
            ) from exc
        self.stats.throttle_wait_seconds += delay
        await self._sleep(delay)
        return waited + delay

    async def _backoff(self, attempt: int, exc: _Retry, url: str) -> int:
        cause = exc.__cause__
        limit = (
            self.retry.connect_retries
            if isinstance(cause, SourceUnreachable)
            else self.retry.max_retries
        )
        if attempt >= limit:
            if isinstance(cause, SourceError):
                raise cause
            path = urlsplit(url).path
            raise SourceUnreachable(
                f"PowerSchool did not answer {path}: {exc.reason} after {attempt + 1} attempts",
                source=self.source,
                hint="the server may be overloaded or down; try again later",
            ) from exc
        self.stats.retries += 1
        await self._sleep(self.retry.delay(attempt, self._rng, exc.retry_after))
        return attempt + 1

    def _http_error(self, response: httpx.Response, path: str) -> SourceError:
        status = response.status_code
        detail = _message(response)
        if status == 403:
            fields = denied_fields(response)
            if fields:
                return FieldsNotGranted(
                    f"The PowerSchool plugin does not grant access to {', '.join(fields)} "
                    f"(needed by {path})",
                    fields=fields,
                    source=self.source,
                    hint="regenerate the plugin with `rostersync powerschool plugin --config "
                    "FILE --out plugin.zip` and install it, or remove the field from the "
                    "configuration",
                )
            if path.startswith("/ws/v1/"):
                return V1AccessDenied(
                    f"PowerSchool denied {path} (HTTP 403: {detail})",
                    source=self.source,
                    hint="set the plugin's v1 API access level to READ "
                    '(<oauth accessLevelV1Api="READ"/>, or on Data Provider Configuration)',
                )
            return SourceAuthError(
                f"PowerSchool denied {path} (HTTP 403: {detail})",
                source=self.source,
                hint="check the plugin's access (v1 API access level, access_request fields)",
            )
        if status == 404 and path.startswith("/ws/schema/query/"):
            return SourceAuthError(
                f"The PowerQuery {path.rsplit('/', 1)[-1]} is not installed on PowerSchool",
                source=self.source,
                hint="install the plugin written by `rostersync powerschool plugin --config FILE "
                "--out plugin.zip`",
            )
        return SourceDataError(
            f"PowerSchool answered HTTP {status} for {path}: {detail}", source=self.source
        )
