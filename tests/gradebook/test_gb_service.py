"""The OneRoster 1.2 Gradebook service over HTTP: the acceptance cycle a vendor's suite runs
after rostering (categories, grading periods, lineItem PUT/GET/PUT, result PUT/GET with extra
credit and exempt, DELETE), every answer checked against the specification's models."""

from __future__ import annotations

from typing import Any

from gb_conformance import gradebook_errors
from gb_served import GB12, V11, Served

from conformance.conformance_models import status_errors


def _line_item(served: Served, cid: str, category: str, **extra: Any) -> dict[str, Any]:
    return {
        "lineItem": {
            "title": "Fractions quiz",
            "assignDate": "2026-12-01T08:00:00Z",
            "dueDate": "2026-12-08T08:00:00Z",
            "class": {"sourcedId": cid},
            "school": {"sourcedId": served.school_of(cid)},
            "category": {"sourcedId": category},
            "gradingPeriod": {"sourcedId": served.term_of(cid)},
            "resultValueMin": 0,
            "resultValueMax": 10,
            **extra,
        }
    }


def _result(line_item: str, student: str, **extra: Any) -> dict[str, Any]:
    return {
        "result": {
            "lineItem": {"sourcedId": line_item},
            "student": {"sourcedId": student},
            "scoreStatus": "fully graded",
            "score": 9,
            "scoreDate": "2026-12-02",
            **extra,
        }
    }


def _ok(resp: Any, key: str, *, single: bool, version: str = "1.2") -> dict[str, Any]:
    assert resp.status_code in (200, 201), resp.text
    body: dict[str, Any] = resp.json()
    assert gradebook_errors(version, key, body, single=single) == []
    return body


def test_the_acceptance_cycle(served: Served) -> None:
    cid, students = served.class_with_students()
    # rostering first: the class and its term's grading periods, as the suite reads them
    assert served.get(f"/ims/oneroster/rostering/v1p2/classes/{cid}").status_code == 200
    category = {"category": {"title": "Quizzes", "weight": 0.25}}
    created = served.put(f"{GB12}/categories/cat-quiz", category)
    assert created.status_code == 201, created.text
    _ok(created, "categories", single=True)
    again = served.put(f"{GB12}/categories/cat-quiz", category)
    assert again.status_code == 200
    listed = _ok(served.get(f"{GB12}/classes/{cid}/categories"), "categories", single=False)
    assert listed["categories"] == []  # no line item of the class uses it yet

    item = _line_item(served, cid, "cat-quiz")
    first = served.put(f"{GB12}/lineItems/li-1", item)
    assert first.status_code == 201, first.text
    got = _ok(served.get(f"{GB12}/lineItems/li-1"), "lineItems", single=True)["lineItem"]
    assert got["class"]["sourcedId"] == cid
    assert got["class"]["type"] == "class"
    assert got["class"]["href"].endswith(f"/ims/oneroster/rostering/v1p2/classes/{cid}")
    assert got["category"]["href"].endswith(f"{GB12}/categories/cat-quiz")
    item["lineItem"]["title"] = "Fractions quiz (retake)"
    second = served.put(f"{GB12}/lineItems/li-1", item)
    assert second.status_code == 200, second.text
    assert served.get(f"{GB12}/lineItems/li-1").json()["lineItem"]["title"].endswith("(retake)")
    listed = _ok(served.get(f"{GB12}/classes/{cid}/categories"), "categories", single=False)
    assert [c["sourcedId"] for c in listed["categories"]] == ["cat-quiz"]

    extra = served.put(f"{GB12}/results/r-1", _result("li-1", students[0], score=12))
    assert extra.status_code == 201, extra.text  # above resultValueMax: extra credit
    exempt = _result("li-1", students[1], scoreStatus="exempt")
    del exempt["result"]["score"]
    assert served.put(f"{GB12}/results/r-2", exempt).status_code == 201
    r1 = _ok(served.get(f"{GB12}/results/r-1"), "results", single=True)["result"]
    assert (r1["score"], r1["class"]["sourcedId"]) == (12, cid)
    by_item = _ok(
        served.get(f"{GB12}/classes/{cid}/lineItems/li-1/results"), "results", single=False
    )
    assert sorted(r["sourcedId"] for r in by_item["results"]) == ["r-1", "r-2"]
    mine = _ok(
        served.get(f"{GB12}/classes/{cid}/students/{students[1]}/results"),
        "results",
        single=False,
    )
    assert [r["scoreStatus"] for r in mine["results"]] == ["exempt"]

    # 1.1 serves the same objects in its own shape
    old = served.get(f"{V11}/lineItems/li-1")
    _ok(old, "lineItems", single=True, version="1.1")
    assert old.json()["lineItem"]["gradingPeriod"]["sourcedId"] == served.term_of(cid)
    _ok(served.get(f"{V11}/classes/{cid}/results"), "results", single=False, version="1.1")

    # DELETE: gone from listings and single reads, readable as tobedeleted when asked for
    assert served.call("DELETE", f"{GB12}/results/r-2").status_code == 204
    assert served.get(f"{GB12}/results/r-2").status_code == 404
    assert served.call("DELETE", f"{GB12}/lineItems/li-1").status_code == 204
    assert served.get(f"{GB12}/lineItems/li-1").status_code == 404
    listed = served.get(f"{GB12}/classes/{cid}/lineItems").json()["lineItems"]
    assert "li-1" not in [i["sourcedId"] for i in listed]
    gone = served.get(f"{GB12}/results", filter="status='tobedeleted'").json()["results"]
    assert {"r-1", "r-2"} <= {r["sourcedId"] for r in gone}  # the line item took its results
    missing = served.call("DELETE", f"{GB12}/lineItems/li-1")
    assert missing.status_code == 404
    assert status_errors("1.2", missing.json()) == []
    # PUT after DELETE brings it back as a new object
    assert served.put(f"{GB12}/lineItems/li-1", item).status_code == 201


def test_collections_page_filter_and_sort(served: Served) -> None:
    cid, _ = served.class_with_students(1)
    served.put(f"{GB12}/categories/cat-hw", {"category": {"title": "Homework"}})
    for n in range(5):
        body = _line_item(served, cid, "cat-hw", title=f"Homework {n}")
        assert served.put(f"{GB12}/lineItems/hw-{n}", body).status_code == 201
    page = served.get(
        f"{GB12}/classes/{cid}/lineItems", limit="2", offset="1", sort="title", orderBy="desc"
    )
    _ok(page, "lineItems", single=False)
    assert page.headers["X-Total-Count"] == "5"
    assert [i["title"] for i in page.json()["lineItems"]] == ["Homework 3", "Homework 2"]
    assert 'rel="next"' in page.headers["Link"]
    found = served.get(f"{GB12}/lineItems", filter="title='Homework 4'", fields="sourcedId,title")
    assert found.json() == {"lineItems": [{"sourcedId": "hw-4", "title": "Homework 4"}]}
    bad = served.get(f"{GB12}/lineItems", filter="colour='red'")
    assert bad.status_code == 400
    assert "colour" in bad.json()["imsx_description"]
    assert status_errors("1.2", bad.json()) == []
    bad = served.get(f"{GB12}/lineItems", fields="colour")
    assert bad.status_code == 400
    assert bad.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == (
        "invalid_selection_field"
    )


def test_every_gradebook_endpoint_answers_per_the_specification(served: Served) -> None:
    """Each GET path of both versions, with objects in it, checked against the spec models."""
    cid, students = served.class_with_students(3)
    school = served.school_of(cid)
    served.put(f"{GB12}/categories/sweep-cat", {"category": {"title": "Labs", "weight": 2}})
    scale = {
        "title": "Pass/fail",
        "type": "passfail",
        "class": {"sourcedId": cid},
        "scoreScaleValue": [{"itemValueLHS": "P", "itemValueRHS": "pass"}],
    }
    assert served.put(f"{GB12}/scoreScales/sweep-ss", {"scoreScale": scale}).status_code == 201
    item = _line_item(served, cid, "sweep-cat", scoreScale={"sourcedId": "sweep-ss"})
    assert served.put(f"{GB12}/lineItems/sweep-li", item).status_code == 201
    result = _result(
        "sweep-li",
        students[0],
        scoreScale={"sourcedId": "sweep-ss"},
        textScore="P",
        late="true",
        comment="well done",
    )
    assert served.put(f"{GB12}/results/sweep-r", result).status_code == 201
    paths = {
        "1.2": [
            ("categories", "/categories", False),
            ("categories", "/categories/sweep-cat", True),
            ("categories", f"/classes/{cid}/categories", False),
            ("lineItems", "/lineItems", False),
            ("lineItems", "/lineItems/sweep-li", True),
            ("lineItems", f"/classes/{cid}/lineItems", False),
            ("lineItems", f"/schools/{school}/lineItems", False),
            ("results", "/results", False),
            ("results", "/results/sweep-r", True),
            ("results", f"/classes/{cid}/results", False),
            ("results", f"/classes/{cid}/lineItems/sweep-li/results", False),
            ("results", f"/classes/{cid}/students/{students[0]}/results", False),
            ("results", "/lineItems/sweep-li/results", False),
            ("scoreScales", "/scoreScales", False),
            ("scoreScales", "/scoreScales/sweep-ss", True),
            ("scoreScales", f"/classes/{cid}/scoreScales", False),
            ("scoreScales", f"/schools/{school}/scoreScales", False),
        ],
        "1.1": [
            ("categories", "/categories", False),
            ("categories", "/categories/sweep-cat", True),
            ("lineItems", "/lineItems", False),
            ("lineItems", "/lineItems/sweep-li", True),
            ("lineItems", f"/classes/{cid}/lineItems", False),
            ("lineItems", f"/classes/{cid}/lineitems", False),
            ("results", "/results", False),
            ("results", "/results/sweep-r", True),
            ("results", f"/classes/{cid}/results", False),
            ("results", f"/classes/{cid}/lineItems/sweep-li/results", False),
            ("results", f"/classes/{cid}/students/{students[0]}/results", False),
        ],
    }
    for version, checks in paths.items():
        base = GB12 if version == "1.2" else V11
        for key, path, single in checks:
            resp = served.get(base + path)
            assert resp.status_code == 200, (version, path, resp.text)
            body = resp.json()
            assert gradebook_errors(version, key, body, single=single) == [], (version, path)
            if not single:
                assert body[key], (version, path)  # something was checked
                assert int(resp.headers["X-Total-Count"]) >= len(body[key])
