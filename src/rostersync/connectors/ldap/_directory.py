"""Reading the directory: bind with the stored secret, run paged searches, say what went wrong.

LDAP / Active Directory source, its protocol edge. Each search runs on its own ``ldap3``
connection (blocking; the connector runs it in a worker thread) and asks for pages of
``page_size`` entries with the Simple Paged Results control (RFC 2696), so a directory that caps
answers (Active Directory's MaxPageSize of 1000) still hands over every entry. Every failure is
one of the error tree's source errors naming the server, the search and the setting to check; a
server that cuts a search short (size, time or administrative limit) is reported as such, never
passed on as if the directory held only what came.
"""

from __future__ import annotations

import contextlib
import math
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from ldap3 import BASE, LEVEL, NONE, SIMPLE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException, LDAPStartTLSError

from rostersync.errors import (
    SourceAuthError,
    SourceDataError,
    SourceError,
    SourceUnreachable,
)

PAGED_RESULTS: Final = "1.2.840.113556.1.4.319"
#: Result codes meaning "the server stopped before the end": the answer is short, not whole.
LIMIT_CODES: Final = {3: "timeLimitExceeded", 4: "sizeLimitExceeded", 11: "adminLimitExceeded"}
_SSL_REASON: Final = re.compile(r"\[SSL: CERTIFICATE_VERIFY_FAILED\] ([^(]+)")
_SCOPES: Final[dict[str, Literal["BASE", "LEVEL", "SUBTREE"]]] = {
    "subtree": SUBTREE,
    "one_level": LEVEL,
    "base": BASE,
}


@dataclass(frozen=True)
class Endpoint:
    """Where the directory is and who binds (the password is never shown)."""

    url: str
    bind_dn: str
    password: str = field(repr=False)
    timeout: float = 30.0
    start_tls: bool = False
    verify_tls: bool = True
    ca_file: str | None = None
    source: str = "ldap"

    def __repr__(self) -> str:
        return f"Endpoint(url={self.url!r}, bind_dn={self.bind_dn!r})"


@dataclass(frozen=True)
class SearchSpec:
    """One search to run: its name (progress, errors), where, what, and its setting path."""

    name: str
    base_dn: str
    filter: str
    scope: Literal["subtree", "one_level", "base"]
    attributes: tuple[str, ...]
    setting: str


@dataclass(frozen=True)
class Entry:
    """A directory entry: its DN and raw values by lower-cased attribute name."""

    dn: str
    values: dict[str, list[bytes]]


@dataclass
class SearchOutcome:
    """What one paged search brought back, and whether the server stopped it short."""

    entries: list[Entry] = field(default_factory=list)
    pages: int = 0
    seconds: float = 0.0
    #: The server's limit result (``sizeLimitExceeded: …``) when it ended the search early.
    stopped: str | None = None


#: ``(search name, entries so far, pages so far)`` after every page.
PageCallback = Callable[[str, int, int], None]


def _server(endpoint: Endpoint) -> Server:
    tls = None
    if endpoint.url.lower().startswith("ldaps://") or endpoint.start_tls:
        tls = Tls(
            validate=ssl.CERT_REQUIRED if endpoint.verify_tls else ssl.CERT_NONE,
            ca_certs_file=endpoint.ca_file if endpoint.verify_tls else None,
        )
    return Server(endpoint.url, get_info=NONE, tls=tls, connect_timeout=endpoint.timeout)


def connect(endpoint: Endpoint) -> Connection:
    """An open connection bound as the endpoint's bind DN (StartTLS first when asked)."""
    conn = Connection(
        _server(endpoint),
        user=endpoint.bind_dn,
        password=endpoint.password,
        authentication=SIMPLE,
        auto_bind="NONE",
        read_only=True,
        auto_referrals=False,
        # whole seconds: ldap3 packs the socket option as integers
        receive_timeout=max(1, math.ceil(endpoint.timeout)),
        raise_exceptions=False,
    )
    try:
        conn.open()
        if endpoint.start_tls and not conn.start_tls():
            raise _tls_error(endpoint, conn.result)
        bound = conn.bind()
    except LDAPStartTLSError as exc:
        close(conn)
        raise _certificate_error(endpoint, exc) or _tls_error(endpoint, str(exc)) from None
    except (LDAPException, OSError) as exc:
        close(conn)
        untrusted = _certificate_error(endpoint, exc)
        if untrusted is not None:
            raise untrusted from None
        raise SourceUnreachable(
            f"Cannot reach the LDAP server at {endpoint.url}: {_first_line(exc)}",
            source=endpoint.source,
            hint="check delivery.url (ldap://host:389 or ldaps://host:636) and that the server "
            "accepts connections from this machine",
        ) from None
    except SourceError:
        close(conn)
        raise
    except Exception as exc:  # ldap3's decoder fails in any way on bytes that are not LDAP
        close(conn)
        raise not_ldap(endpoint, exc) from None
    if not bound:
        close(conn)
        code = int(conn.result.get("result", -1))
        if code == 49:
            raise SourceAuthError(
                f"The LDAP server {endpoint.url} refused the bind as {endpoint.bind_dn!r}: "
                "invalid credentials",
                source=endpoint.source,
                hint="check delivery.client_id (the bind DN, or user@domain on Active "
                "Directory) and the password its delivery.client_secret reference holds",
            )
        raise result_error(conn.result, endpoint, f"the bind as {endpoint.bind_dn!r}")
    return conn


def not_ldap(endpoint: Endpoint, exc: BaseException) -> SourceError:
    """The error of an answer that is not LDAP at all (a web server on the port…)."""
    return SourceUnreachable(
        f"The server at {endpoint.url} does not answer as an LDAP server (a malformed "
        f"response: {type(exc).__name__})",
        source=endpoint.source,
        hint="check delivery.url: the port of an LDAP server (389; 636 for ldaps://; 3268 for "
        "an Active Directory Global Catalog)",
    )


def close(conn: Connection) -> None:
    """Unbind and close the socket, whatever state the connection is in."""
    with contextlib.suppress(LDAPException, OSError):
        conn.unbind()
    with contextlib.suppress(LDAPException, OSError, AttributeError):
        if conn.socket is not None:
            conn.socket.close()


def _certificate_error(endpoint: Endpoint, exc: BaseException) -> SourceError | None:
    """A clear error when TLS failed on the server's certificate (None for other failures)."""
    text = str(exc)
    found = _SSL_REASON.search(text)
    if found is None and "doesn't match" not in text:
        return None
    reason = found.group(1).strip() if found else "its names do not include the server's host"
    return SourceUnreachable(
        f"The LDAP server {endpoint.url} presented a certificate that is not trusted: {reason}",
        source=endpoint.source,
        hint="give the PEM file of the CA that signed it as connector.ca_file, and use the "
        "host name the certificate names in delivery.url (verify_tls: false only for a test "
        "server)",
    )


def _tls_error(endpoint: Endpoint, detail: Any) -> SourceError:
    return SourceUnreachable(
        f"StartTLS with the LDAP server {endpoint.url} failed: {_first_line(detail)}",
        source=endpoint.source,
        hint="check that the server offers StartTLS and that its certificate is trusted here "
        "(connector.verify_tls), or use ldaps:// in delivery.url",
    )


def _first_line(detail: Any) -> str:
    text = str(detail.get("description") if isinstance(detail, dict) else detail)
    return text.strip().splitlines()[0] if text.strip() else type(detail).__name__


def result_error(result: dict[str, Any], endpoint: Endpoint, what: str) -> SourceError:
    """The source error of a failed LDAP result (``what``: the operation, for the message)."""
    code = int(result.get("result", -1))
    name = str(result.get("description") or "error")
    detail = str(result.get("message") or "").strip()
    said = f"{name} (code {code})" + (f": {detail}" if detail else "")
    where = f"The LDAP server {endpoint.url} refused {what}: {said}"
    if code in (50, 48):
        return SourceAuthError(
            where,
            source=endpoint.source,
            hint=f"give {endpoint.bind_dn!r} read access to the entries and attributes the "
            "searches read",
        )
    if code in (51, 52):
        return SourceUnreachable(
            where, source=endpoint.source, hint="the server is busy or unavailable; run again"
        )
    if code == 10:
        refs = ", ".join(result.get("referrals") or []) or "another server"
        return SourceDataError(
            f"{where} — it refers to {refs}",
            source=endpoint.source,
            hint="point delivery.url at a server that holds the base DN (on Active Directory "
            "a Global Catalog, ldap://gc-host:3268, holds the whole forest)",
        )
    return SourceDataError(where, source=endpoint.source)


def paged_search(
    conn: Connection,
    spec: SearchSpec,
    page_size: int,
    endpoint: Endpoint,
    on_page: PageCallback | None = None,
    *,
    max_pages: int | None = None,
) -> SearchOutcome:
    """Every entry the search finds, page by page (the first ``max_pages`` only, when given);
    a clear error when it cannot be read."""
    out = SearchOutcome()
    started = time.perf_counter()
    cookie: bytes | None = None
    while True:
        try:
            conn.search(
                spec.base_dn,
                spec.filter,
                search_scope=_SCOPES[spec.scope],
                attributes=list(spec.attributes),
                paged_size=page_size,
                paged_cookie=cookie,
            )
        except (LDAPException, OSError) as exc:
            if isinstance(exc, TimeoutError):
                raise SourceUnreachable(
                    f"The LDAP server {endpoint.url} did not answer the {spec.name} search of "
                    f"{spec.base_dn!r} within {endpoint.timeout:g} s (page {out.pages + 1}, "
                    f"after {len(out.entries)} entries)",
                    source=endpoint.source,
                    hint="nothing was published; raise connector.timeout_seconds for a slow "
                    "server, or run the sync again",
                ) from None
            raise SourceUnreachable(
                f"The LDAP server {endpoint.url} broke off the {spec.name} search of "
                f"{spec.base_dn!r} after {len(out.entries)} entries (page {out.pages + 1}): "
                f"{_first_line(exc)}",
                source=endpoint.source,
                hint="nothing was published; check the server (its idle timeout, a load "
                "balancer or firewall in between) and run the sync again",
            ) from None
        except Exception as exc:  # a malformed answer: ldap3's decoder fails in any way
            raise SourceUnreachable(
                f"The LDAP server {endpoint.url} sent a malformed answer to the {spec.name} "
                f"search of {spec.base_dn!r} after {len(out.entries)} entries (page "
                f"{out.pages + 1}): {type(exc).__name__}",
                source=endpoint.source,
                hint="nothing was published; check what sits between rostersync and the "
                "server (a proxy or load balancer that alters traffic) and run the sync again",
            ) from None
        result = conn.result
        out.entries.extend(_entries(conn.response or []))
        out.pages += 1
        if on_page is not None:
            on_page(spec.name, len(out.entries), out.pages)
        code = int(result.get("result", -1))
        if code in LIMIT_CODES:
            detail = str(result.get("message") or "").strip()
            out.stopped = LIMIT_CODES[code] + (f": {detail}" if detail else "")
            break
        if code == 32:
            raise SourceDataError(
                f"The {spec.name} search base {spec.base_dn!r} does not exist on {endpoint.url}",
                source=endpoint.source,
                hint=f"check {spec.setting}.base_dn (copy the OU's distinguishedName)",
            )
        if code == 12:
            raise SourceDataError(
                f"The LDAP server {endpoint.url} does not support paged searches "
                "(Simple Paged Results control)",
                source=endpoint.source,
                hint="use a server or Global Catalog that offers the control",
            )
        if code != 0:
            raise result_error(result, endpoint, f"the {spec.name} search of {spec.base_dn!r}")
        cookie = _cookie(result)
        if not cookie or (max_pages is not None and out.pages >= max_pages):
            break
    out.seconds = time.perf_counter() - started
    return out


def _cookie(result: dict[str, Any]) -> bytes | None:
    control = (result.get("controls") or {}).get(PAGED_RESULTS) or {}
    value = control.get("value") or {}
    cookie = value.get("cookie")
    return cookie if isinstance(cookie, bytes) and cookie else None


def _entries(response: list[dict[str, Any]]) -> list[Entry]:
    found = []
    for item in response:
        if item.get("type") != "searchResEntry":
            continue  # continuation references: auto_referrals is off, referrals not followed
        raw: dict[str, Any] = item.get("raw_attributes") or {}
        values = {str(k).lower(): list(vs) for k, vs in raw.items() if vs}  # bytes already
        found.append(Entry(str(item.get("dn", "")), values))
    return found


def search_all(
    endpoint: Endpoint,
    spec: SearchSpec,
    page_size: int,
    on_page: PageCallback | None = None,
) -> SearchOutcome:
    """Connect, bind, run one paged search and close (one connection per search)."""
    conn = connect(endpoint)
    try:
        return paged_search(conn, spec, page_size, endpoint, on_page)
    finally:
        close(conn)
