"""OAuth 1.0a request signing (HMAC-SHA256, and HMAC-SHA1 for older consumers) for OneRoster 1.1.

Implements the signature base string of RFC 5849 §3.4: the method, the base string URI, and the
normalized parameters (query and ``Authorization: OAuth`` parameters, percent-encoded, sorted).
The provider refuses stale timestamps and replayed nonces.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

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


class NonceCache:
    """Nonces seen within the timestamp window (per process), to refuse replays."""

    def __init__(self, size: int = 100_000) -> None:
        self._seen: OrderedDict[tuple[str, str, str], float] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def first_use(self, key: str, nonce: str, timestamp: str) -> bool:
        now = time.time()
        with self._lock:
            while self._seen and (
                len(self._seen) > self._size
                or next(iter(self._seen.values())) < now - 2 * MAX_SKEW_SECONDS
            ):
                self._seen.popitem(last=False)
            entry = (key, nonce, timestamp)
            if entry in self._seen:
                return False
            self._seen[entry] = now
            return True


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
    try:
        stamp = int(oauth.get("oauth_timestamp", ""))
    except ValueError:
        return "missing or malformed oauth_timestamp"
    if abs(time.time() - stamp) > MAX_SKEW_SECONDS:
        return "oauth_timestamp is too far from the server's clock"
    params = [*query, *((k, v) for k, v in oauth.items() if k.startswith("oauth_"))]
    expected = sign(name, signature_base(method, url, params), consumer_secret)
    if not hmac.compare_digest(expected, oauth.get("oauth_signature", "")):
        return "invalid oauth_signature"
    return None
