"""2-way sync: what apps wrote into the gradebook is written back to the PowerSchool simulator's
PowerTeacher Pro gradebook through the XTE endpoints — once, idempotently, with a teacher's
edit in PowerSchool winning and reported, and never in import mode."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from gb_served import GB12, Served, district_config

from rostersync.config import DistrictConfig, validate_config
from rostersync.connectors.base import ConnectionReport
from rostersync.connectors.powerschool.connector import ExtractPlan, PowerSchoolConnector
from rostersync.connectors.powerschool.plugin import plugin_xml
from rostersync.errors import ConfigurationError
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_SECRET,
    SimulatorConfig,
    run_simulator,
)
from rostersync.simulators.powerschool.plugin import parse_plugin_xml
from rostersync.store.schema import gradebook_writeback_links, gradebook_writeback_log
from rostersync.sync.events import read_events
from rostersync.sync.run import sync_config
from rostersync.sync.writeback import write_back


def _config(served: Served, mode: str = "two_way") -> DistrictConfig:
    body = district_config(served.sim.url)
    body["sources"][0]["sync_mode"] = mode
    return validate_config(body, "gradebook district")


async def _tested(connector: PowerSchoolConnector, http: httpx.AsyncClient) -> ConnectionReport:
    try:
        return await connector.test_connection()
    finally:
        await http.aclose()


def _ps_scores(served: Served, assignment: int) -> dict[int, str]:
    return {st: value for (a, st), value in served.ps_gradebook()[1].items() if a == assignment}


@pytest.fixture(scope="module")
def graded(served: Served) -> dict[str, Any]:
    """A line item of the largest class with a score for each of its students."""
    cid, students = served.class_with_students()
    assert served.put(
        f"{GB12}/categories/wb-quiz", {"category": {"title": "Quiz"}}
    ).status_code in (200, 201)
    item = {
        "title": "Unit 3 quiz",
        "assignDate": "2026-12-01T08:00:00Z",
        "dueDate": "2026-12-04T08:00:00Z",
        "class": {"sourcedId": cid},
        "category": {"sourcedId": "wb-quiz"},
        "resultValueMax": 20,
    }
    assert served.put(f"{GB12}/lineItems/wb-li", {"lineItem": item}).status_code == 201
    for n, student in enumerate(students):
        result = {
            "lineItem": {"sourcedId": "wb-li"},
            "student": {"sourcedId": student},
            "scoreStatus": "fully graded",
            "score": 10 + n % 10,
            "scoreDate": "2026-12-04",
        }
        assert served.put(f"{GB12}/results/wb-r{n}", {"result": result}).status_code == 201
    return {"cid": cid, "students": students, "item": item}


def test_import_mode_never_writes_back(served: Served, graded: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as refused:
        write_back(served.store, _config(served, "import"), served.settings)
    assert "sync_mode" in str(refused.value)
    assert refused.value.setting == "sources[].sync_mode"
    assert served.ps_gradebook() == ({}, {})


def test_two_way_writes_scores_once_and_a_rerun_changes_nothing(
    served: Served, graded: dict[str, Any]
) -> None:
    config = _config(served)
    students = graded["students"]
    report = write_back(served.store, config, served.settings)
    assert (report.assignments_created, report.scores_written) == (1, len(students)), report
    assert report.refused == []
    assert report.conflicts == []
    assignments, _ = served.ps_gradebook()
    (assignment,) = assignments.values()
    section_dcid = int(
        served.roster["classes"].filter(served.roster["classes"]["sourcedId"] == graded["cid"])[
            "sourceId"
        ][0]
    )
    assert assignment["sectionsdcid"] == section_dcid
    assert assignment["name"] == "Unit 3 quiz"
    assert assignment["totalpointvalue"] == 20
    (assoc,) = assignment["_assignmentcategoryassociations"]
    teacher = int(str(assoc["teachercategoryid"])[:-1])
    categories = served.sim_call("GET", "/ws/xte/teacher_category", users_dcid=teacher).json()
    quiz = next(c for c in categories if c["name"] == "Quiz")
    assert assoc["teachercategoryid"] == quiz["teachercategoryid"]  # the teacher's own "Quiz"
    dcid = {s: int(s.split("-")[1]) for s in students}
    expected = {dcid[s]: str(10 + n % 10) for n, s in enumerate(students)}
    ident = assignment["assignmentsectionid"]
    assert _ps_scores(served, ident) == expected
    before = served.ps_gradebook()
    again = write_back(served.store, config, served.settings)
    assert (again.assignments_created, again.assignments_updated, again.scores_written) == (0, 0, 0)
    assert again.unchanged == 1 + len(students)
    assert served.ps_gradebook() == before
    with served.store.engine.connect() as conn:
        logged = conn.execute(
            sa.select(sa.func.count()).where(gradebook_writeback_log.c.outcome == "written")
        ).scalar()
    assert logged == 1 + len(students)


def test_a_lost_create_answer_is_adopted_not_duplicated(
    served: Served, graded: dict[str, Any]
) -> None:
    config = _config(served)
    write_back(served.store, config, served.settings)
    links = gradebook_writeback_links.c
    with served.store.engine.begin() as conn:  # as if the POST's answer never arrived
        conn.execute(gradebook_writeback_links.delete().where(links.kind == "lineItems"))
    report = write_back(served.store, config, served.settings)
    assert report.assignments_created == 1  # adopted
    assert len(served.ps_gradebook()[0]) == 1


def test_changes_are_written_and_a_teacher_edit_wins(
    served: Served, graded: dict[str, Any]
) -> None:
    config = _config(served)
    write_back(served.store, config, served.settings)
    students = graded["students"]
    (ident,) = served.ps_gradebook()[0]
    # the app changes one score: only that one is written
    changed = {
        "lineItem": {"sourcedId": "wb-li"},
        "student": {"sourcedId": students[0]},
        "scoreStatus": "fully graded",
        "score": 19.5,
        "scoreDate": "2026-12-05",
    }
    assert served.put(f"{GB12}/results/wb-r0", {"result": changed}).status_code == 200
    report = write_back(served.store, config, served.settings)
    assert report.scores_written == 1
    dcid = int(students[0].split("-")[1])
    assert _ps_scores(served, ident)[dcid] == "19.5"
    # a teacher corrects another score in PowerTeacher Pro; the app then changes it too
    teacher = int(served.sis["users"]["dcid"][0])
    other = int(students[1].split("-")[1])
    edit = {
        "assignment_scores": [
            {
                "studentsdcid": other,
                "actualscoreentered": "7",
                "actualscorekind": "REAL_SCORE",
                "_assignmentsection": {"assignmentsectionid": ident},
            }
        ]
    }
    resp = served.sim_call("PUT", "/ws/xte/score", edit, users_dcid=teacher)
    assert resp.status_code == 200, resp.text
    changed = {**changed, "student": {"sourcedId": students[1]}, "score": 3}
    assert served.put(f"{GB12}/results/wb-r1", {"result": changed}).status_code == 200
    report = write_back(served.store, config, served.settings)
    assert report.scores_written == 0
    assert len(report.conflicts) == 1
    assert "wb-r1" in report.conflicts[0]
    assert _ps_scores(served, ident)[other] == "7"
    assert served.get(f"{GB12}/results/wb-r1").json()["result"]["score"] == 7
    assert write_back(served.store, config, served.settings).conflicts == []  # reported once


def test_a_deleted_line_item_is_deleted_in_powerschool(
    served: Served, graded: dict[str, Any]
) -> None:
    config = _config(served)
    write_back(served.store, config, served.settings)
    assert served.call("DELETE", f"{GB12}/lineItems/wb-li").status_code == 204
    report = write_back(served.store, config, served.settings)
    assert report.assignments_deleted == 1, report
    assert served.ps_gradebook() == ({}, {})


def test_two_way_is_refused_until_the_plugin_grants_grade_sync(
    served: Served, graded: dict[str, Any]
) -> None:
    """Against a PowerSchool whose installed plugin is the one generated for import, a two_way
    sync is refused before it reads anything, naming the setting and the grants; the plugin
    generated for two_way grants them and the same sync runs and writes back."""
    students = graded["students"]
    item = {**graded["item"], "title": "Unit 4 quiz"}
    assert served.put(f"{GB12}/lineItems/wb-li2", {"lineItem": item}).status_code == 201
    result = {
        "lineItem": {"sourcedId": "wb-li2"},
        "student": {"sourcedId": students[0]},
        "scoreStatus": "fully graded",
        "score": 17,
        "scoreDate": "2026-12-04",
    }
    assert served.put(f"{GB12}/results/wb-r2-0", {"result": result}).status_code == 201
    for mode, refused in (("import", True), ("two_way", False)):
        plan = ExtractPlan.from_source(_config(served, mode).sources[0])
        plugin = parse_plugin_xml(plugin_xml(plan))
        with run_simulator(served.sis, SimulatorConfig(plugin=plugin)) as other:
            body = district_config(other.url)
            body["sources"][0]["sync_mode"] = "two_way"
            config = validate_config(body, "gradebook district")
            # the wizard's and `rostersync powerschool test`'s check says so too
            connector, http = PowerSchoolConnector.from_source(
                config.sources[0], DEFAULT_CLIENT_SECRET
            )
            checked = asyncio.run(_tested(connector, http))
            assert checked.ok is not refused, checked
            if refused:
                assert "ASSIGNMENTSCORE (FullAccess)" in checked.missing_fields
                with pytest.raises(ConfigurationError) as found:
                    sync_config(served.store, config, served.settings)
                assert found.value.setting == "sources[0].sync_mode"
                assert "ASSIGNMENTSCORE" in str(found.value)
                assert "rostersync powerschool plugin" in (found.value.hint or "")
            else:
                outcome = sync_config(served.store, config, served.settings)
                assert outcome.status == "succeeded", outcome.to_dict()
                events = read_events(served.store.engine, outcome.run_id)
                wrote = [e for e in events if e.phase == "writeback" and e.kind == "progress"]
                assert wrote, [e.message for e in events]
                # a fresh PowerSchool: at least this test's line item and score are written
                assert wrote[0].data["assignments_created"] >= 1
                assert wrote[0].data["scores_written"] >= 1
                warned = [
                    e.message for e in events if e.phase == "writeback" and e.kind != "progress"
                ]
                assert warned == []
