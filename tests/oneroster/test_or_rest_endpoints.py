"""Every rostering endpoint of OneRoster 1.1 and 1.2 over a real server: envelopes, GUID refs,
field names per version, required fields, and what each nested endpoint selects."""

from __future__ import annotations

import re
from typing import Any

import pytest
from or_provider import V11, V12, Provider

from rostersync.export.oneroster.api import ENDPOINTS
from rostersync.export.oneroster.catalog import RESOURCES

IDS = {"id": None, "cid": None, "sid": "org-s1", "uid": None, "tid": "as-t1"}
#: A sourcedId that exists for each single-object path.
SINGLE_IDS = {
    "/academicSessions/{id}": "as-y26",
    "/terms/{id}": "as-t1",
    "/gradingPeriods/{id}": "as-gp1",
    "/classes/{id}": "k-alg1",
    "/courses/{id}": "c-alg",
    "/demographics/{id}": "u-s1",
    "/enrollments/{id}": "e-1",
    "/orgs/{id}": "org-d1",
    "/schools/{id}": "org-s1",
    "/users/{id}": "u-g1",
    "/students/{id}": "u-s1",
    "/teachers/{id}": "u-t1",
}
#: What each collection returns for the full client (sourcedIds).
EXPECTED = {
    "/academicSessions": {"as-y26", "as-t1", "as-t2", "as-gp1"},
    "/terms": {"as-y26", "as-t1", "as-t2"},  # every session a class can be scheduled in
    "/gradingPeriods": {"as-gp1"},
    "/classes": {"k-alg1", "k-bio1", "k-art1"},
    "/courses": {"c-alg", "c-bio", "c-art"},
    "/demographics": {"u-s1", "u-s2", "u-s3"},
    "/enrollments": {"e-1", "e-2", "e-3", "e-4", "e-5", "e-6"},
    "/orgs": {"org-d1", "org-s1", "org-s2"},
    "/schools": {"org-s1", "org-s2"},
    "/users": {"u-s1", "u-s2", "u-s3", "u-t1", "u-t2", "u-g1", "u-a1"},
    "/students": {"u-s1", "u-s2", "u-s3"},
    "/teachers": {"u-t1", "u-t2"},
    "/classes/{cid}/students": {"u-s1", "u-s2"},
    "/classes/{cid}/teachers": {"u-t1"},
    "/courses/{cid}/classes": {"k-alg1"},
    "/schools/{sid}/classes": {"k-alg1", "k-bio1"},
    "/schools/{sid}/courses": {"c-alg", "c-bio"},
    "/schools/{sid}/enrollments": {"e-1", "e-2", "e-3", "e-4"},
    "/schools/{sid}/students": {"u-s1", "u-s2"},
    "/schools/{sid}/teachers": {"u-t1"},
    "/schools/{sid}/terms": {"as-y26", "as-t1"},
    "/schools/{sid}/classes/{cid}/enrollments": {"e-1", "e-2", "e-4"},
    "/schools/{sid}/classes/{cid}/students": {"u-s1", "u-s2"},
    "/schools/{sid}/classes/{cid}/teachers": {"u-t1"},
    "/students/{uid}/classes": {"k-alg1", "k-bio1"},
    "/teachers/{uid}/classes": {"k-alg1"},
    "/users/{uid}/classes": {"k-alg1", "k-bio1"},
    "/terms/{tid}/classes": {"k-alg1", "k-bio1"},
    "/terms/{tid}/gradingPeriods": {"as-gp1"},
}
PARAMS = {
    "/classes/{cid}": "k-alg1",
    "/courses/{cid}": "c-alg",
    "/students/{uid}": "u-s1",
    "/teachers/{uid}": "u-t1",
    "/users/{uid}": "u-s1",
}
ALLOWED_REF_TYPES = {"org", "academicSession", "course", "class", "user"}


def fill(path: str) -> str:
    out = path
    for prefix, value in PARAMS.items():
        if out.startswith(prefix):
            out = value.join(out.split(prefix.rsplit("/", 1)[1], 1))
    for name, value in (("sid", "org-s1"), ("cid", "k-alg1"), ("tid", "as-t1")):
        out = out.replace("{" + name + "}", value)
    return out


def check_refs(value: Any, base: str) -> None:
    """Every GUIDRef has exactly href, sourcedId and type, and the href points into ``base``."""
    if isinstance(value, dict):
        if "href" in value:
            assert set(value) == {"href", "sourcedId", "type"}, value
            assert value["type"] in ALLOWED_REF_TYPES
            assert value["href"].startswith("http://127.0.0.1:")
            assert base in value["href"]
            assert value["href"].endswith("/" + value["sourcedId"])
        for v in value.values():
            check_refs(v, base)
    elif isinstance(value, list):
        for v in value:
            check_refs(v, base)


def check_object(obj: dict[str, Any], entity: str, version: str, base: str) -> None:
    resource = RESOURCES[version][entity]  # type: ignore[index]
    extra = set(obj) - set(resource.field_names)
    assert not extra, f"unexpected top-level fields {extra}"
    missing = [f.name for f in resource.fields if f.required and f.name not in obj]
    assert not missing, f"required fields missing: {missing}"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", obj["dateLastModified"])
    assert obj["status"] in ("active", "tobedeleted")
    check_refs(obj, base)
    if "metadata" in obj:
        assert isinstance(obj["metadata"], dict)


COLLECTIONS = [e for e in ENDPOINTS if not e.single]
SINGLES = [e for e in ENDPOINTS if e.single]


def test_every_endpoint_is_listed() -> None:
    assert {e.path for e in COLLECTIONS} == set(EXPECTED)
    assert {e.path for e in SINGLES} == set(SINGLE_IDS)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("endpoint", COLLECTIONS, ids=lambda e: e.path)
def test_collection(provider: Provider, version: str, endpoint: Any) -> None:
    base = V12 if version == "1.2" else V11
    resp = provider.get(base + fill(endpoint.path))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    key = RESOURCES[version][endpoint.entity].collection_key  # type: ignore[index]
    assert list(body) == [key]
    got = {o["sourcedId"] for o in body[key]}
    assert got == EXPECTED[endpoint.path]
    assert resp.headers["X-Total-Count"] == str(len(got))
    for obj in body[key]:
        check_object(obj, endpoint.entity, version, base)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("endpoint", SINGLES, ids=lambda e: e.path)
def test_single(provider: Provider, version: str, endpoint: Any) -> None:
    base = V12 if version == "1.2" else V11
    sourced_id = SINGLE_IDS[endpoint.path]
    resp = provider.get(base + endpoint.path.replace("{id}", sourced_id))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    key = RESOURCES[version][endpoint.entity].single_key  # type: ignore[index]
    assert list(body) == [key]
    assert body[key]["sourcedId"] == sourced_id
    check_object(body[key], endpoint.entity, version, base)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("endpoint", SINGLES, ids=lambda e: e.path)
def test_single_unknown_id_is_404_unknownobject(
    provider: Provider, version: str, endpoint: Any
) -> None:
    base = V12 if version == "1.2" else V11
    resp = provider.get(base + endpoint.path.replace("{id}", "no-such-id"))
    assert resp.status_code == 404
    info = resp.json() if version == "1.2" else resp.json()["statusInfoSet"][0]
    assert info["imsx_codeMajor"] == "failure"
    field = info["imsx_CodeMinor"]["imsx_codeMinorField"][0]
    assert field["imsx_codeMinorFieldValue"] == "unknownobject"


def test_typed_single_refuses_other_types(provider: Provider) -> None:
    assert provider.get(f"{V12}/students/u-t1").status_code == 404
    assert provider.get(f"{V12}/schools/org-d1").status_code == 404
    assert provider.get(f"{V12}/terms/as-gp1").status_code == 404


def test_nested_with_unknown_parent_is_404(provider: Provider) -> None:
    for path in ("/classes/nope/students", "/schools/org-d1/classes", "/terms/as-gp1/classes"):
        resp = provider.get(V12 + path)
        assert resp.status_code == 404, path


def test_user_shapes_per_version(provider: Provider) -> None:
    u12 = provider.get(f"{V12}/users/u-t1").json()["user"]
    assert "role" not in u12
    assert "orgs" not in u12
    assert u12["roles"] == [
        {
            "roleType": "primary",
            "role": "teacher",
            "org": u12["primaryOrg"],
        },
        {
            "roleType": "secondary",
            "role": "teacher",
            "org": {
                **u12["primaryOrg"],
                "sourcedId": "org-s2",
                "href": u12["primaryOrg"]["href"][:-6] + "org-s2",
            },
        },
    ]
    assert u12["userIds"] == [
        {"type": "LDAP", "identifier": "tess"},
        {"type": "LTI", "identifier": "t-1"},
    ]
    assert u12["enabledUser"] == "true"
    u11 = provider.get(f"{V11}/users/u-t1").json()["user"]
    assert u11["role"] == "teacher"
    assert [o["sourcedId"] for o in u11["orgs"]] == ["org-s1", "org-s2"]
    assert "roles" not in u11
    assert "preferredFirstName" not in provider.get(f"{V11}/users/u-s1").json()["user"]
    s12 = provider.get(f"{V12}/users/u-s1").json()["user"]
    assert s12["preferredFirstName"] == "Annie"
    assert s12["metadata"] == {"lunch": "free"}
    assert "source" not in s12
    assert "sourceId" not in s12


def test_class_and_enrollment_shapes(provider: Provider) -> None:
    klass = provider.get(f"{V12}/classes/k-bio1").json()["class"]
    assert [t["sourcedId"] for t in klass["terms"]] == ["as-t1", "as-t2"]
    assert {t["type"] for t in klass["terms"]} == {"academicSession"}
    assert klass["course"]["type"] == "course"
    assert klass["school"] == {
        "href": klass["school"]["href"],
        "sourcedId": "org-s1",
        "type": "org",
    }
    assert klass["periods"] == ["2", "3"]
    enrollment = provider.get(f"{V12}/enrollments/e-4").json()["enrollment"]
    assert enrollment["primary"] == "true"
    assert enrollment["beginDate"] == "2025-08-20"
    assert "teacherRole" not in enrollment
    demo = provider.get(f"{V12}/demographics/u-s1").json()["demographics"]
    assert demo["white"] == "true"
    assert demo["asian"] == "false"
    assert demo["birthDate"] == "2010-03-04"
    session = provider.get(f"{V12}/academicSessions/as-t1").json()["academicSession"]
    assert session["schoolYear"] == "2026"
    assert session["parent"]["sourcedId"] == "as-y26"
    assert "orgSourcedId" not in session
