"""Gradebook in import mode: what teachers enter in PowerTeacher Pro (categories, assignments,
scores) is read after each sync into the gradebook, served to apps as OneRoster objects, kept
unchanged when nothing changed, and marked deleted when the SIS drops it."""

from __future__ import annotations

from typing import Any

from gb_conformance import gradebook_errors
from gb_served import GB12, Served, district_config

from rostersync.config import validate_config
from rostersync.sync.events import read_events
from rostersync.sync.run import sync_config


def _sync(served: Served, **connector: Any) -> int:
    body = district_config(served.sim.url)
    body["sources"][0]["connector"].update(connector)
    outcome = sync_config(served.store, validate_config(body, "gb"), served.settings)
    assert outcome.status == "succeeded", outcome.to_dict()
    return outcome.run_id


def test_teachers_grades_are_read_into_the_gradebook(served: Served) -> None:
    cid, students = served.class_with_students()
    classes = served.roster["classes"]
    section = int(classes.filter(classes["sourcedId"] == cid)["sourceId"][0])
    enr = served.roster["enrollments"]
    lead = enr.filter((enr["classSourcedId"] == cid) & (enr["role"] == "teacher") & enr["primary"])[
        "userSourcedId"
    ][0]
    teacher = int(lead.split("-")[1])
    categories = served.sim_call("GET", "/ws/xte/teacher_category", users_dcid=teacher).json()
    test = next(c for c in categories if c["name"] == "Test")
    created = served.sim_call(
        "POST",
        "/ws/xte/section/assignment/",
        {
            "_assignmentsections": [
                {
                    "sectionsdcid": section,
                    "name": "Teacher's own test",
                    "duedate": "2026-12-03",
                    "scoretype": "POINTS",
                    "totalpointvalue": 40,
                    "_assignmentcategoryassociations": [
                        {"teachercategoryid": test["teachercategoryid"], "isprimary": True}
                    ],
                }
            ]
        },
        users_dcid=teacher,
    )
    assert created.status_code == 201, created.text
    ident = created.json()["_assignmentsections"][0]["assignmentsectionid"]
    dcids = [int(s.split("-")[1]) for s in students[:2]]
    scores = {
        "assignment_scores": [
            {
                "studentsdcid": dcids[0],
                "actualscoreentered": "35",
                "actualscorekind": "REAL_SCORE",
                "_assignmentsection": {"assignmentsectionid": ident},
            },
            {
                "studentsdcid": dcids[1],
                "actualscoreentered": "",
                "actualscorekind": "EXEMPT",
                "_assignmentsection": {"assignmentsectionid": ident},
            },
        ]
    }
    put = served.sim_call("PUT", "/ws/xte/score", scores, users_dcid=teacher)
    assert put.status_code == 200, put.text

    assert served.get(f"{GB12}/lineItems/ps-assignment-{ident}").status_code == 404  # not yet
    run = _sync(served, gradebook_import=True)
    item = served.get(f"{GB12}/lineItems/ps-assignment-{ident}")
    assert gradebook_errors("1.2", "lineItems", item.json(), single=True) == []
    got = item.json()["lineItem"]
    assert (got["title"], got["class"]["sourcedId"], got["resultValueMax"]) == (
        "Teacher's own test",
        cid,
        40,
    )
    assert got["category"]["sourcedId"] == f"ps-category-{test['teachercategoryid']}"
    category = served.get(f"{GB12}/categories/{got['category']['sourcedId']}").json()
    assert category["category"]["title"] == "Test"
    results = served.get(f"{GB12}/classes/{cid}/lineItems/ps-assignment-{ident}/results").json()
    assert gradebook_errors("1.2", "results", results, single=False) == []
    found = {r["student"]["sourcedId"]: r for r in results["results"]}
    assert found[students[0]]["score"] == 35
    assert found[students[1]]["scoreStatus"] == "exempt"
    events = [e for e in read_events(served.store.engine, run) if e.phase == "gradebook"]
    assert events[-1].data["created"] >= 3  # the category, the line item, two results

    modified = got["dateLastModified"]
    run = _sync(served, gradebook_import=True)
    again = served.get(f"{GB12}/lineItems/ps-assignment-{ident}").json()["lineItem"]
    assert again["dateLastModified"] == modified  # unchanged: not touched
    events = [e for e in read_events(served.store.engine, run) if e.phase == "gradebook"]
    assert (events[-1].data["created"], events[-1].data["updated"]) == (0, 0)

    gone = served.sim_call(
        "DELETE", f"/ws/xte/section/assignment/{ident}", users_dcid=teacher, force="true"
    )
    assert gone.status_code == 204
    _sync(served, gradebook_import=True)
    assert served.get(f"{GB12}/lineItems/ps-assignment-{ident}").status_code == 404
    deleted = served.get(f"{GB12}/lineItems", filter="status='tobedeleted'").json()["lineItems"]
    assert f"ps-assignment-{ident}" in {i["sourcedId"] for i in deleted}


def test_without_the_option_nothing_is_read(served: Served) -> None:
    run = _sync(served)
    assert [e for e in read_events(served.store.engine, run) if e.phase == "gradebook"] == []
