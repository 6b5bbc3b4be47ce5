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
