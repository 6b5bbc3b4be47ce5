"""The connector against the PowerSchool simulator: what it extracts equals what is served."""

from __future__ import annotations

import json

import httpx
import polars as pl
import pytest
from ps_helpers import extract, make_connector

from rostersync.connectors.powerschool import ExtractPlan
from rostersync.model import ENTITIES
from rostersync.simulators.powerschool import District, RunningSimulator

CUSTOM = ExtractPlan(
    custom_fields={
        "student": ("U_DEF_EXT_STUDENTS.school_email", "StudentCoreFields.immunization_dpt")
    }
)


def _active(d: District) -> pl.DataFrame:
    return d["students"].filter(pl.col("enroll_status") == 0)


async def test_connection_reports_district_schools_and_page_sizes(
    tiny_sim: RunningSimulator, tiny_district: District
) -> None:
    async with httpx.AsyncClient() as client:
        report = await make_connector(tiny_sim.url, client, plan=CUSTOM).test_connection()
    assert report.ok, report.message
    assert report.district_name == tiny_district.name
    assert report.school_count == tiny_district.counts()["v1_schools"]
    assert report.page_sizes["student"] == 100
    assert report.page_sizes["schema_table_query"] == 100


async def test_connection_names_bad_credentials(tiny_sim: RunningSimulator) -> None:
    async with httpx.AsyncClient() as client:
        conn = make_connector(tiny_sim.url, client, client_secret="wrong")
        report = await conn.test_connection()
    assert not report.ok
    assert "client ID or secret" in report.message
    assert "wrong" not in report.message


async def test_list_schools_leaves_out_graduated_students(
    tiny_sim: RunningSimulator, tiny_district: District
) -> None:
    async with httpx.AsyncClient() as client:
        schools = await make_connector(tiny_sim.url, client).list_schools()
    expected = tiny_district["schools"].filter(pl.col("school_number") != 999_999)
    assert sorted(s.source_id for s in schools) == sorted(str(x) for x in expected["dcid"])
    assert {s.number for s in schools} == {str(x) for x in expected["school_number"]}


async def test_extract_equals_what_the_simulator_serves(
    tiny_sim: RunningSimulator, tiny_district: District
) -> None:
    result, _ = await extract(tiny_sim.url, CUSTOM)
    roster = result.roster
    d = tiny_district
    for name, table in roster.items():
        assert table.schema == ENTITIES[name].schema, name
    users = roster["users"]
    students = users.filter(pl.col("role") == "student")
    active = _active(d)
    assert students.height == active.height
    assert set(students["sourceId"]) == {str(x) for x in active["dcid"]}
    assert roster["classes"].height == d["sections"].height
    assert roster["orgs"].filter(pl.col("type") == "school").height == d.counts()["v1_schools"]
    assert roster["academicSessions"].height == d["terms"].height
    # Student enrollments: CC rows not dropped (negative section ID), keyed by CC.DCID.
    kept = d["cc"].filter(pl.col("sectionid") > 0)
    got = roster["enrollments"].filter(pl.col("role") == "student")
    assert set(got["sourcedId"]) == {str(x) for x in kept["dcid"]}

    # A sample record equals its source row.
    row = active.sort("dcid").row(0, named=True)
    user = students.filter(pl.col("sourceId") == str(row["dcid"])).row(0, named=True)
    assert user["givenName"] == row["first_name"]
    assert user["familyName"] == row["last_name"]
    assert user["identifier"] == str(row["student_number"])
    assert user["username"] == row["student_web_id"]
    assert user["birthDate"] == row["dob"]
    ext = d["u_def_ext_students"].filter(pl.col("studentsdcid") == row["dcid"]).row(0, named=True)
    meta = json.loads(user["metadata"])
    assert meta["U_DEF_EXT_STUDENTS.school_email"] == ext["school_email"]
    core = d["studentcorefields"].filter(pl.col("studentsdcid") == row["dcid"]).row(0, named=True)
    assert meta["StudentCoreFields.immunization_dpt"] == core["immunization_dpt"]


async def test_calendar_has_first_and_last_instructional_days(
    tiny_sim: RunningSimulator, tiny_district: District
) -> None:
    result, _ = await extract(tiny_sim.url)
    years = result.roster["academicSessions"].filter(pl.col("type") == "schoolYear")
    assert years.height >= 1
    days = tiny_district["calendar_day"].filter(pl.col("insession") == 1)
    meta = json.loads(years["metadata"][0])
    assert meta["firstInstructionalDay"] == str(days["date_value"].min())
    assert meta["lastInstructionalDay"] == str(days["date_value"].max())
    types = set(result.roster["academicSessions"]["type"])
    assert "semester" in types


async def test_co_teachers_present_when_on_absent_when_off(
    tiny_sim: RunningSimulator, tiny_district: District
) -> None:
    on, _ = await extract(tiny_sim.url, ExtractPlan(sync_co_teachers=True))
    off, _ = await extract(tiny_sim.url, ExtractPlan(sync_co_teachers=False))
    teachers_on = on.roster["enrollments"].filter(pl.col("role") == "teacher")
    teachers_off = off.roster["enrollments"].filter(pl.col("role") == "teacher")
    co_on = teachers_on.filter(~pl.col("primary"))
    assert co_on.height > 0
    assert set(co_on["teacherRole"]) - {"Lead Teacher"}
    assert teachers_off.filter(~pl.col("primary")).height == 0
    # Every section's lead teacher is there either way.
    sections = tiny_district["sections"].height
    assert teachers_off.height == sections
    assert teachers_on.filter(pl.col("primary")).height >= sections


async def test_legacy_contacts_keep_the_raw_name(
    tiny_sim: RunningSimulator, tiny_district: District
) -> None:
    result, _ = await extract(tiny_sim.url, ExtractPlan(contact_module=False))
    contacts = result.roster["users"].filter(pl.col("role").is_in(["parent", "guardian"]))
    assert contacts.height > 0
    assert contacts["givenName"].null_count() == contacts.height
    row = (
        _active(tiny_district)
        .filter(pl.col("mother").is_not_null())
        .sort("dcid")
        .row(0, named=True)
    )
    mother = contacts.filter(pl.col("sourcedId") == f"contact-{row['dcid']}-mother")
    assert json.loads(mother["metadata"][0])["legacyContactName"] == row["mother"].strip()
    links = result.roster["userContacts"]
    assert set(links["contactSourcedId"]) == set(contacts["sourcedId"])


async def test_contacts_module_people_and_relationships(
    tiny_sim: RunningSimulator, tiny_district: District
) -> None:
    result, _ = await extract(tiny_sim.url, ExtractPlan(contact_module=True))
    d = tiny_district
    active = {str(x) for x in _active(d)["dcid"]}
    assoc = d["studentcontactassoc"].with_columns(pl.col("studentdcid").cast(pl.Utf8))
    detail = d["studentcontactdetail"].filter(pl.col("isactive") == 1)
    linked = assoc.filter(pl.col("studentdcid").is_in(list(active))).join(
        detail, on="studentcontactassocid"
    )
    contacts = result.roster["users"].filter(pl.col("sourcedId").str.starts_with("contact-"))
    assert set(contacts["sourceId"]) == {str(x) for x in linked["personid"]}
    assert contacts["givenName"].null_count() == 0
    assert (
        result.roster["userContacts"].height
        == linked.select("studentdcid", "personid").unique().height
    )


async def test_school_scope_by_number(tiny_sim: RunningSimulator, tiny_district: District) -> None:
    school = tiny_district["schools"].row(0, named=True)
    async with httpx.AsyncClient() as client:
        conn = make_connector(tiny_sim.url, client)
        result = await conn.extract([str(school["school_number"])])
        assert result.roster["orgs"].filter(pl.col("type") == "school").height == 1
        from rostersync.errors import SourceDataError

        with pytest.raises(SourceDataError, match="12345"):
            await conn.extract(["12345"])


async def test_tls_failure_is_named(tiny_sim: RunningSimulator) -> None:
    # The simulator speaks plain HTTP: an https:// URL fails the TLS handshake.
    url = tiny_sim.url.replace("http://", "https://")
    async with httpx.AsyncClient() as client:
        report = await make_connector(url, client).test_connection()
    assert not report.ok
    assert "TLS" in report.message


def test_registry_finds_the_powerschool_connector() -> None:
    from rostersync.connectors import available_connectors, get_connector_class
    from rostersync.connectors.powerschool import PowerSchoolConnector
    from rostersync.errors import ConfigurationError

    assert "powerschool" in available_connectors()
    assert get_connector_class("powerschool") is PowerSchoolConnector
    with pytest.raises(ConfigurationError, match="No connector for app 'nosuch'"):
        get_connector_class("nosuch")
