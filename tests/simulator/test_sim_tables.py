"""The schema table API over HTTP: projection, q, paging, counts, single rows, metadata, access."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import polars as pl
from ps_sim_helpers import Api

from rostersync.simulators.powerschool import District, SimulatorConfig, parse_plugin_xml


def test_records_are_strings_and_paged(api: httpx.Client, tiny: District) -> None:
    body = api.get(
        "/ws/schema/table/students",
        params={"projection": "dcid,id,last_name,middle_name", "pagesize": 3, "page": 2},
    ).json()
    assert body["name"] == "STUDENTS"
    records = body["record"]
    assert len(records) == 3
    first = records[0]
    assert isinstance(first["id"], int)
    values = first["tables"]["students"]
    assert set(values) == {"dcid", "id", "last_name", "middle_name"}
    assert all(isinstance(v, str) for v in values.values())
    expected = tiny["students"].sort("id").row(3, named=True)
    assert values["dcid"] == str(expected["dcid"])
    assert values["middle_name"] == (expected["middle_name"] or "")


def test_q_count_and_empty_result(api: httpx.Client, tiny: District) -> None:
    count = api.get(
        "/ws/schema/table/calendar_day/count", params={"q": "schoolid==100;insession==1"}
    ).json()
    expected = tiny["calendar_day"].filter(pl.col("insession") == 1).height
    assert count == {"count": expected}
    none = api.get(
        "/ws/schema/table/students", params={"q": "id=gt=99999999", "projection": "id"}
    ).json()
    assert none == {"name": "STUDENTS", "record": []}
    dated = api.get(
        "/ws/schema/table/calendar_day/count",
        params={"q": "date_value=ge=2026-01-01;schoolid==100"},
    ).json()
    assert 0 < dated["count"] < tiny["calendar_day"].height


def test_extension_contacts_and_section_teacher_tables(api: httpx.Client) -> None:
    for table in (
        "u_def_ext_students",
        "studentcorefields",
        "person",
        "studentcontactassoc",
        "studentcontactdetail",
        "emailaddress",
        "personemailaddressassoc",
        "phonenumber",
        "personphonenumberassoc",
        "codeset",
        "sectionteacher",
        "roledef",
        "schoolstaff",
        "users",
        "cc",
        "terms",
        "calendar_day",
    ):
        response = api.get(
            f"/ws/schema/table/{table.upper()}", params={"projection": "*", "pagesize": 1}
        )
        assert response.status_code == 200, table
        assert response.json()["record"][0]["tables"][table]


def test_single_row_metadata_and_errors(api: httpx.Client, tiny: District) -> None:
    row = tiny["cc"].row(0, named=True)
    single = api.get(f"/ws/schema/table/cc/{row['id']}", params={"projection": "*"}).json()
    assert single["id"] == row["id"]
    assert single["name"] == "CC"
    assert single["tables"]["cc"]["studentid"] == str(row["studentid"])
    meta = api.get("/ws/schema/table/cc/metadata").json()
    assert meta["primaryKey"] == "id"
    assert {c["name"] for c in meta["columns"]} >= {"studentid", "sectionid"}
    assert api.get("/ws/schema/table/nosuchtable").status_code == 404
    assert api.get("/ws/schema/table/cc/999999999").status_code == 404
    bad_q = api.get("/ws/schema/table/cc", params={"q": "studentid=gt="})
    assert bad_q.status_code == 400
    bad_col = api.get("/ws/schema/table/cc", params={"projection": "id,shoe"})
    assert bad_col.status_code == 400


def test_ungranted_column_is_refused(start: Callable[..., Api]) -> None:
    plugin = parse_plugin_xml(
        '<plugin xmlns="http://plugin.powerschool.pearson.com" name="narrow" version="1.0">'
        "<oauth/><access_request>"
        '<field table="CALENDAR_DAY" field="SCHOOLID" access="ViewOnly"/>'
        '<field table="CALENDAR_DAY" field="INSESSION" access="ViewOnly"/>'
        "</access_request></plugin>"
    )
    sim = start(SimulatorConfig(plugin=plugin))
    ok = sim.get("/ws/schema/table/calendar_day", params={"projection": "schoolid,insession"})
    assert ok.status_code == 200
    refused = sim.get("/ws/schema/table/calendar_day", params={"projection": "schoolid,date_value"})
    assert refused.status_code == 403
    body = refused.json()
    assert body["message"] == "At least one column lacks sufficient permission"
    assert body["errors"][0]["field"] == "calendar_day.date_value"
    # v1 resources are not governed by access_request
    assert sim.get("/ws/v1/district/student/count").status_code == 200


def test_contacts_rest_agrees_with_the_tables(api: httpx.Client, tiny: District) -> None:
    assoc = tiny["studentcontactassoc"]
    student = int(assoc["studentdcid"][0])
    contacts = api.get(f"/ws/contacts/student/{student}").json()
    assert isinstance(contacts, list)
    expected = set(assoc.filter(pl.col("studentdcid") == student)["personid"].to_list())
    assert {c["contactId"] for c in contacts} == expected
    first = contacts[0]
    assert {"firstName", "lastName", "emails", "phones", "contactStudents"} <= set(first)
    assert any(s["dcid"] == student for s in first["contactStudents"])
    one = api.get(f"/ws/contacts/contact/{first['contactId']}").json()
    assert one["contactId"] == first["contactId"]
    lonely = tiny["students"].filter(~pl.col("dcid").is_in(assoc["studentdcid"].implode()))
    if lonely.height:
        assert api.get(f"/ws/contacts/student/{lonely['dcid'][0]}").status_code == 204
    assert api.get("/ws/contacts/student/1").status_code == 404
