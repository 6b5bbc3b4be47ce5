"""Protocol edges of the OneRoster provider over a real server: trailing slashes, unknown paths
and wrong methods answered with the status payload, token errors per RFC 6749 §5.2, and the
nested endpoints that follow links (courses taught at a school, a term's grading periods)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import polars as pl
import pytest
from or_provider import SCOPE, V11, V12, Provider, start_provider
from or_sample_roster import T0, small_roster
from test_or_rest_auth import minor, oauth1_header
from test_or_rest_endpoints import EXPECTED, SINGLE_IDS, fill

from rostersync.export.oneroster.api import ENDPOINTS
from rostersync.model import conform

BASES = [V12, V11]


def info_of(resp: httpx.Response, base: str) -> dict[str, Any]:
    body = resp.json()
    return dict(body if base == V12 else body["statusInfoSet"][0])


# -- trailing slashes -------------------------------------------------------------------------


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("path", [e.path for e in ENDPOINTS], ids=[e.path for e in ENDPOINTS])
def test_a_trailing_slash_is_served_like_the_path(provider: Provider, base: str, path: str) -> None:
    url = base + (path.replace("{id}", SINGLE_IDS[path]) if path in SINGLE_IDS else fill(path))
    plain = provider.get(url)
    slashed = provider.get(url + "/")
    assert plain.status_code == 200, plain.text
    assert slashed.status_code == 200, (url, slashed.text)
    assert slashed.json() == plain.json()


def test_an_oauth1_signed_request_with_a_trailing_slash_is_served(provider: Provider) -> None:
    creds = provider.clients["full"]
    url = f"{str(provider.http.base_url).rstrip('/')}{V11}/orgs/"
    header = oauth1_header("GET", url, {}, creds.client_id, creds.secret)
    resp = provider.http.get(f"{V11}/orgs/", headers={"Authorization": header})
    assert resp.status_code == 200, resp.text
    assert {o["sourcedId"] for o in resp.json()["orgs"]} == EXPECTED["/orgs"]


# -- unknown paths and wrong methods ----------------------------------------------------------


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("path", ["", "/", "/nothing", "/users/u-s1/nothing", "/oauth/token"])
def test_unknown_paths_under_the_bases_are_404_with_the_status_payload(
    provider: Provider, base: str, path: str
) -> None:
    resp = provider.get(base + path)
    assert resp.status_code == 404, resp.text
    assert "detail" not in resp.json()
    assert minor(resp) == "unknownobject"
    assert base + path in info_of(resp, base)["imsx_description"]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/users", "/users/u-s1", "/schools/org-s1/classes/"])
def test_a_wrong_method_is_405_with_the_status_payload(
    provider: Provider, base: str, method: str, path: str
) -> None:
    headers = {"Authorization": f"Bearer {provider.bearer('full')}"}
    resp = provider.http.request(method, base + path, headers=headers, json={"user": {}})
    assert resp.status_code == 405, resp.text
    assert resp.headers["Allow"] == "GET"
    info = info_of(resp, base)
    assert info["imsx_codeMajor"] == "unsupported"
    assert method in info["imsx_description"]


def test_a_wrong_method_on_an_unknown_path_is_404(provider: Provider) -> None:
    resp = provider.http.post(f"{V12}/nothing/here")
    assert resp.status_code == 404
    assert minor(resp) == "unknownobject"


def test_paths_outside_the_bases_keep_the_usual_answer(provider: Provider) -> None:
    resp = provider.http.get("/ims/elsewhere")
    assert resp.status_code == 404
    assert resp.json() == {"detail": "Not Found"}


# -- token endpoint (RFC 6749 §5.2) -----------------------------------------------------------


def token(provider: Provider, client: str = "full", **data: Any) -> httpx.Response:
    creds = provider.clients[client]
    return provider.http.post("/oauth/token", data=data, auth=(creds.client_id, creds.secret))


def test_a_token_request_without_grant_type_is_invalid_request(provider: Provider) -> None:
    resp = token(provider)
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_request"
    assert "grant_type" in resp.json()["error_description"]
    assert resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("grant", ["password", "authorization_code", "refresh_token", "x"])
def test_another_grant_type_is_unsupported_grant_type(provider: Provider, grant: str) -> None:
    resp = token(provider, grant_type=grant)
    assert resp.status_code == 400
    assert resp.json()["error"] == "unsupported_grant_type"


def test_a_repeated_parameter_is_invalid_request(provider: Provider) -> None:
    creds = provider.clients["full"]
    resp = provider.http.post(
        "/oauth/token",
        content="grant_type=client_credentials&grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=(creds.client_id, creds.secret),
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_request"


def test_a_malformed_body_is_invalid_request(provider: Provider) -> None:
    creds = provider.clients["full"]
    resp = provider.http.post(
        "/oauth/token",
        content=b"--x\r\nContent-Disposition: form-data\r\n\r\n\xff",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
        auth=(creds.client_id, creds.secret),
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"] == "invalid_request"


def test_the_granted_scope_is_returned_when_narrower_than_asked(provider: Provider) -> None:
    asked = f"{SCOPE}roster-core.readonly {SCOPE}roster.readonly {SCOPE}gradebook.readonly"
    resp = token(provider, "core", grant_type="client_credentials", scope=asked)
    assert resp.status_code == 200, resp.text
    assert resp.json()["scope"] == f"{SCOPE}roster-core.readonly"


def test_nothing_grantable_is_invalid_scope(provider: Provider) -> None:
    resp = token(
        provider, "core", grant_type="client_credentials", scope=f"{SCOPE}gradebook.readonly"
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_scope"
    assert "roster-core.readonly" in resp.json()["error_description"]


# -- nested endpoints that follow links -------------------------------------------------------


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """The small roster with a district-wide course taught at a school, and more sessions."""
    roster = small_roster()
    roster["courses"] = roster["courses"].with_columns(
        pl.when(pl.col("sourcedId") == "c-art")
        .then(pl.lit("org-d1"))
        .otherwise(pl.col("orgSourcedId"))
        .alias("orgSourcedId")
    )
    extra = conform(
        "academicSessions",
        pl.DataFrame(
            {
                "sourcedId": ["as-gp2", "as-gp3", "as-t1a"],
                "status": ["active"] * 3,
                "dateLastModified": [T0] * 3,
                "source": ["sis"] * 3,
                "sourceId": ["gp2", "gp3", "t1a"],
                "title": ["Q2", "Q3", "Fall A"],
                "type": ["gradingPeriod", "gradingPeriod", "term"],
                "startDate": [T0.date()] * 3,
                "endDate": [T0.date()] * 3,
                "parentSourcedId": ["as-t1", "as-t2", "as-t1"],
                "schoolYear": ["2026"] * 3,
                "orgSourcedId": ["org-s1", "org-s2", "org-s1"],
            }
        ),
    )
    roster["academicSessions"] = pl.concat([roster["academicSessions"], extra])
    yield from start_provider(tmp_path_factory.mktemp("linked") / "var", roster=roster)


def ids(resp: httpx.Response, key: str) -> set[str]:
    assert resp.status_code == 200, resp.text
    return {o["sourcedId"] for o in resp.json()[key]}


@pytest.mark.parametrize("base", BASES)
def test_a_schools_courses_include_courses_taught_there(linked: Provider, base: str) -> None:
    assert ids(linked.get(f"{base}/schools/org-s2/courses"), "courses") == {"c-art"}
    assert ids(linked.get(f"{base}/schools/org-s1/courses"), "courses") == {"c-alg", "c-bio"}
    filtered = linked.get(f"{base}/schools/org-s2/courses", filter="title~'art'")
    assert ids(filtered, "courses") <= {"c-art"}


def test_a_school_limited_app_sees_only_its_schools_courses(linked: Provider) -> None:
    assert ids(linked.get(f"{V12}/schools/org-s1/courses", client="north"), "courses") == {
        "c-alg",
        "c-bio",
    }
    assert linked.get(f"{V12}/schools/org-s2/courses", client="north").status_code == 404


@pytest.mark.parametrize("base", BASES)
def test_a_terms_grading_periods_are_those_whose_parent_it_is(linked: Provider, base: str) -> None:
    got = linked.get(f"{base}/terms/as-t1/gradingPeriods")
    assert ids(got, "academicSessions") == {"as-gp1", "as-gp2"}
    assert all(s["type"] == "gradingPeriod" for s in got.json()["academicSessions"])
    assert ids(linked.get(f"{base}/terms/as-t2/gradingPeriods"), "academicSessions") == {"as-gp3"}
    missing = linked.get(f"{base}/terms/as-gp1/gradingPeriods")  # not a term
    assert missing.status_code == 404
