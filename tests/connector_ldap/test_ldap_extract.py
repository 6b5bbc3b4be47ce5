"""What the LDAP connector reads from a real directory: people, roles, groups, schools."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import polars as pl
import pytest

from connector_ldap.conftest import Directory
from connector_ldap.district import (
    DISABLED_STUDENT,
    GROUPS,
    PRINCIPALS,
    ROBOTICS,
    STAFF_PEOPLE,
    STUDENT_COUNT,
    guid,
    student,
)
from connector_ldap.ldap_helpers import ldap_source
from connector_ldap.slapd import READER_PASSWORD, SUFFIX
from rostersync.connectors.base import Extraction, ProgressEvent
from rostersync.connectors.ldap import LdapConnector
from rostersync.connectors.ldap.mapping import group_name
from rostersync.model import ENTITIES


def extract(url: str, scope: list[str] | None = None, **connector: Any) -> Extraction:
    config = ldap_source(url, **connector)

    async def run() -> Extraction:
        ldap, client = LdapConnector.from_source(config, READER_PASSWORD)
        try:
            return await ldap.extract(scope)
        finally:
            await client.aclose()

    return asyncio.run(run())


def people(result: Extraction) -> dict[str, dict[str, Any]]:
    """Users by username, metadata parsed."""
    rows = result.roster["users"].iter_rows(named=True)
    return {r["username"]: {**r, "metadata": json.loads(r["metadata"])} for r in rows}


def test_students_and_staff_are_mapped_from_their_ad_attributes(directory: Directory) -> None:
    result = extract(directory.url)
    users = people(result)
    assert len(users) == STUDENT_COUNT + len(STAFF_PEOPLE)
    s2 = users["s0002"]
    written = student(2)
    assert s2["sourcedId"] == str(uuid.UUID(bytes_le=guid("student2")))  # objectGUID, as AD shows
    assert s2["sourceId"] == s2["sourcedId"]
    assert (s2["givenName"], s2["familyName"]) == (written["givenName"], written["sn"])
    assert s2["givenName"] == "Chloé"  # UTF-8 kept
    assert s2["email"] == written["mail"]
    assert s2["identifier"] == written["employeeID"]
    assert s2["grades"] == [written["departmentNumber"]]
    assert s2["role"] == "student"
    assert s2["orgSourcedIds"] == ["102"]
    assert s2["primaryOrgSourcedId"] == "102"
    assert s2["source"] == "directory"
    assert s2["status"] == "active"
    assert "LAB-PC-01$" not in users  # a computer account is no one (AD's default filter)
    teacher = users["mlopez"]
    assert teacher["role"] == "teacher"
    assert teacher["phone"].startswith("+1 555")
    assert teacher["identifier"] == "TT1"


def test_disabled_accounts_and_roles_by_group(directory: Directory) -> None:
    users = people(extract(directory.url))
    enabled = {u: r["enabledUser"] for u, r in users.items()}
    assert enabled[f"s{DISABLED_STUDENT:04d}"] is False
    assert sum(1 for v in enabled.values() if not v) == 1
    principal = next(r for r in users.values() if r["identifier"] == f"T{PRINCIPALS[0].upper()}")
    assert principal["role"] == "administrator"
    assert principal["metadata"]["groups"] == ["Principals"]
    roles = sorted(r["role"] for r in users.values() if r["role"] != "student")
    assert roles == ["administrator"] + ["teacher"] * (len(STAFF_PEOPLE) - 1)


def test_groups_are_a_sorted_list_in_metadata(directory: Directory) -> None:
    users = people(extract(directory.url))
    members = sorted(u for u, r in users.items() if "Robotics Club" in r["metadata"]["groups"])
    assert members == [f"s{i:04d}" for i in ROBOTICS]
    assert users["s0001"]["metadata"]["groups"] == []
    assert users["mlopez"]["metadata"]["groups"] == ["Teachers"]


def test_group_search_reads_member_lists_when_there_is_no_member_of(
    directory: Directory,
) -> None:
    by_member_of = people(extract(directory.url))
    by_search = people(
        extract(directory.url, groups={"membership": "group_search", "base_dn": GROUPS})
    )
    assert {u: r["metadata"]["groups"] for u, r in by_search.items()} == {
        u: r["metadata"]["groups"] for u, r in by_member_of.items()
    }


def test_orgs_are_the_district_and_the_schools_people_belong_to(directory: Directory) -> None:
    result = extract(directory.url)
    orgs = {r["sourcedId"]: r for r in result.roster["orgs"].iter_rows(named=True)}
    assert set(orgs) == {"district", "101", "102"}
    assert orgs["district"]["type"] == "district"
    assert orgs["district"]["name"] == "Springfield Public Schools"
    assert orgs["101"]["name"] == "Springfield Elementary"
    assert orgs["102"]["parentSourcedId"] == "district"
    for name in ("courses", "classes", "enrollments", "academicSessions", "demographics"):
        assert result.roster[name].height == 0
        assert result.roster[name].schema == ENTITIES[name].schema


def test_schools_mapping_scopes_people_and_names_unknown_schools(directory: Directory) -> None:
    result = extract(directory.url, ["101"])
    users = result.roster["users"]
    assert users.height == STUDENT_COUNT // 2 + sum(1 for p in STAFF_PEOPLE if p[3] == "101")
    assert users["primaryOrgSourcedId"].unique().to_list() == ["101"]
    assert sorted(result.roster["orgs"]["sourcedId"].to_list()) == ["101", "district"]
    from rostersync.errors import SourceDataError

    with pytest.raises(SourceDataError) as caught:
        extract(directory.url, ["101", "999"])
    assert "999" in caught.value.message
    assert "101" not in caught.value.message.split(":")[-1]


def test_attribute_mapping_overrides_the_defaults(directory: Directory) -> None:
    result = extract(
        directory.url,
        students={
            "base_dn": f"ou=Students,ou=Springfield,{SUFFIX}",
            "id_attribute": "employeeID",
            "id_prefix": "student-",
            "attributes": {"username": "mail", "identifier": None, "phone": None},
            "extra_attributes": ["departmentNumber", "physicalDeliveryOfficeName"],
        },
        staff=None,
    )
    users = result.roster["users"]
    assert users.height == STUDENT_COUNT
    row = users.filter(pl.col("sourcedId") == "student-100004").row(0, named=True)
    assert row["sourceId"] == "100004"  # the directory's own value
    assert row["username"] == "s0004@students.springfield.k12"
    assert row["identifier"] is None
    assert row["grades"] is None  # not mapped in this search
    meta = json.loads(row["metadata"])
    assert meta["departmentNumber"] == "05"
    assert meta["physicalDeliveryOfficeName"] == "102"
    assert result.roster["orgs"]["sourcedId"].to_list() == ["district", "101", "102"]


def test_pages_are_reported_as_progress_and_stats(directory: Directory) -> None:
    config = ldap_source(directory.url, page_size=4)
    events: list[ProgressEvent] = []

    async def run() -> Extraction:
        ldap, client = LdapConnector.from_source(config, READER_PASSWORD)
        try:
            await ldap.extract()  # a second extraction counts its own requests only
            return await ldap.extract(progress=events.append)
        finally:
            await client.aclose()

    result = asyncio.run(run())
    students = result.stats["entities"]["students"]
    assert students["records"] == STUDENT_COUNT
    assert students["pages"] == -(-STUDENT_COUNT // 4)  # every page of 4 entries asked for
    done = [e for e in events if e.entity == "students" and e.finished]
    assert done == [
        ProgressEvent("students", STUDENT_COUNT, students["pages"], students["pages"], True)
    ]
    assert [e.records for e in events if e.entity == "students" and not e.finished] == sorted(
        min(STUDENT_COUNT, 4 * n) for n in range(1, students["pages"] + 1)
    )
    assert result.requests.requests == sum(s["pages"] for s in result.stats["entities"].values())


def test_list_schools_and_test_connection(directory: Directory) -> None:
    config = ldap_source(directory.url)

    async def run() -> tuple[Any, Any]:
        ldap, client = LdapConnector.from_source(config, READER_PASSWORD)
        try:
            return await ldap.list_schools(), await ldap.test_connection()
        finally:
            await client.aclose()

    schools, report = asyncio.run(run())
    assert [(s.source_id, s.name) for s in schools] == [
        ("101", "Springfield Elementary"),
        ("102", "Shelbyville Elementary"),
    ]
    assert report.ok, report.message
    assert "students under ou=Students" in report.message
    assert report.details["searches"]["staff"]["found_entries"] is True


def test_the_connection_test_says_when_a_search_finds_nobody(directory: Directory) -> None:
    config = ldap_source(directory.url, staff={"base_dn": f"ou=Staff,ou=Quiet,{SUFFIX}"})

    async def run() -> Any:
        ldap, client = LdapConnector.from_source(config, READER_PASSWORD)
        try:
            return await ldap.test_connection()
        finally:
            await client.aclose()

    report = asyncio.run(run())
    assert report.ok
    assert f"staff under ou=Staff,ou=Quiet,{SUFFIX} (nothing matches the filter there)" in (
        report.message
    )
    assert report.details["searches"]["students"]["found_entries"] is True


def test_without_schools_or_district_the_directory_brings_people_only(
    directory: Directory,
) -> None:
    students = {"base_dn": f"ou=Students,ou=Springfield,{SUFFIX}"}
    staff = {"base_dn": f"ou=Staff,ou=Springfield,{SUFFIX}"}
    result = extract(
        directory.url, district_name=None, school_names={}, students=students, staff=staff
    )
    assert result.roster["orgs"].height == 0
    assert result.roster["orgs"].schema == ENTITIES["orgs"].schema
    users = result.roster["users"]
    assert users.height == STUDENT_COUNT + len(STAFF_PEOPLE)
    assert users["orgSourcedIds"].null_count() == users.height


@pytest.mark.parametrize(
    ("dn", "name"),
    [
        ("cn=Robotics Club,ou=Groups,dc=x", "Robotics Club"),
        (r"CN=Grade 5\, East,OU=Groups,DC=x", "Grade 5, East"),
        (r"CN=Chlo\C3\A9's Club,OU=Groups,DC=x", "Chloé's Club"),
        (r"CN=\#1 Team,OU=Groups,DC=x", "#1 Team"),
    ],
)
def test_group_names_are_the_first_rdn_unescaped(dn: str, name: str) -> None:
    assert group_name(dn) == name


def test_openldap_defaults_read_entry_uuid_and_ignore_user_account_control(
    directory: Directory,
) -> None:
    result = extract(directory.url, directory="openldap", staff=None)
    users = result.roster["users"]
    assert users.height == STUDENT_COUNT
    for sourced_id in users["sourcedId"].to_list():
        assert str(uuid.UUID(sourced_id)) == sourced_id  # slapd's entryUUID
    assert users["username"].null_count() == users.height  # no uid on these entries
    assert users["enabledUser"].all()  # userAccountControl is Active Directory's, not read


@pytest.mark.parametrize(
    ("scope", "found"), [("one_level", 0), ("subtree", STUDENT_COUNT + len(STAFF_PEOPLE))]
)
def test_scope_decides_whether_sub_ous_are_searched(
    directory: Directory, scope: str, found: int
) -> None:
    base = f"ou=Springfield,{SUFFIX}"
    result = extract(directory.url, students={"base_dn": base, "scope": scope}, staff=None)
    assert result.roster["users"].height == found
