"""Authentication and per-app sharing of the OneRoster provider over a real server: OAuth 2
client credentials and scopes, OAuth 1.0a (HMAC-SHA256) for 1.1, and what each app may see."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import quote

import pytest
from or_provider import SCOPE, V11, V12, Provider


def minor(resp: Any) -> str:
    body = resp.json()
    info = body if "imsx_codeMajor" in body else body["statusInfoSet"][0]
    return str(info["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"])


def ids(resp: Any, key: str) -> set[str]:
    assert resp.status_code == 200, resp.text
    return {o["sourcedId"] for o in resp.json()[key]}


# -- OAuth 2 ----------------------------------------------------------------------------------


def test_token_response_shape(provider: Provider) -> None:
    creds = provider.clients["full"]
    resp = provider.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": f"{SCOPE}roster-core.readonly"},
        auth=(creds.client_id, creds.secret),
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == f"{SCOPE}roster-core.readonly"
    assert resp.headers["Cache-Control"] == "no-store"


def test_token_with_wrong_secret_is_invalid_client(provider: Provider) -> None:
    creds = provider.clients["full"]
    resp = provider.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.secret + "x"),
    )
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_client"
    assert resp.headers["WWW-Authenticate"].startswith("Basic")


def test_token_without_credentials_or_with_wrong_grant(provider: Provider) -> None:
    resp = provider.http.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert resp.status_code == 401
    creds = provider.clients["full"]
    resp = provider.http.post(
        "/oauth/token", data={"grant_type": "password"}, auth=(creds.client_id, creds.secret)
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == "unsupported_grant_type"


def test_token_for_scopes_not_granted_is_invalid_scope(provider: Provider) -> None:
    creds = provider.clients["core"]
    resp = provider.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": f"{SCOPE}roster.readonly"},
        auth=(creds.client_id, creds.secret),
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_scope"


@pytest.mark.parametrize("base", [V12, V11])
def test_no_token_is_401_unauthorisedrequest(provider: Provider, base: str) -> None:
    resp = provider.http.get(f"{base}/users")
    assert resp.status_code == 401
    assert minor(resp) == "unauthorisedrequest"


@pytest.mark.parametrize("token", ["garbage", "abc.def", "a.b.c"])
def test_bad_token_is_401(provider: Provider, token: str) -> None:
    resp = provider.http.get(f"{V12}/users", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    assert minor(resp) == "unauthorisedrequest"


def test_tampered_token_is_401(provider: Provider) -> None:
    token = provider.bearer("core")
    _body, sig = token.split(".")
    forged = (
        base64.urlsafe_b64encode(b'{"cid":"x","scp":["roster.readonly"],"exp":99999999999}')
        .decode()
        .rstrip("=")
    )
    resp = provider.http.get(f"{V12}/users", headers={"Authorization": f"Bearer {forged}.{sig}"})
    assert resp.status_code == 401


def test_wrong_scope_is_403_forbidden(provider: Provider) -> None:
    # roster-core.readonly reaches base collections but not nested ones nor demographics
    assert provider.get(f"{V12}/classes", client="core").status_code == 200
    nested = provider.get(f"{V12}/classes/k-alg1/students", client="core")
    assert nested.status_code == 403
    assert minor(nested) == "forbidden"
    demo = provider.get(f"{V12}/demographics", client="core")
    assert demo.status_code == 403
    assert minor(demo) == "forbidden"


def test_token_scope_is_narrowed_to_what_was_requested(provider: Provider) -> None:
    token = provider.token("full", f"{SCOPE}roster-core.readonly")
    headers = {"Authorization": f"Bearer {token}"}
    assert provider.http.get(f"{V12}/users", headers=headers).status_code == 200
    assert provider.http.get(f"{V12}/demographics", headers=headers).status_code == 403


def test_another_districts_client_sees_nothing_of_ours(provider: Provider) -> None:
    assert ids(provider.get(f"{V12}/users", client="stranger"), "users") == set()
    assert provider.get(f"{V12}/users/u-s1", client="stranger").status_code == 404


# -- OAuth 1.0a (1.1) -------------------------------------------------------------------------


def _pct(value: str) -> str:
    return quote(value, safe="-._~")


def oauth1_header(
    method: str, url: str, query: dict[str, str], key: str, secret: str, **override: str
) -> str:
    """Sign a request per RFC 5849 with HMAC-SHA256 (written here, independent of the server)."""
    oauth = {
        "oauth_consumer_key": key,
        "oauth_nonce": secrets.token_hex(8),
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": str(int(time.time())),
        "oauth_version": "1.0",
    }
    oauth.update(override)
    pairs = sorted((_pct(k), _pct(v)) for k, v in {**query, **oauth}.items())
    params = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join((method, _pct(url), _pct(params)))
    digest = hmac.new(f"{_pct(secret)}&".encode(), base.encode(), hashlib.sha256).digest()
    oauth["oauth_signature"] = base64.b64encode(digest).decode()
    return "OAuth " + ", ".join(f'{k}="{_pct(v)}"' for k, v in oauth.items())


def test_oauth1_signed_request_is_served(provider: Provider) -> None:
    creds = provider.clients["full"]
    url = f"{provider.http.base_url}{V11}/users".replace("//ims", "/ims")
    query = {"limit": "2", "filter": "familyName~'smith'"}
    header = oauth1_header("GET", url, query, creds.client_id, creds.secret)
    resp = provider.http.get(f"{V11}/users", params=query, headers={"Authorization": header})
    assert resp.status_code == 200, resp.text
    assert resp.headers["X-Total-Count"] == "3"
    # the same signed request again is a replay
    again = provider.http.get(f"{V11}/users", params=query, headers={"Authorization": header})
    assert again.status_code == 401
    assert "nonce" in again.json()["statusInfoSet"][0]["imsx_description"]


@pytest.mark.parametrize(
    ("what", "override"),
    [
        ("bad secret", {}),
        ("stale", {"oauth_timestamp": str(int(time.time()) - 3600)}),
        ("method", {"oauth_signature_method": "PLAINTEXT"}),
    ],
)
def test_oauth1_bad_signatures_are_401(
    provider: Provider, what: str, override: dict[str, str]
) -> None:
    creds = provider.clients["full"]
    url = f"{provider.http.base_url}{V11}/orgs".replace("//ims", "/ims")
    secret = creds.secret + ("x" if what == "bad secret" else "")
    header = oauth1_header("GET", url, {}, creds.client_id, secret, **override)
    resp = provider.http.get(f"{V11}/orgs", headers={"Authorization": header})
    assert resp.status_code == 401
    assert minor(resp) == "unauthorisedrequest"


def test_oauth1_is_not_offered_on_1p2(provider: Provider) -> None:
    creds = provider.clients["full"]
    url = f"{provider.http.base_url}{V12}/orgs".replace("//ims", "/ims")
    header = oauth1_header("GET", url, {}, creds.client_id, creds.secret)
    assert provider.http.get(f"{V12}/orgs", headers={"Authorization": header}).status_code == 401


# -- sharing rules ----------------------------------------------------------------------------

CONTACT_AND_ADMIN = {"u-g1", "u-a1"}


@pytest.mark.parametrize("base", [V12, V11])
def test_app_without_contacts_gets_none_anywhere(provider: Provider, base: str) -> None:
    users = ids(provider.get(f"{base}/users", client="lms"), "users")
    assert users == {"u-s1", "u-s2", "u-s3", "u-t1", "u-t2"}
    for path in ("/users/u-g1", "/users/u-a1"):
        assert provider.get(base + path, client="lms").status_code == 404
    filtered = provider.get(f"{base}/users", client="lms", filter="familyName='Smith'")
    assert ids(filtered, "users") == {"u-s1"}
    # a student's agents do not name the contact
    student = provider.get(f"{base}/users/u-s1", client="lms").json()["user"]
    assert "agents" not in student
    for path in ("/schools/org-s1/students", "/classes/k-alg1/students", "/students"):
        assert not ids(provider.get(base + path, client="lms"), "users") & CONTACT_AND_ADMIN


def test_app_without_demographics_is_forbidden_there(provider: Provider) -> None:
    resp = provider.get(f"{V12}/demographics", client="lms")
    assert resp.status_code == 403
    assert provider.get(f"{V12}/demographics/u-s1", client="lms").status_code == 403


def test_withheld_fields_are_absent_and_not_filterable(provider: Provider) -> None:
    user = provider.get(f"{V12}/users/u-s1", client="lms").json()["user"]
    assert "email" not in user
    assert "identifier" not in user
    assert user["givenName"] == "Ann"
    assert user["grades"] == ["09"]
    bad = provider.get(f"{V12}/users", client="lms", filter="email~'x.org'")
    assert bad.status_code == 400
    assert minor(bad) == "invalid_filter_field"
    assert provider.get(f"{V12}/users", client="lms", fields="email").status_code == 400
    assert provider.get(f"{V12}/users", client="lms", sort="email").status_code == 400


def test_school_limited_app_sees_only_its_school(provider: Provider) -> None:
    assert ids(provider.get(f"{V12}/orgs", client="north"), "orgs") == {"org-d1", "org-s1"}
    assert ids(provider.get(f"{V12}/classes", client="north"), "classes") == {"k-alg1", "k-bio1"}
    assert ids(provider.get(f"{V12}/courses", client="north"), "courses") == {"c-alg", "c-bio"}
    assert ids(provider.get(f"{V12}/users", client="north"), "users") == {
        "u-s1",
        "u-s2",
        "u-t1",
        "u-g1",
    }
    assert ids(provider.get(f"{V12}/enrollments", client="north"), "enrollments") == {
        "e-1",
        "e-2",
        "e-3",
        "e-4",
    }
    assert ids(provider.get(f"{V12}/demographics", client="north"), "demographics") == {
        "u-s1",
        "u-s2",
    }
    assert ids(provider.get(f"{V12}/academicSessions", client="north"), "academicSessions") == {
        "as-y26",
        "as-t1",
        "as-gp1",
    }
    for path in ("/schools/org-s2", "/schools/org-s2/classes", "/classes/k-art1/students"):
        assert provider.get(V12 + path, client="north").status_code == 404, path
    assert ids(provider.get(f"{V12}/teachers/u-t1/classes", client="north"), "classes") == {
        "k-alg1"
    }
