"""PowerQueries over HTTP: core queries, arguments, $q, projection, order, paging, data version."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import polars as pl
from ps_sim_helpers import Api

from rostersync.simulators.powerschool import District, SimulatorConfig, generate_district

CORE = "/ws/schema/query/com.pearson.core."


def test_dcid_id_map_pages_and_counts(api: httpx.Client, tiny: District) -> None:
    body = api.post(
        CORE + "student.student_dcid_id_map", params={"pagesize": 5, "count": "true"}, json={}
    ).json()
    assert body["name"] == "Students"
    assert body["count"] == tiny.student_count
    assert len(body["record"]) == 5
    first = body["record"][0]["tables"]["students"]
    assert first == {
        "dcid": str(tiny["students"]["dcid"].min()),
        "id": str(tiny["students"]["id"].min()),
    }
    everything = api.post(
        CORE + "student.student_dcid_id_map", params={"pagesize": 0}, json={}
    ).json()
    assert len(everything["record"]) == tiny.student_count
    count = api.post(CORE + "student.student_dcid_id_map/count", json={}).json()
    assert count == {"count": tiny.student_count}


def test_arguments_and_their_errors(api: httpx.Client) -> None:
    year = api.post(
        CORE + "terms.yearid", json={"schoolid": "100", "currentdate": "2025-09-10"}
    ).json()
    assert year["record"][0]["tables"]["terms"]["yearid"] == "35"
    missing = api.post(CORE + "terms.yearid", json={"schoolid": "100"})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "currentdate"
    unknown = api.post(
        CORE + "terms.yearid", json={"schoolid": "100", "currentdate": "2025-09-10", "x": 1}
    )
    assert unknown.status_code == 400
    not_array = api.post(CORE + "guardian.student_guardian_detail", json={"guardian_id": 1})
    assert not_array.status_code == 400
    array = api.post(CORE + "guardian.student_guardian_detail", json={"guardian_id": [1]})
    assert array.status_code == 200
    assert api.post("/ws/schema/query/com.pearson.core.search_students", json={}).status_code == 404
    malformed = api.post(
        CORE + "terms.yearid", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400


def test_q_projection_and_order(api: httpx.Client, tiny: District) -> None:
    top = int(tiny["students"]["dcid"].max())  # type: ignore[arg-type]
    body = api.post(
        CORE + "student.student_dcid_id_map",
        params={"order": "students.dcid;desc"},
        json={"$q": f"students.dcid=ge={top - 2}", "projection": "students.dcid"},
    )
    records = [r["tables"]["students"] for r in body.json()["record"]]
    assert records == [{"dcid": str(top)}, {"dcid": str(top - 1)}, {"dcid": str(top - 2)}]
    ored = api.post(
        CORE + "student.student_dcid_id_map", json={"$q": "students.dcid==1,students.dcid==2"}
    )
    assert ored.status_code == 400


def test_section_enrollments_and_data_version(api: httpx.Client, tiny: District) -> None:
    cc = tiny["cc"].filter(pl.col("sectionid") > 0)
    section = tiny["sections"].filter(pl.col("id") == cc["sectionid"][0]).row(0, named=True)
    body = api.post(
        CORE + "teachers.sectionEnrollments",
        params={"pagesize": 0},
        json={"section_dcid": str(section["dcid"])},
    ).json()
    expected = tiny["cc"].filter(pl.col("sectionid").abs() == section["id"]).height
    assert len(body["record"]) == expected
    lone = api.post(CORE + "student.student_dcid_id_map", json={"$dataversion": "0"})
    assert lone.status_code == 400
    delta = api.post(
        CORE + "student.student_dcid_id_map",
        json={"$dataversion": "0", "$dataversion_applicationname": "RosterSync"},
    )
    assert delta.json()["$dataversion"] == str(tiny.changes.height)
    changes = api.get("/ws/dataversion/RosterSync/0").json()
    assert changes["$dataversion"] == str(tiny.changes.height)
    assert api.get("/ws/dataversion/RosterSync/abc").status_code == 400


def test_delta_pull_returns_only_changed_rows(start: Callable[..., Api]) -> None:
    district = generate_district("tiny", seed=31, day=3)
    body = {"$dataversion": "0", "$dataversion_applicationname": "RosterSync"}
    full = (
        start(district=district)
        .post(CORE + "student.student_dcid_id_map", params={"pagesize": 0}, json=body)
        .json()
    )
    assert len(full["record"]) == district.student_count  # "0" = a first full load
    sim = start(SimulatorConfig(dataversion_zero_is_full=False), district=district)
    delta = sim.post(CORE + "student.student_dcid_id_map", params={"pagesize": 0}, json=body).json()
    changed = district.changes.filter(pl.col("table") == "students")["key"].unique()
    got = {int(r["tables"]["students"]["dcid"]) for r in delta["record"]}
    assert got == set(changed.to_list())
    latest = sim.post(
        CORE + "student.student_dcid_id_map", json={**body, "$dataversion": delta["$dataversion"]}
    ).json()
    assert latest["record"] == []


def test_installed_queries_and_tables_are_listed(api: httpx.Client) -> None:
    names = [q["name"] for q in api.get("/ws/schema/query/api").json()["queries"]]
    assert "com.pearson.core.student.student_dcid_id_map" in names
    assert "com.pearson.core.search_students" not in names
    tables = api.get("/ws/schema/table").json()["tables"]
    assert {"STUDENTS", "U_DEF_EXT_STUDENTS", "SECTIONTEACHER"} <= set(tables)
