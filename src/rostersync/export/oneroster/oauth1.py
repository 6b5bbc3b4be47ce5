"""OAuth 1.0a request signing (HMAC-SHA256, and HMAC-SHA1 for older consumers) for OneRoster 1.1.

Implements the signature base string of RFC 5849 §3.4: the method, the base string URI, and the
normalized parameters (query and ``Authorization: OAuth`` parameters, percent-encoded, sorted).
The provider refuses requests without a nonce or a timestamp, stale timestamps, and replayed
nonces (remembered in the database by :class:`NonceStore`, so every server process sees them).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from rostersync.store.schema import oauth_nonces

MAX_SKEW_SECONDS = 300
_DIGESTS = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}


def pct(value: str) -> str:
    """RFC 3986 percent-encoding as OAuth 1.0a requires (unreserved characters kept)."""
    return quote(value, safe="-._~")


def parse_authorization(header: str) -> dict[str, str]:
    """The parameters of an ``Authorization: OAuth k="v", …`` header (``realm`` dropped)."""
    _, _, rest = header.partition(" ")
    params: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, value = part.strip().partition("=")
        if sep and key != "realm":
            params[unquote(key)] = unquote(value.strip().strip('"'))
    return params


def base_string_uri(url: str) -> str:
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    default = (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    netloc = host if port is None or default else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def signature_base(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    pairs = sorted((pct(k), pct(v)) for k, v in params if k != "oauth_signature")
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    return "&".join((method.upper(), pct(base_string_uri(url)), pct(normalized)))


def sign(method_name: str, base: str, consumer_secret: str, token_secret: str = "") -> str:
    digest = _DIGESTS[method_name]
    key = f"{pct(consumer_secret)}&{pct(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), digest).digest()).decode()


#: Longest ``oauth_nonce`` accepted: a nonce is a random token, not a place to store data.
MAX_NONCE_LENGTH = 128


class NonceStore:
    """Nonces seen within the timestamp window, in the store's database, to refuse replays.

    Shared by every server process (``serve --workers N``): the insert of (client, nonce,
    timestamp) is the check, and only the process whose insert wins serves the request. A
    timestamp outside :data:`MAX_SKEW_SECONDS` is refused before the nonce is looked at, so rows
    older than the window can never match again; each process purges them now and then.
    """

    def __init__(self, engine: Engine, purge_every: float = 60.0) -> None:
        self.engine = engine
        self._purge_every = purge_every
        self._next_purge = time.time() + purge_every
        self._lock = threading.Lock()

    def _insert(self, client_id: str, nonce: str, timestamp: int) -> sa.Executable:
        """The insert, answering a row when it added one (a replay adds none)."""
        values = {"client_id": client_id, "nonce": nonce, "timestamp": timestamp}
        dialect = self.engine.dialect.name
        added = oauth_nonces.c.nonce
        if dialect == "postgresql":
            return pg_insert(oauth_nonces).values(values).on_conflict_do_nothing().returning(added)
        if dialect == "sqlite":
            return (
                sqlite_insert(oauth_nonces).values(values).on_conflict_do_nothing().returning(added)
            )
        return oauth_nonces.insert().values(values).returning(added)

    def first_use(self, client_id: str, nonce: str, timestamp: int) -> bool:
        """Whether this is the first request with this nonce and timestamp (any process)."""
        now = time.time()
        try:
            with self.engine.begin() as conn:
                # RETURNING rather than rowcount, which psycopg reports as -1 for an upsert.
                inserted = len(conn.execute(self._insert(client_id, nonce, timestamp)).all())
        except sa.exc.IntegrityError:
            inserted = 0
        with self._lock:
            due = now >= self._next_purge
            if due:
                self._next_purge = now + self._purge_every
        if due:
            self.purge(now)
        return inserted == 1

    def purge(self, now: float | None = None) -> int:
        """Forget nonces whose timestamp is older than the window (their requests are stale)."""
        horizon = int(now if now is not None else time.time()) - MAX_SKEW_SECONDS - 1
        with self.engine.begin() as conn:
            return conn.execute(
                oauth_nonces.delete().where(oauth_nonces.c.timestamp < horizon)
            ).rowcount


def timestamp_of(oauth: dict[str, str]) -> int | None:
    """``oauth_timestamp`` as an integer, or ``None`` when absent or not 1–12 ASCII digits."""
    text = oauth.get("oauth_timestamp", "")
    if not (0 < len(text) <= 12 and text.isascii() and text.isdigit()):
        return None
    return int(text)


def check_signature(
    method: str,
    url: str,
    query: Iterable[tuple[str, str]],
    oauth: dict[str, str],
    consumer_secret: str,
) -> str | None:
    """``None`` if the request is correctly signed and fresh, else the reason it is not."""
    name = oauth.get("oauth_signature_method", "")
    if name not in _DIGESTS:
        return f"unsupported oauth_signature_method {name!r} (use HMAC-SHA256)"
    stamp = timestamp_of(oauth)
    if stamp is None:
        return "missing or malformed oauth_timestamp (seconds since 1970, in digits)"
    nonce = oauth.get("oauth_nonce", "")
    if not nonce:
        return "oauth_nonce is required (RFC 5849 section 3.3)"
    if len(nonce) > MAX_NONCE_LENGTH or not nonce.isascii() or not nonce.isprintable():
        return f"oauth_nonce must be at most {MAX_NONCE_LENGTH} printable ASCII characters"
    if abs(time.time() - stamp) > MAX_SKEW_SECONDS:
        return "oauth_timestamp is too far from the server's clock"
    params = [*query, *((k, v) for k, v in oauth.items() if k.startswith("oauth_"))]
    expected = sign(name, signature_base(method, url, params), consumer_secret)
    if not hmac.compare_digest(expected, oauth.get("oauth_signature", "")):
        return "invalid oauth_signature"
    return None
