"""Writes over HTTP: POST /ws/v1/student, extension-table rows, PowerTeacher Pro grade sync."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from ps_sim_helpers import Api

from rostersync.simulators.powerschool import District, generate_district


def test_student_update_insert_and_item_errors(start: Callable[..., Api]) -> None:
    sim = start(district=generate_district("tiny", seed=21))
    dcid = int(sim.server.district["students"]["dcid"][0])
    body = {
        "students": {
            "student": [
                {
                    "client_uid": "c-1",
                    "action": "UPDATE",
                    "id": dcid,
                    "contact_info": {"email": "ana@example.org"},
                    "_extension_data": {
                        "_table_extension": [
                            {
                                "name": "u_students_extension",
                                "_field": [
                                    {"name": "preferredname", "type": "String", "value": "Ana"}
                                ],
                            }
                        ]
                    },
                },
                {
                    "client_uid": "c-2",
                    "action": "INSERT",
                    "local_id": 987654,
                    "name": {"first_name": "Noé", "last_name": "O'Neil"},
                    "school_enrollment": {
                        "school_number": 100,
                        "grade_level": 3,
                        "entry_date": "2025-09-02",
                        "exit_date": "2026-06-06",
                    },
                },
                {"client_uid": "c-3", "action": "INSERT", "name": {"first_name": "X"}},
            ]
        }
    }
    response = sim.post("/ws/v1/student", json=body)
    assert response.status_code == 200
    results = response.json()["results"]
    assert (results["insert_count"], results["update_count"]) == (1, 1)
    statuses = [r["status"] for r in results["result"]]
    assert statuses == ["SUCCESS", "SUCCESS", "ERROR"]
    fields = {e["field"] for e in results["result"][2]["error_message"]["error"]}
    assert "student/school_enrollment/entry_date" in fields
    read = sim.get(
        f"/ws/v1/student/{dcid}",
        params={"expansions": "contact_info", "extensions": "u_students_extension"},
    )
    student = read.json()["student"]
    assert student["contact_info"]["email"] == "ana@example.org"
    new_id = results["result"][1]["success_message"]["id"]
    assert sim.get(f"/ws/v1/student/{new_id}").json()["student"]["name"]["last_name"] == "O'Neil"
    bad = sim.post("/ws/v1/student", content=b"[1,", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    wrong_type = sim.post("/ws/v1/student", content=b"{}", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415


def test_extension_table_rows(start: Callable[..., Api]) -> None:
    district: District = generate_district("tiny", seed=22)
    sim = start(district=district)
    dcid = int(district["students"]["dcid"][1])
    put = sim.request(
        "PUT",
        f"/ws/schema/table/u_def_ext_students/{dcid}",
        json={
            "id": dcid,
            "name": "u_def_ext_students",
            "tables": {"u_def_ext_students": {"school_email": "fixed@x.org"}},
        },
    )
    assert put.status_code == 200
    assert put.json()["result"][0]["action"] == "UPDATE"
    row = sim.get(f"/ws/schema/table/u_def_ext_students/{dcid}", params={"projection": "*"})
    assert row.json()["tables"]["u_def_ext_students"]["school_email"] == "fixed@x.org"
    assert sim.request("DELETE", f"/ws/schema/table/u_def_ext_students/{dcid}").status_code == 204
    post = sim.post(
        "/ws/schema/table/u_def_ext_students",
        json={
            "tables": {
                "u_def_ext_students": {"studentsdcid": str(dcid), "school_email": "new@x.org"}
            }
        },
    )
    assert post.json()["insert_count"] == 1
    again = sim.post(
        "/ws/schema/table/u_def_ext_students",
        json={"tables": {"u_def_ext_students": {"studentsdcid": str(dcid)}}},
    )
    assert again.status_code == 409
    core = sim.post("/ws/schema/table/students", json={"tables": {"students": {"id": "1"}}})
    assert core.status_code == 403
    keys = sim.get("/ws/dataversion/app/0").json()["tables"]["u_def_ext_students"]
    assert dcid in keys


def test_grade_sync_assignments_and_scores(start: Callable[..., Api]) -> None:
    district = generate_district("tiny", seed=23)
    sim = start(district=district)
    cc = district["cc"].filter(pl.col("sectionid") > 0).row(0, named=True)
    section = district["sections"].filter(pl.col("id") == cc["sectionid"]).row(0, named=True)
    student = district["students"].filter(pl.col("id") == cc["studentid"])["dcid"][0]
    teacher = int(district["users"]["dcid"][0])
    categories = sim.get(
        "/ws/xte/teacher_category", params={"users_dcid": teacher, "year_id": 35}
    ).json()
    assert isinstance(categories, list)
    category = categories[0]["teachercategoryid"]
    created = sim.post(
        f"/ws/xte/section/assignment/?users_dcid={teacher}",
        json={
            "_assignmentsections": [
                {
                    "sectionsdcid": section["dcid"],
                    "name": "Essay 1",
                    "duedate": "2025-10-01",
                    "scoretype": "POINTS",
                    "scoreentrypoints": 20,
                    "totalpointvalue": 20,
                    "weight": 1,
                    "iscountedinfinalgrade": True,
                    "_assignmentcategoryassociations": [
                        {"teachercategoryid": category, "isprimary": True}
                    ],
                }
            ]
        },
    )
    assert created.status_code == 201
    ident = created.json()["_assignmentsections"][0]["assignmentsectionid"]
    score = {
        "studentsdcid": int(student),
        "actualscoreentered": "18",
        "actualscorekind": "REAL_SCORE",
        "_assignmentsection": {"assignmentsectionid": ident},
    }
    put = sim.request(
        "PUT",
        f"/ws/xte/score?users_dcid={teacher}&status=A,I,P",
        json={"assignment_scores": [score]},
    )
    assert put.status_code == 200
    stranger = {**score, "studentsdcid": 1}
    refused = sim.request(
        "PUT", f"/ws/xte/score?users_dcid={teacher}", json={"assignment_scores": [stranger]}
    )
    assert refused.status_code == 409
    read = sim.get("/ws/xte/score", params={"users_dcid": teacher, "assignmentsectionid": ident})
    assert read.json()["assignment_scores"] == [score]
    listed = sim.get(
        "/ws/xte/section/assignment/",
        params={"users_dcid": teacher, "section_ids": section["dcid"]},
    ).json()
    assert listed[0]["_assignmentsections"][0]["name"] == "Essay 1"
    path = f"/ws/xte/section/assignment/{ident}?users_dcid={teacher}"
    assert sim.request("DELETE", path).status_code == 412
    assert sim.request("DELETE", path + "&force=true").status_code == 204
