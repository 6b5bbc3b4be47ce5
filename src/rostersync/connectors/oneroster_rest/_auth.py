"""Signing in to a OneRoster provider: OAuth 2 client credentials, or OAuth 1.0a signatures.

OAuth 2: one token for every request, fetched with HTTP Basic client authentication, renewed
once when a request answers 401 (one renewal however many requests were waiting on it). OAuth
1.0a (RFC 5849, HMAC-SHA256): each request signed over its method, URL and query parameters
with a fresh nonce and timestamp. The secret is held privately and never shown in a ``repr``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

import httpx

from rostersync.errors import SourceAuthError, SourceUnreachable


def _pct(value: str) -> str:
    return quote(value, safe="-._~")


class OAuth2Client:
    """Client credentials: a bearer token from the token endpoint."""

    def __init__(self, token_url: str, client_id: str, secret: str, scope: str, source: str):
        self.token_url = token_url
        self.client_id = client_id
        self._secret = secret
        self.scope = scope
        self.source = source
        self._token: str | None = None
        self._lock = asyncio.Lock()
        self.renewals = 0

    def __repr__(self) -> str:
        return f"OAuth2Client(token_url={self.token_url!r}, client_id={self.client_id!r})"

    async def headers(
        self, client: httpx.AsyncClient, method: str, url: str, params: Iterable[tuple[str, str]]
    ) -> dict[str, str]:
        token = self._token or await self.renew(client, None)
        return {"Authorization": f"Bearer {token}"}

    async def renew(self, client: httpx.AsyncClient, stale: str | None) -> str:
        """A fresh token (fetched once for all the requests that found ``stale`` refused)."""
        async with self._lock:
            if self._token is not None and self._token != stale:
                return self._token
            try:
                resp = await client.post(
                    self.token_url,
                    data={"grant_type": "client_credentials", "scope": self.scope},
                    auth=(self.client_id, self._secret),
                )
            except httpx.HTTPError as exc:
                raise SourceUnreachable(
                    f"The OneRoster token endpoint {self.token_url} cannot be reached: "
                    f"{type(exc).__name__}",
                    source=self.source,
                    hint="check delivery.url (or connector.token_url) and the network",
                ) from exc
            if resp.status_code in (400, 401, 403):
                raise SourceAuthError(
                    f"The OneRoster provider refused the client credentials of "
                    f"{self.client_id!r} (HTTP {resp.status_code} from {self.token_url})",
                    source=self.source,
                    hint="check delivery.client_id and the secret delivery.client_secret names",
                )
            if resp.status_code != 200:
                raise SourceUnreachable(
                    f"The OneRoster token endpoint {self.token_url} answered HTTP "
                    f"{resp.status_code}",
                    source=self.source,
                    hint="the provider may be down; the sync can be run again later",
                )
            try:
                token = resp.json()["access_token"]
            except (ValueError, KeyError, TypeError) as exc:
                raise SourceAuthError(
                    f"The OneRoster token endpoint {self.token_url} answered without an "
                    "access_token",
                    source=self.source,
                    hint="check connector.token_url: it must be the provider's OAuth 2 token "
                    "endpoint",
                ) from exc
            if stale is not None:
                self.renewals += 1
            self._token = str(token)
            return self._token

    @property
    def token(self) -> str | None:
        return self._token


class OAuth1Signer:
    """OAuth 1.0a HMAC-SHA256 request signing (OneRoster 1.1)."""

    def __init__(self, consumer_key: str, secret: str) -> None:
        self.consumer_key = consumer_key
        self._secret = secret
        self.renewals = 0
        self.token: str | None = None

    def __repr__(self) -> str:
        return f"OAuth1Signer(consumer_key={self.consumer_key!r})"

    async def headers(
        self, client: httpx.AsyncClient, method: str, url: str, params: Iterable[tuple[str, str]]
    ) -> dict[str, str]:
        oauth = {
            "oauth_consumer_key": self.consumer_key,
            "oauth_nonce": secrets.token_hex(16),
            "oauth_signature_method": "HMAC-SHA256",
            "oauth_timestamp": str(int(time.time())),
            "oauth_version": "1.0",
        }
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
        default = port is None or (scheme, port) in (("http", 80), ("https", 443))
        base_uri = f"{scheme}://{host if default else f'{host}:{port}'}{parts.path or '/'}"
        pairs = sorted((_pct(k), _pct(v)) for k, v in [*params, *oauth.items()])
        normalized = "&".join(f"{k}={v}" for k, v in pairs)
        base = "&".join((method.upper(), _pct(base_uri), _pct(normalized)))
        key = f"{_pct(self._secret)}&".encode()
        digest = hmac.new(key, base.encode(), hashlib.sha256).digest()
        oauth["oauth_signature"] = base64.b64encode(digest).decode()
        header = ", ".join(f'{_pct(k)}="{_pct(v)}"' for k, v in oauth.items())
        return {"Authorization": f"OAuth {header}"}

    async def renew(self, client: httpx.AsyncClient, stale: str | None) -> str:
        raise SourceAuthError(
            f"The OneRoster provider refused the OAuth 1.0a signature of {self.consumer_key!r}",
            hint="check delivery.client_id (the consumer key) and its secret",
        )


Auth = OAuth2Client | OAuth1Signer
