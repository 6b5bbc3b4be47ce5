"""Issue 19's acceptance, end to end: a 2-way district synced by the CLI, `rostersync serve`
in its own process, an app with gradebook scopes running the vendor acceptance cycle over
HTTP, then the next sync writes the same scores into the simulator's PowerTeacher Pro
gradebook, and a rerun changes nothing there. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
import yaml
from gb_served import GB12, SCOPE12, SECRET_ENV, district_config
from typer.testing import CliRunner

from rostersync.cli import app as cli
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.store import open_store
from support.servers import free_port, start_serve, wait_serving

R12 = "/ims/oneroster/rostering/v1p2"
SCOPES = (
    "roster-core.readonly",
    "roster.readonly",
    "gradebook.readonly",
    "gradebook.createput",
    "gradebook.delete",
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The store the CLI and `rostersync serve` share: SQLite in the data directory, or a fresh
    PostgreSQL schema."""
    if request.param == "postgres":
        monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", request.getfixturevalue("pg_url"))
    return str(request.param)


def _ps(sim: RunningSimulator, method: str, path: str, **params: Any) -> Any:
    with httpx.Client(base_url=sim.url, timeout=30) as ps:
        token = ps.post(
            "/oauth/access_token",
            data={"grant_type": "client_credentials"},
            auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        ).json()["access_token"]
        resp = ps.request(method, path, params=params, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200, resp.text
        return resp.json()


def _ps_gradebook(sim: RunningSimulator) -> tuple[list[dict[str, Any]], dict[tuple[int, int], str]]:
    teacher = int(sim.district["users"]["dcid"][0])
    assignments = [
        a
        for w in _ps(sim, "GET", "/ws/xte/section/assignment/", users_dcid=teacher)
        for a in w["_assignmentsections"]
    ]
    scores = _ps(sim, "GET", "/ws/xte/score", users_dcid=teacher)["assignment_scores"]
    return assignments, {
        (s["_assignmentsection"]["assignmentsectionid"], s["studentsdcid"]): s["actualscoreentered"]
        for s in scores
    }


def _sync(config: Path) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["sync", "run", "--config", str(config), "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_acceptance_cycle_then_write_back(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, DEFAULT_CLIENT_SECRET)
    district = generate_district("tiny", seed=31)
    with run_simulator(district, SimulatorConfig()) as sim:
        body = district_config(sim.url)
        body["sources"][0]["sync_mode"] = "two_way"
        config = tmp_path / "district.yaml"
        config.write_text(yaml.safe_dump(body), encoding="utf-8")
        first = _sync(config)
        assert first["status"] == "succeeded", first
        settings = load_settings()
        store = open_store(settings)
        district_id = store.get_district(body["district"]).id
        issued = ApiClients(store.engine, settings.get_secret_key()).create(
            district_id, "lms", SCOPES, SharingRules.everything()
        )
        roster = store.read_version(district_id)
        store.dispose()
        enr = roster["enrollments"].filter(pl.col("role") == "student")
        cid = str(
            enr.group_by("classSourcedId")
            .len()
            .sort(["len", "classSourcedId"])["classSourcedId"][-1]
        )
        students = sorted(enr.filter(pl.col("classSourcedId") == cid)["userSourcedId"].to_list())[
            :3
        ]

        port = free_port()
        proc = start_serve(port)
        try:
            wait_serving(proc, port)
            scores = _cycle(
                f"http://127.0.0.1:{port}",
                issued.client.client_id,
                issued.client_secret,
                cid,
                students,
            )
        finally:
            proc.terminate()
            proc.wait(30)
            if proc.stderr:
                proc.stderr.close()

        assert _ps_gradebook(sim) == ([], {})  # nothing is written before the next sync
        second = _sync(config)
        assert second["status"] == "succeeded", second
        assignments, written = _ps_gradebook(sim)
        (assignment,) = assignments
        assert assignment["name"] == "Chapter 5 test (corrected)"
        ident = assignment["assignmentsectionid"]
        expected = {(ident, int(s.split("-")[1])): value for s, value in scores.items()}
        assert written == expected
        third = _sync(config)
        assert third["status"] == "succeeded", third
        assert _ps_gradebook(sim) == (assignments, written)


def _cycle(base: str, client_id: str, secret: str, cid: str, students: list[str]) -> dict[str, str]:
    """The vendor acceptance cycle over HTTP; the scores PowerSchool should end up with."""
    with httpx.Client(base_url=base, timeout=30) as http:
        scope = " ".join(SCOPE12 + s for s in SCOPES)
        token = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(client_id, secret),
        ).json()
        assert set(token["scope"].split()) == set(scope.split())  # gradebook scopes granted
        headers = {"Authorization": f"Bearer {token['access_token']}"}

        def call(method: str, path: str, body: Any = None, ok: int = 200) -> Any:
            resp = http.request(method, path, json=body, headers=headers)
            assert resp.status_code == ok, (method, path, resp.text)
            return resp.json() if resp.content else None

        klass = call("GET", f"{R12}/classes/{cid}")["class"]
        term = klass["terms"][0]["sourcedId"]
        periods = call("GET", f"{R12}/terms/{term}/gradingPeriods")["academicSessions"]
        period = periods[0]["sourcedId"] if periods else term
        call("PUT", f"{GB12}/categories/e2e-tests", {"category": {"title": "Test"}}, ok=201)
        assert call("GET", f"{GB12}/classes/{cid}/categories")["categories"] == []
        item = {
            "title": "Chapter 5 test",
            "assignDate": "2026-12-01T08:00:00Z",
            "dueDate": "2026-12-10T08:00:00Z",
            "class": {"sourcedId": cid},
            "school": {"sourcedId": klass["school"]["sourcedId"]},
            "category": {"sourcedId": "e2e-tests"},
            "gradingPeriod": {"sourcedId": period},
            "resultValueMin": 0,
            "resultValueMax": 50,
        }
        call("PUT", f"{GB12}/lineItems/e2e-li", {"lineItem": item}, ok=201)
        assert call("GET", f"{GB12}/lineItems/e2e-li")["lineItem"]["title"] == "Chapter 5 test"
        item["title"] = "Chapter 5 test (corrected)"
        call("PUT", f"{GB12}/lineItems/e2e-li", {"lineItem": item})
        outcomes = [
            {"scoreStatus": "fully graded", "score": 55},  # extra credit
            {"scoreStatus": "exempt"},
            {"scoreStatus": "fully graded", "score": 41},
        ]
        for n, (student, extra) in enumerate(zip(students, outcomes, strict=True)):
            result = {
                "lineItem": {"sourcedId": "e2e-li"},
                "student": {"sourcedId": student},
                "scoreDate": "2026-12-10",
                **extra,
            }
            call("PUT", f"{GB12}/results/e2e-r{n}", {"result": result}, ok=201)
        got = call("GET", f"{GB12}/classes/{cid}/lineItems/e2e-li/results")["results"]
        assert [(r["scoreStatus"], r.get("score")) for r in got] == [
            ("fully graded", 55),
            ("exempt", None),
            ("fully graded", 41),
        ]
        call("DELETE", f"{GB12}/results/e2e-r2", ok=204)
        call("GET", f"{GB12}/results/e2e-r2", ok=404)
    return {students[0]: "55", students[1]: ""}
