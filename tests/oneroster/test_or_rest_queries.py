"""Query parameters of the OneRoster provider over a real server: paging headers, each filter
operator, sort, fields, and the spec's error bodies."""

from __future__ import annotations

import re
from typing import Any

import pytest
from or_provider import V11, V12, Provider


def ids(resp: Any, key: str = "users") -> list[str]:
    assert resp.status_code == 200, resp.text
    return [o["sourcedId"] for o in resp.json()[key]]


def links(resp: Any) -> dict[str, str]:
    out = {}
    for part in resp.headers["Link"].split(", "):
        url, rel = re.match(r'<([^>]+)>; rel="(\w+)"', part).groups()  # type: ignore[union-attr]
        out[rel] = url
    return out


def code_minor(resp: Any, version: str = "1.2") -> str:
    body = resp.json()
    info = body if version == "1.2" else body["statusInfoSet"][0]
    assert set(info) == {"imsx_codeMajor", "imsx_severity", "imsx_description", "imsx_CodeMinor"}
    assert info["imsx_codeMajor"] == "failure"
    assert info["imsx_severity"] == "error"
    field = info["imsx_CodeMinor"]["imsx_codeMinorField"][0]
    assert field["imsx_codeMinorFieldName"] == "TargetEndSystem"
    return str(field["imsx_codeMinorFieldValue"])


def test_paging_walks_every_row_once_with_link_headers(provider: Provider) -> None:
    first = provider.get(f"{V12}/users", limit="3")
    assert first.headers["X-Total-Count"] == "7"
    assert ids(first) == ["u-a1", "u-g1", "u-s1"]
    rel = links(first)
    assert set(rel) == {"first", "next", "last"}
    assert "offset=3" in rel["next"]
    assert "offset=6" in rel["last"]
    seen = ids(first)
    url = rel["next"]
    while True:
        resp = provider.http.get(
            url, headers={"Authorization": f"Bearer {provider.bearer('full')}"}
        )
        seen += ids(resp)
        rel = links(resp)
        assert "prev" in rel
        if "next" not in rel:
            break
        url = rel["next"]
    assert seen == sorted(seen)
    assert len(seen) == 7 == len(set(seen))


def test_link_keeps_filter_and_sort(provider: Provider) -> None:
    resp = provider.get(f"{V12}/users", limit="1", filter="familyName~'smith'", sort="givenName")
    assert resp.headers["X-Total-Count"] == "3"
    nxt = links(resp)["next"]
    assert "filter=familyName" in nxt
    assert "sort=givenName" in nxt


def test_offset_past_the_end_is_empty(provider: Provider) -> None:
    resp = provider.get(f"{V12}/users", offset="100")
    assert ids(resp) == []
    assert resp.headers["X-Total-Count"] == "7"


@pytest.mark.parametrize(
    ("params", "minor"),
    [
        ({"limit": "0"}, "invaliddata"),
        ({"limit": "x"}, "invaliddata"),
        ({"offset": "-1"}, "invaliddata"),
        ({"orderBy": "sideways"}, "invaliddata"),
        ({"filter": "familyName='Smith"}, "invalid_filter_field"),
        ({"filter": "nosuch='x'"}, "invalid_filter_field"),
        ({"filter": "roles='x'"}, "invalid_filter_field"),
        ({"filter": "dateLastModified>'soon'"}, "invalid_filter_field"),
        ({"fields": "sourcedId,nosuch"}, "invalid_selection_field"),
        ({"fields": "role"}, "invalid_selection_field"),  # 1.1 name, not in 1.2
        ({"sort": "nosuch"}, "invalid_sort_field"),
        ({"sort": "grades"}, "invalid_sort_field"),
    ],
)
def test_bad_parameters_get_400_and_the_spec_body(
    provider: Provider, params: dict[str, str], minor: str
) -> None:
    resp = provider.get(f"{V12}/users", **params)
    assert resp.status_code == 400
    assert code_minor(resp) == minor


def test_errors_of_1p1_are_wrapped_in_status_info_set(provider: Provider) -> None:
    resp = provider.get(f"{V11}/users", filter="bad")
    assert resp.status_code == 400
    assert code_minor(resp, "1.1") == "invalid_filter_field"


def test_single_object_accepts_only_fields(provider: Provider) -> None:
    assert provider.get(f"{V12}/users/u-s1", limit="5").status_code == 400
    resp = provider.get(f"{V12}/users/u-s1", fields="sourcedId,givenName")
    assert resp.json() == {"user": {"sourcedId": "u-s1", "givenName": "Ann"}}


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("familyName='Smith'", ["u-g1", "u-s1"]),
        ("familyName!='Smith'", ["u-a1", "u-s2", "u-s3", "u-t1", "u-t2"]),
        ("familyName~'SMITH'", ["u-g1", "u-s1", "u-s3"]),
        ("familyName='O''Brien'", ["u-s2"]),
        ("givenName>'Gail'", ["u-t1", "u-t2"]),
        ("givenName>='Gail'", ["u-g1", "u-t1", "u-t2"]),
        ("givenName<'Bob'", ["u-a1", "u-s1"]),
        ("givenName<='Bob'", ["u-a1", "u-s1", "u-s2"]),
        ("enabledUser='false'", ["u-g1", "u-s3"]),
        ("grades='09'", ["u-s1"]),
        (
            "dateLastModified>'2025-01-01T00:00:00Z'",
            ["u-a1", "u-g1", "u-s1", "u-s2", "u-s3", "u-t1", "u-t2"],
        ),
        ("dateLastModified>'2999-01-01T00:00:00Z'", []),  # the store stamps publish times
        ("status='active' AND familyName='Smith'", ["u-g1", "u-s1"]),
        ("givenName='Ann' OR givenName='Tom'", ["u-s1", "u-t2"]),
        ("roles.role='teacher'", ["u-t1", "u-t2"]),
        ("primaryOrg.sourcedId='org-s2'", ["u-s3"]),
        ("agents.sourcedId='u-g1'", ["u-s1"]),
    ],
)
def test_filters_1p2_users(provider: Provider, flt: str, expected: list[str]) -> None:
    assert ids(provider.get(f"{V12}/users", filter=flt)) == expected


@pytest.mark.parametrize(
    ("path", "flt", "key", "expected"),
    [
        ("/classes", "school.sourcedId='org-s2'", "classes", ["k-art1"]),
        ("/classes", "terms.sourcedId='as-t2'", "classes", ["k-art1", "k-bio1"]),
        ("/classes", "title~'lab'", "classes", ["k-bio1"]),
        ("/academicSessions", "startDate>='2026-01-01'", "academicSessions", ["as-t2"]),
        ("/academicSessions", "type='term'", "academicSessions", ["as-t1", "as-t2"]),
        ("/enrollments", "primary='true'", "enrollments", ["e-4"]),
        ("/orgs", "parent.sourcedId='org-d1'", "orgs", ["org-s1", "org-s2"]),
        ("/users", "role='guardian'", "users", ["u-g1"]),
        ("/users", "orgs.sourcedId='org-s2'", "users", ["u-s3", "u-t1", "u-t2"]),
    ],
)
def test_filters_other_entities(
    provider: Provider, path: str, flt: str, key: str, expected: list[str]
) -> None:
    base = V11 if "role=" in flt or "orgs." in flt else V12
    assert ids(provider.get(base + path, filter=flt), key) == expected


def test_filter_is_never_sql(provider: Provider) -> None:
    resp = provider.get(f"{V12}/users", filter="familyName='x'' OR ''1''=''1'")
    assert ids(resp) == []


def test_sort_and_order(provider: Provider) -> None:
    asc = ids(provider.get(f"{V12}/users", sort="givenName"))
    assert asc == ["u-a1", "u-s1", "u-s2", "u-s3", "u-g1", "u-t1", "u-t2"]
    desc = ids(provider.get(f"{V12}/users", sort="givenName", orderBy="desc"))
    assert desc == list(reversed(asc))
    by_date = ids(
        provider.get(f"{V12}/academicSessions", sort="startDate", orderBy="desc"),
        "academicSessions",
    )
    assert by_date[0] == "as-t2"


def test_fields_projection(provider: Provider) -> None:
    resp = provider.get(f"{V12}/classes", fields="sourcedId,title,school")
    for obj in resp.json()["classes"]:
        assert set(obj) == {"sourcedId", "title", "school"}
    v11 = provider.get(f"{V11}/users", fields="role,orgs", limit="1").json()["users"][0]
    assert set(v11) == {"role", "orgs"}


@pytest.mark.parametrize(("base", "version"), [(V12, "1.2"), (V11, "1.1")])
def test_unknown_endpoint_gets_the_spec_body(provider: Provider, base: str, version: str) -> None:
    resp = provider.get(f"{base}/pets")
    assert resp.status_code == 404
    assert code_minor(resp, version) == "unknownobject"
