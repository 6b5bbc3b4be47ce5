"""OAuth client credentials for a PowerSchool plugin: get a token once, reuse it, renew it on 401.

The token call is ``POST /oauth/access_token`` with HTTP Basic ``client_id:client_secret`` and
``grant_type=client_credentials``; ``expires_in`` arrives as a JSON *string*. Many requests run at
once, so renewal is guarded: when several requests see the same stale token rejected, only the
first one asks for a new token and the others use it.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from rostersync.connectors.powerschool._json import as_dict, text
from rostersync.errors import SourceAuthError

TOKEN_PATH = "/oauth/access_token"  # noqa: S105 - an URL path, not a secret

#: Sends the token request (with retries on transient trouble) and returns the response.
TokenSender = Callable[[httpx.Request], Awaitable[httpx.Response]]


@dataclass
class Token:
    value: str
    expires_at: float  # time.monotonic() seconds


class ClientCredentials:
    """The plugin's client ID and secret, and the bearer token they buy.

    The secret is kept private and never appears in ``repr`` or error messages.
    """

    #: Renew this many seconds before the announced expiry, so a token never dies mid-request.
    EARLY_RENEWAL_SECONDS = 30.0

    def __init__(
        self, base_url: str, client_id: str, client_secret: str, *, source: str = ""
    ) -> None:
        self._url = base_url.rstrip("/") + TOKEN_PATH
        self.client_id = client_id
        self.__secret = client_secret
        self.source = source
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        #: How many tokens were obtained (1 for a run whose token lived; 2 after one renewal…).
        self.tokens_obtained = 0
        #: How many of those replaced a token the server refused (one per stale token, however
        #: many requests were waiting on it).
        self.renewals = 0

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r}, client_secret='********')"

    def token_request(self) -> httpx.Request:
        """The token request as PowerSchool documents it."""
        basic = base64.b64encode(f"{self.client_id}:{self.__secret}".encode()).decode("ascii")
        return httpx.Request(
            "POST",
            self._url,
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
                "Accept": "application/json",
            },
            content=b"grant_type=client_credentials",
        )

    async def token(self, send: TokenSender) -> str:
        """A valid bearer token, asking for one only when none is held or it is about to expire."""
        tok = self._token
        if tok is not None and tok.expires_at > time.monotonic():
            return tok.value
        async with self._lock:
            tok = self._token
            if tok is not None and tok.expires_at > time.monotonic():
                return tok.value
            return await self._fetch(send)

    async def renew(self, send: TokenSender, stale: str) -> str:
        """A new token after ``stale`` was rejected (401); one renewal serves every waiter."""
        async with self._lock:
            tok = self._token
            if tok is not None and tok.value != stale:
                return tok.value
            self._token = None
            value = await self._fetch(send)
            self.renewals += 1
            return value

    async def _fetch(self, send: TokenSender) -> str:
        response = await send(self.token_request())
        if response.status_code != 200:
            raise self._refused(response)
        try:
            body = as_dict(response.json())
        except ValueError:
            body = {}
        value = text(body.get("access_token"))
        if not value:
            raise SourceAuthError(
                "PowerSchool's token answer has no access_token",
                source=self.source,
                hint="check that the delivery URL points at the PowerSchool server itself",
            )
        try:
            lifetime = float(text(body.get("expires_in")) or "3600")
        except ValueError:
            lifetime = 3600.0
        margin = min(self.EARLY_RENEWAL_SECONDS, lifetime / 10)
        self._token = Token(value, time.monotonic() + max(lifetime - margin, 0.0))
        self.tokens_obtained += 1
        return value

    def _refused(self, response: httpx.Response) -> SourceAuthError:
        detail = ""
        try:
            body = as_dict(response.json())
            detail = " ".join(
                str(body[k]) for k in ("error", "error_description", "message") if body.get(k)
            )
        except ValueError:
            detail = response.text[:200]
        lowered = detail.lower()
        if "disabled" in lowered or "not enabled" in lowered:
            return SourceAuthError(
                f"The PowerSchool plugin is disabled (HTTP {response.status_code}: {detail})",
                source=self.source,
                hint="enable the plugin under System > System Settings > Plugin Management "
                "Configuration",
            )
        return SourceAuthError(
            f"PowerSchool refused the client ID or secret (HTTP {response.status_code}"
            + (f": {detail})" if detail else ")"),
            source=self.source,
            hint="copy the client ID and secret again from the plugin's Data Provider "
            "Configuration page (they change when regenerated)",
        )
