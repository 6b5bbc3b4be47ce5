"""The v1 resources over real HTTP: OAuth, metadata, lists, counts, paging, q and JSON quirks."""

from __future__ import annotations

import base64

import httpx
import polars as pl

from rostersync.simulators.powerschool import District, RunningSimulator


def test_token_answer_shape_and_trailing_slash(server: RunningSimulator) -> None:
    basic = base64.b64encode(b"rostersync-demo:rostersync-demo-secret").decode()
    for path in ("/oauth/access_token", "/oauth/access_token/"):
        response = httpx.post(
            server.url + path,
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
            },
            content="grant_type=client_credentials",
        )
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert isinstance(body["expires_in"], str)
        assert int(body["expires_in"]) > 2_500_000


def test_bad_credentials_and_bad_token(server: RunningSimulator) -> None:
    response = httpx.post(
        f"{server.url}/oauth/access_token",
        auth=("rostersync-demo", "nope"),
        data={"grant_type": "client_credentials"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    response = httpx.get(
        f"{server.url}/ws/v1/district", headers={"Authorization": "Bearer not-a-token"}
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_metadata_reports_page_sizes(api: httpx.Client) -> None:
    meta = api.get("/ws/v1/metadata").json()["metadata"]
    assert meta["student_max_page_size"] == 100
    assert meta["schema_table_query_max_page_size"] == 100
    assert meta["sso_enabled_admin"] == "false"


def test_single_school_is_an_object_not_a_list(api: httpx.Client, tiny: District) -> None:
    schools = api.get("/ws/v1/district/school").json()["schools"]
    assert isinstance(schools["school"], dict)  # rule 2
    assert schools["school"]["school_number"] == 100  # digit-only → number
    count = api.get("/ws/v1/district/school/count").json()
    assert count == {"resource": {"count": 1}}  # the Graduated Students school is not counted
    assert tiny.counts()["v1_schools"] == 1


def test_school_students_paging_count_and_expansions(api: httpx.Client, tiny: District) -> None:
    active = tiny["students"].filter(pl.col("enroll_status") == 0).height
    count = api.get("/ws/v1/school/1/student/count").json()["resource"]["count"]
    assert count == active
    seen: list[int] = []
    page = 1
    while True:
        body = api.get(
            "/ws/v1/school/1/student",
            params={"page": page, "pagesize": 10, "expansions": "school_enrollment,alerts,contact"},
        ).json()
        students = body["students"]
        assert students["@expansions"].startswith("demographics, addresses")
        if "student" not in students:  # rule 7: empty page keeps only the wrapper
            break
        items = students["student"]
        items = items if isinstance(items, list) else [items]
        for s in items:
            assert s["school_enrollment"]["enroll_status"] == "A"
            assert s["alerts"] == ""  # rule 3
            assert "demographics" not in s
        seen += [s["id"] for s in items]
        page += 1
    assert len(seen) == active == len(set(seen))
    assert seen == sorted(seen)


def test_district_students_include_every_status(api: httpx.Client, tiny: District) -> None:
    count = api.get("/ws/v1/district/student/count").json()["resource"]["count"]
    assert count == tiny.student_count
    q = api.get(
        "/ws/v1/district/student/count", params={"q": "school_enrollment.enroll_status==G"}
    ).json()
    graduated = tiny["students"].filter(pl.col("enroll_status") == 3).height
    assert q["resource"]["count"] == graduated


def test_q_wildcard_and_errors(api: httpx.Client, tiny: District) -> None:
    first = tiny["students"].sort("dcid").row(0, named=True)
    prefix = first["last_name"][:2]
    body = api.get("/ws/v1/district/student", params={"q": f"name.last_name=={prefix}*"}).json()[
        "students"
    ]
    items = body["student"] if isinstance(body["student"], list) else [body["student"]]
    assert all(s["name"]["last_name"].startswith(prefix) for s in items)
    bad = api.get("/ws/v1/district/student", params={"q": "name.last_name=~x"})
    assert bad.status_code == 400
    unknown = api.get("/ws/v1/district/student", params={"q": "shoe_size==3"})
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "shoe_size"


def test_pagesize_over_max_is_clamped(api: httpx.Client, tiny: District) -> None:
    body = api.get("/ws/v1/district/student", params={"pagesize": 1000}).json()
    assert len(body["students"]["student"]) == min(100, tiny.student_count)
    small = api.get("/ws/v1/district/student", params={"pagesize": 5}).json()
    assert len(small["students"]["student"]) == 5


def test_extensions_and_single_student(api: httpx.Client, tiny: District) -> None:
    row = tiny["u_def_ext_students"].filter(pl.col("school_email").is_not_null()).row(0, named=True)
    body = api.get(
        f"/ws/v1/student/{row['studentsdcid']}",
        params={"extensions": "u_students_extension", "expansions": "contact_info"},
    ).json()
    student = body["student"]
    ext = student["_extension_data"]["_table_extension"]
    assert isinstance(ext, dict)
    assert ext["name"] == "u_students_extension"
    fields = ext["_field"] if isinstance(ext["_field"], list) else [ext["_field"]]
    assert {"name": "school_email", "type": "String", "value": row["school_email"]} in fields
    assert student["contact_info"]["email"] == row["school_email"]
    assert api.get("/ws/v1/student/999999999").status_code == 404


def test_sections_enrollments_staff(api: httpx.Client, tiny: District) -> None:
    sections = api.get("/ws/v1/school/1/section", params={"expansions": "term"}).json()
    items = sections["sections"]["section"]
    assert items[0]["term"]["id"] == items[0]["term_id"]
    with_students = tiny["cc"].filter(pl.col("sectionid") > 0)["sectionid"][0]
    dcid = tiny["sections"].filter(pl.col("id") == with_students)["dcid"][0]
    enr = api.get(f"/ws/v1/section/{dcid}/section_enrollment").json()["section_enrollments"]
    got = enr["section_enrollment"]
    got = got if isinstance(got, list) else [got]
    assert all(e["section_id"] == dcid for e in got)
    staff = api.get("/ws/v1/school/1/staff", params={"expansions": "school_affiliations"}).json()[
        "staffs"
    ]["staff"]
    assert all("school_affiliation" in s["school_affiliations"] for s in staff)
    assert any(isinstance(s["local_id"], str) for s in staff) or all(
        isinstance(s["local_id"], int) for s in staff
    )


def test_unknown_endpoint_is_json_404(api: httpx.Client) -> None:
    response = api.get("/ws/v1/nothing/here/at/all")
    assert response.status_code == 404
    assert "message" in response.json()
