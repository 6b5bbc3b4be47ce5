"""Hostile requests against the real OneRoster provider, on SQLite and PostgreSQL: bad
credentials, paths, paging and filters. Whatever arrives, the answer is never a 5xx, and every
refusal carries the OneRoster status payload (1.2 ``imsx_StatusInfo``, 1.1 ``statusInfoSet``)."""

from __future__ import annotations

import base64
import json
import socket
import time
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from or_provider import V11, V12, Provider

from rostersync.export.oneroster.filtering import MAX_CLAUSES


def status_info(resp: httpx.Response, base: str) -> dict[str, Any]:
    """The status payload of a refusal, checked for the spec's shape."""
    assert resp.headers["content-type"].startswith("application/json"), resp.text
    return status_info_of(resp.json(), base)


def status_info_of(body: Any, base: str) -> dict[str, Any]:
    info = body if base == V12 else body["statusInfoSet"][0]
    assert info["imsx_codeMajor"] in ("failure", "unsupported"), body
    assert info["imsx_severity"] == "error"
    assert isinstance(info["imsx_description"], str)
    assert info["imsx_description"]
    field = info["imsx_CodeMinor"]["imsx_codeMinorField"][0]
    assert field["imsx_codeMinorFieldName"] == "TargetEndSystem"
    assert isinstance(field["imsx_codeMinorFieldValue"], str)
    return dict(info)


def minor(info: dict[str, Any]) -> str:
    return str(info["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"])


def check(resp: httpx.Response, base: str, *allowed: int) -> dict[str, Any] | None:
    """No 5xx; a refusal has the status payload; the status is one of ``allowed``."""
    assert resp.status_code < 500, (resp.status_code, resp.text[:300])
    if allowed:
        assert resp.status_code in allowed, (resp.status_code, resp.text[:300])
    if resp.status_code >= 400:
        return status_info(resp, base)
    resp.json()
    return None


BASES = [V12, V11]
#: What uvicorn's HTTP parser answers to a request it cannot parse (the app never sees it).
PARSER_REFUSAL = "Invalid HTTP request received."


def fetch(provider: Provider, url: str) -> httpx.Response:
    """GET ``url`` exactly as written (query included) with the full client's token."""
    return provider.http.get(url, headers={"Authorization": f"Bearer {provider.bearer('full')}"})


# -- Authorization headers --------------------------------------------------------------------

HOSTILE_AUTH: list[bytes] = [
    b"Bearer \xff\xfe\xfd",
    b"Bearer caf\xe9",
    b"Bearer \xc3\xa9t\xc3\xa9.\xc3\xa9",
    b"bearer " + b"\x80" * 64,
    b"Bearer ",
    b"Bearer .",
    b"Bearer a.b.c",
    b"Bearer " + b"A" * 8000 + b"." + b"B" * 43,
    b"Bearer eyJjaWQiOiJ4In0.\xff",
    b"Bearer \x7f",
    b"Basic \xff\xff",
    b"OAuth",
    b"OAuth ,,,,=,=",
    b'OAuth oauth_consumer_key="\xff\xfe"',
    b'OAuth oauth_consumer_key="%00", oauth_signature="x", oauth_signature_method="HMAC-SHA256"',
    b'OAuth oauth_consumer_key="%FF%FE", oauth_signature="%C3%A9"',
    b'OAuth oauth_consumer_key="caf\xe9", oauth_nonce="\xe9", oauth_timestamp="1"',
    b'OAuth oauth_timestamp="' + b"9" * 400 + b'", oauth_signature_method="HMAC-SHA256"',
    b"\xff\xfe OAuth",
    b"\x01\x02\x03",
]


def raw_get(provider: Provider, path: str, header: bytes) -> tuple[int, bytes, bytes]:
    """GET over a plain socket (an HTTP client would refuse to send such a header)."""
    url = httpx.URL(str(provider.http.base_url))
    with socket.create_connection((url.host, url.port or 80), timeout=30) as sock:
        sock.sendall(
            b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: " + header + b"\r\nConnection: close\r\n\r\n"
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head, body


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("header", HOSTILE_AUTH, ids=range(len(HOSTILE_AUTH)))
def test_hostile_authorization_is_401(hostile_provider: Provider, base: str, header: bytes) -> None:
    try:
        resp = hostile_provider.http.get(f"{base}/users", headers={"Authorization": header})
    except httpx.LocalProtocolError:
        # Not sendable by a client: the server's HTTP parser may refuse it before the app.
        status, head, body = raw_get(hostile_provider, f"{base}/users", header)
        assert status in (400, 401), (status, body)
        if status == 401 or b"application/json" in head:
            info = json.loads(body)
            status_info_of(info, base)
        return
    if resp.status_code == 400 and resp.text == PARSER_REFUSAL:
        return  # refused by the server's HTTP parser (control characters), before the app
    info = check(resp, base, 401)
    assert info is not None
    assert minor(info) == "unauthorisedrequest"


@pytest.mark.parametrize("header", HOSTILE_AUTH[:4], ids=range(4))
def test_hostile_authorization_with_a_valid_oauth1_client_key_is_401(
    hostile_provider: Provider, header: bytes
) -> None:
    key = hostile_provider.clients["full"].client_id.encode()
    raw = b'OAuth oauth_consumer_key="' + key + b'", oauth_nonce="' + header[-8:] + b'"'
    resp = hostile_provider.http.get(f"{V11}/users", headers={"Authorization": raw})
    check(resp, V11, 401)


@pytest.mark.parametrize(
    "query",
    [
        "oauth_signature=x&oauth_consumer_key=%00",
        "oauth_signature=%FF%FE&oauth_consumer_key=abc",
        "oauth_signature=%C3%A9&oauth_consumer_key=or_x&oauth_timestamp=" + "9" * 300,
        "oauth_signature=x&oauth_nonce=%00&oauth_consumer_key=x",
    ],
)
def test_hostile_oauth1_query_parameters_are_401(hostile_provider: Provider, query: str) -> None:
    check(hostile_provider.http.get(f"{V11}/users?{query}"), V11, 401)


@pytest.mark.parametrize("query", ["oauth_signature=x&oauth_consumer_key=PLACEHOLDER"])
def test_oauth1_query_with_a_real_key_and_bad_parts_is_401(
    hostile_provider: Provider, query: str
) -> None:
    key = hostile_provider.clients["full"].client_id
    for extra in (
        "&oauth_signature_method=HMAC-SHA256&oauth_timestamp=" + "9" * 30,
        "&oauth_nonce=%00",
    ):
        url = f"{V11}/users?{query.replace('PLACEHOLDER', key)}{extra}"
        check(hostile_provider.http.get(url), V11, 401)


# -- paths ------------------------------------------------------------------------------------

HOSTILE_IDS = [
    "%00",
    "a%00b",
    "u-s1%00",
    "%FF%FE",
    "%C0%AF",
    "%ED%A0%80",
    "%E2%80%AE",
    "%F0%9F%98%80",
    "'%20OR%201=1%20--",
    "..%2F..%2Fetc%2Fpasswd",
    "x" * 4000,
    "%25",
    "%5C%5C",
    "*",
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("bad", HOSTILE_IDS, ids=range(len(HOSTILE_IDS)))
@pytest.mark.parametrize(
    "template",
    [
        "/users/{x}",
        "/classes/{x}/students",
        "/schools/{x}/classes/{x}/teachers",
        "/terms/{x}/gradingPeriods",
        "/schools/org-s1/classes/{x}/enrollments",
        "/students/{x}/classes",
    ],
)
def test_hostile_path_ids_are_404(
    hostile_provider: Provider, base: str, bad: str, template: str
) -> None:
    resp = fetch(hostile_provider, base + template.replace("{x}", bad))
    info = check(resp, base, 404)
    assert info is not None
    assert minor(info) == "unknownobject"


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize(
    "path",
    [
        "/nothing",
        "/users/u-s1/nothing/else",
        "/%00",
        "/users/u-s1/classes/x/y/z",
        "/" + "a/" * 500,
        "/%FF/%FE",
    ],
)
def test_unknown_paths_are_404_with_the_status_payload(
    hostile_provider: Provider, base: str, path: str
) -> None:
    info = check(fetch(hostile_provider, base + path), base, 404)
    assert info is not None
    assert minor(info) == "unknownobject"


# -- query strings ----------------------------------------------------------------------------

HOSTILE_QUERIES = [
    "limit=99999999999999999999999",
    "offset=99999999999999999999999",
    "offset=9223372036854775808",
    "limit=9223372036854775808",
    "limit=-1",
    "offset=-1",
    "limit=-99999999999999999999999",
    "offset=-9223372036854775809",
    "limit=0",
    "limit=1e3",
    "limit=%00",
    "offset=%00",
    "limit=%D9%A3",
    "offset=1_000",
    "limit=" + "9" * 5000,
    "sort=%00",
    "sort=nothing",
    "sort=name.sub.deeper",
    "orderBy=sideways",
    "orderBy=%00",
    "fields=%00",
    "fields=,,,,",
    "fields=a.b.c",
    "fields=" + "givenName," * 500,
    "%00=1",
    "filter=",
    "filter=%00",
    "sort=roles",
    "sort=metadata",
    "sort=agents",
    "sort=userIds",
    "sort=orgs.sourcedId",
    "sort=roles.role&orderBy=desc",
    "sort=dateLastModified&orderBy=DESC",
    "sort=sourcedId&sort=givenName",
    "limit=1&limit=2",
    "fields=roles,metadata,userIds,agents",
    "fields=sourcedId&fields=givenName",
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("query", HOSTILE_QUERIES, ids=range(len(HOSTILE_QUERIES)))
@pytest.mark.parametrize("path", ["/users", "/schools/org-s1/students", "/classes/k-alg1/students"])
def test_hostile_query_strings_are_refused_cleanly(
    hostile_provider: Provider, base: str, query: str, path: str
) -> None:
    check(fetch(hostile_provider, f"{base}{path}?{query}"), base)


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize(
    "query",
    [
        "offset=99999999999999999999999",
        "offset=9223372036854775808",
        "limit=99999999999999999999999",
        "limit=-1",
        "offset=-1",
        "limit=1e3",
    ],
)
@pytest.mark.parametrize("path", ["/users", "/schools/org-s1/students", "/terms", "/orgs"])
def test_paging_beyond_64_bits_or_negative_is_400(
    hostile_provider: Provider, base: str, query: str, path: str
) -> None:
    info = check(fetch(hostile_provider, f"{base}{path}?{query}"), base, 400)
    assert info is not None
    assert minor(info) == "invaliddata"


def test_the_largest_offset_is_an_empty_page(hostile_provider: Provider) -> None:
    resp = fetch(hostile_provider, f"{V12}/users?offset=9223372036854775807")
    assert resp.status_code == 200, resp.text
    assert resp.json()["users"] == []


# -- filters ----------------------------------------------------------------------------------


def chain(n: int, joiner: str) -> str:
    return f" {joiner} ".join(f"givenName='n{i}'" for i in range(n))


HOSTILE_FILTERS = [
    "givenName='\x00'",
    "givenName='a\x00b'",
    "givenName~'\x00'",
    "sourcedId='\x00'",
    "dateLastModified>'\x00'",
    "given\x00Name='x'",
    "roles.role='\x00'",
    chain(MAX_CLAUSES + 1, "AND"),
    chain(1000, "AND"),
    chain(1000, "OR"),
    "a='' AND " * 3000 + "a=''",
    "givenName='x' " + "AND " * 1000,
    "'" * 10001,
    "givenName='" + "x" * 20000 + "'",
    "givenName='\ud800'",
    "givenName='é' AND familyName~'😀'",
    "dateLastModified>'2026-13-45'",
    "dateLastModified>'0001-01-01T00:00:00+01:00'",
    "dateLastModified<'9999-12-31T23:59:59-01:00'",
    "dateLastModified>''",
    "dateLastModified>'yesterday'",
    "dateLastModified>'" + "9" * 400 + "'",
    "birthDate>'0000-00-00'",
    "enabledUser='maybe'",
    "a.b.c.d.e.f='x'",
    "orgs.sourcedId>'x'",
    ".='x'",
    "givenName=='x'",
    "givenName='x' OR",
    "AND AND AND",
    'givenName="x"',
    "givenName='x'" + ")" * 100,
    "(" * 1000,
    "metadata='x'",
    "metadata.foo='x'",
    "metadata~'x'",
    "roles.role~'x'",
    "roles.org.sourcedId>'x'",
    "userIds='x'",
    "userIds.identifier='x'",
    "agents.sourcedId='x'",
    "grades>'01'",
    "enabledUser>'true'",
    "dateLastModified~'2026'",
    "birthDate='2026-01-01'",
    "status='tobedeleted' OR status='active'",
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("text", HOSTILE_FILTERS, ids=range(len(HOSTILE_FILTERS)))
@pytest.mark.parametrize("path", ["/users", "/demographics", "/enrollments"])
def test_hostile_filters_are_refused_cleanly(
    hostile_provider: Provider, base: str, text: str, path: str
) -> None:
    url = f"{base}{path}?filter={quote(text, safe='', errors='surrogatepass')}"
    check(fetch(hostile_provider, url), base)


@pytest.mark.parametrize("base", BASES)
def test_a_nul_in_a_filter_value_is_400(hostile_provider: Provider, base: str) -> None:
    info = check(fetch(hostile_provider, f"{base}/users?filter=givenName%3D%27a%00%27"), base, 400)
    assert info is not None
    assert minor(info) == "invalid_filter_field"


@pytest.mark.parametrize("base", BASES)
def test_a_filter_past_the_clause_limit_is_400_naming_it(
    hostile_provider: Provider, base: str
) -> None:
    ok = hostile_provider.get(f"{base}/users", filter=chain(MAX_CLAUSES, "OR"))
    assert ok.status_code == 200, ok.text
    for joiner in ("AND", "OR"):
        resp = hostile_provider.get(f"{base}/users", filter=chain(MAX_CLAUSES * 10, joiner))
        info = check(resp, base, 400)
        assert info is not None
        assert str(MAX_CLAUSES) in info["imsx_description"]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize(
    "value", ["2026-13-45", "yesterday", "0001-01-01T00:00:00+01:00", "2026-01-01T25:00:00Z"]
)
def test_a_malformed_date_filter_is_400_naming_the_value(
    hostile_provider: Provider, base: str, value: str
) -> None:
    resp = hostile_provider.get(f"{base}/users", filter=f"dateLastModified>'{value}'")
    info = check(resp, base, 400)
    assert info is not None
    assert value in info["imsx_description"]


# -- Host headers (they become the base of every href and of OAuth 1.0a signatures) -----------

HOSTILE_HOSTS = [
    b"[::1",
    b"example.org:99999",
    b"example.org:-1",
    b"example.org:abc",
    b"\xff\xfe",
    b"caf\xe9.example",
    b"a" * 3000,
    b"user@evil:1@example.org",
    b"",
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("host", HOSTILE_HOSTS, ids=range(len(HOSTILE_HOSTS)))
def test_hostile_host_headers_never_fail_the_server(
    hostile_provider: Provider, base: str, host: bytes
) -> None:
    for path in (f"{base}/users", f"{base}/users/u-s1", f"{base}/nothing"):
        headers = {"Authorization": f"Bearer {hostile_provider.bearer('full')}", "Host": host}
        try:
            resp = hostile_provider.http.get(path, headers=headers)
        except httpx.LocalProtocolError:
            continue  # not sendable; the parser-level case is covered by the raw tests
        assert resp.status_code < 500, (resp.status_code, resp.text[:300])


@pytest.mark.parametrize("host", HOSTILE_HOSTS, ids=range(len(HOSTILE_HOSTS)))
def test_hostile_host_headers_with_oauth1_are_refused_cleanly(
    hostile_provider: Provider, host: bytes
) -> None:
    key = hostile_provider.clients["full"].client_id
    header = (
        f'OAuth oauth_consumer_key="{key}", oauth_nonce="n{len(host)}", '
        f'oauth_timestamp="{int(time.time())}", oauth_signature_method="HMAC-SHA256", '
        'oauth_signature="c2lnbmF0dXJl"'
    )
    try:
        resp = hostile_provider.http.get(
            f"{V11}/users", headers={"Authorization": header, "Host": host}
        )
    except httpx.LocalProtocolError:
        return
    check(resp, V11, 401)


# -- the token endpoint -----------------------------------------------------------------------


def _basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


HOSTILE_TOKEN_REQUESTS: list[tuple[dict[str, str], bytes, str]] = [
    ({"Authorization": _basic(b"\x00:\x00")}, b"grant_type=client_credentials", "form"),
    ({"Authorization": _basic(b"\xff\xfe:\xff")}, b"grant_type=client_credentials", "form"),
    ({"Authorization": _basic(b"or_x:" + b"s" * 5000)}, b"grant_type=client_credentials", "form"),
    ({"Authorization": _basic(b"nocolon")}, b"grant_type=client_credentials", "form"),
    ({"Authorization": "Basic !!!"}, b"grant_type=client_credentials", "form"),
    ({}, b"grant_type=client_credentials&client_id=%00&client_secret=%00", "form"),
    ({}, b"grant_type=client_credentials&client_id=%FF&client_secret=x", "form"),
    ({}, b"grant_type=%00&client_id=x&client_secret=y", "form"),
    ({}, b"\xff\xfe\x00=\x00", "form"),
    ({}, b"%%%%=&&&===", "form"),
    ({}, b'{"grant_type": "client_credentials"}', "json"),
    ({}, b'--b\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\n\x00', "multipart"),
    ({}, b"--b\r\nbroken", "multipart"),
]
CONTENT_TYPES = {
    "form": "application/x-www-form-urlencoded",
    "json": "application/json",
    "multipart": "multipart/form-data; boundary=b",
}


@pytest.mark.parametrize(
    ("headers", "body", "kind"), HOSTILE_TOKEN_REQUESTS, ids=range(len(HOSTILE_TOKEN_REQUESTS))
)
def test_hostile_token_requests_get_an_oauth_error(
    hostile_provider: Provider, headers: dict[str, str], body: bytes, kind: str
) -> None:
    resp = hostile_provider.http.post(
        "/oauth/token", content=body, headers={**headers, "Content-Type": CONTENT_TYPES[kind]}
    )
    assert resp.status_code in (400, 401), (resp.status_code, resp.text[:300])
    assert resp.json()["error"] in ("invalid_request", "invalid_client")


# -- methods ----------------------------------------------------------------------------------


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "FOO"])
@pytest.mark.parametrize("path", ["/users", "/users/u-s1", "/users/%00", "/nothing", ""])
def test_other_methods_are_refused_with_the_status_payload(
    hostile_provider: Provider, base: str, method: str, path: str
) -> None:
    headers = {"Authorization": f"Bearer {hostile_provider.bearer('full')}"}
    resp = hostile_provider.http.request(method, base + path, headers=headers, content=b"\x00" * 64)
    if resp.status_code == 400 and resp.text == PARSER_REFUSAL:
        return  # a method the HTTP parser does not know
    info = check(resp, base, 404, 405)
    assert info is not None
    if resp.status_code == 405:
        assert resp.headers["Allow"] == "GET"


@pytest.mark.parametrize("base", BASES)
def test_head_is_refused_without_a_5xx(hostile_provider: Provider, base: str) -> None:
    resp = hostile_provider.http.head(f"{base}/users")
    assert resp.status_code == 405
