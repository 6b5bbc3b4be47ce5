"""Each pagination strategy builds the right requests, reads its count and unwraps its pages."""

from __future__ import annotations

from rostersync.connectors.powerschool._paging import PowerQueryPages, TablePages, V1Pages


def test_v1_pages() -> None:
    p = V1Pages(
        "/ws/v1/school/7/student",
        "students",
        "student",
        "student_max_page_size",
        {"expansions": "demographics", "q": "a==1"},
    )
    count = p.count_request()
    assert (count.method, count.path, count.params) == (
        "GET",
        "/ws/v1/school/7/student/count",
        {"q": "a==1"},
    )
    assert p.parse_count({"resource": {"count": 423}}) == 423
    assert p.parse_count({"resource": {"count": "7"}}) == 7
    assert p.parse_count({"count": 3}) == 3
    req = p.page_request(3, 100)
    assert req.params == {"expansions": "demographics", "q": "a==1", "page": 3, "pagesize": 100}
    assert p.records({"students": {"student": {"id": 1}}}) == [{"id": 1}]


def test_table_pages() -> None:
    p = TablePages("SectionTeacher", ("id", "sectionid", "teacherid"), q="sectionid=ge=1")
    assert p.count_request().path == "/ws/schema/table/sectionteacher/count"
    assert p.count_request().params == {"q": "sectionid=ge=1"}
    assert p.parse_count({"count": "12"}) == 12
    req = p.page_request(2, 50)
    assert req.path == "/ws/schema/table/sectionteacher"
    assert req.params == {
        "projection": "id,sectionid,teacherid",
        "q": "sectionid=ge=1",
        "page": 2,
        "pagesize": 50,
    }
    payload = {"name": "SectionTeacher", "record": [{"id": 1, "tables": {"sectionteacher": {}}}]}
    assert p.records(payload) == [{}]


def test_powerquery_pages() -> None:
    p = PowerQueryPages("com.rostersync.roster.core.students", {"schoolid": "7"})
    count = p.count_request()
    assert (count.method, count.path, count.body) == (
        "POST",
        "/ws/schema/query/com.rostersync.roster.core.students/count",
        {"schoolid": "7"},
    )
    req = p.page_request(1, 500)
    assert req.params == {"page": 1, "pagesize": 500}
    assert req.body == {"schoolid": "7"}
    assert p.records({"name": "Students"}) == []
    assert p.records({"record": [{"dcid": "5"}]}) == [{"dcid": "5"}]


async def test_walk_without_count_makes_one_request_for_a_short_collection() -> None:
    import httpx

    from rostersync.connectors.powerschool._auth import ClientCredentials
    from rostersync.connectors.powerschool._http import ApiSession
    from rostersync.connectors.powerschool._paging import fetch_pages

    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/access_token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": "3600"})
        seen.append(request.url.path)
        page = int(request.url.params["page"])
        rows = [{"id": i} for i in range(3 if page == 1 else 0)]
        return httpx.Response(200, json={"section_enrollments": {"section_enrollment": rows}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        session = ApiSession(client, ClientCredentials("http://x", "i", "s"), "http://x")
        pag = V1Pages(
            "/ws/v1/section/5/section_enrollment",
            "section_enrollments",
            "section_enrollment",
            "section_enrollment_max_page_size",
        )
        pages = await fetch_pages(session, pag, 100, len, count=False)
        assert pages == [3]
        assert seen == ["/ws/v1/section/5/section_enrollment"]
        seen.clear()
        pages = await fetch_pages(session, pag, 3, len, count=False)  # a full page: walk on
        assert seen == ["/ws/v1/section/5/section_enrollment"] * 2
