"""The management plane's scenario through the API alone, against the PowerSchool simulator:
an operator creates a district admin; the admin configures the district, stores its secret,
tests the connection, runs a sync, reviews and approves the held change set, rolls back,
creates an app's client, and reads every step back in the audit log."""

from __future__ import annotations

import csv
import io

import pytest
from api_helpers import Api

from rostersync.simulators.powerschool import DEFAULT_CLIENT_SECRET, RunningSimulator
from support.configs import powerschool_config

DISTRICT = "Api Valley Schools"


def test_a_district_admin_does_everything_through_the_api(
    api: Api, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    operator = api.client(api.account("root@example.org", "operator"))
    created = operator.post("/districts", json={"name": DISTRICT})
    assert created.status_code == 201, created.text
    district_id = created.json()["id"]
    # The operator creates the district admin (through the admin package, as the CLI does).
    admin_token = api.account("alice@example.org", "district_admin", [district_id])
    admin = api.client(admin_token)
    slug = created.json()["slug"]

    assert admin.get("/me").json() == {
        "name": "alice@example.org",
        "role": "district_admin",
        "districts": [district_id],
    }
    # Configure: a PowerSchool source whose secret lives in the secret store; every sync held.
    body = powerschool_config(
        sim.url, monkeypatch, district=DISTRICT, attribute_mapping=None, preview=True
    )
    body["sources"][0]["delivery"]["client_secret"] = "store:ps"
    put = admin.put(f"/districts/{slug}/config", json=body)
    assert put.status_code == 200, put.text
    assert put.json()["version"] == 1
    assert put.json()["created_by"] == "api:alice@example.org"

    secret = admin.put(f"/districts/{slug}/secrets/ps", json={"value": DEFAULT_CLIENT_SECRET})
    assert secret.status_code == 200, secret.text
    listed = admin.get(f"/districts/{slug}/secrets")
    assert [s["name"] for s in listed.json()] == ["ps"]
    assert DEFAULT_CLIENT_SECRET not in listed.text
    tested = admin.post(f"/districts/{slug}/config/test")
    assert tested.status_code == 200, tested.text
    assert tested.json()["ok"] is True, tested.json()
    assert tested.json()["school_count"] > 0
    assert DEFAULT_CLIENT_SECRET not in tested.text

    # Run a sync in the background; it is held for review (preview).
    started = admin.post(f"/districts/{slug}/runs", json={})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    run = api.wait_for_run(admin_token, slug, run_id)
    assert run["status"] == "held", run
    events = admin.get(f"/districts/{slug}/runs/{run_id}/events").json()
    assert [e["kind"] for e in events][-1] == "decision"

    changes = admin.get(f"/districts/{slug}/changes/{run_id}")
    assert changes.status_code == 200, changes.text
    assert changes.json()["total"] > 0
    assert changes.json()["entities"]["users"]["added"] > 0
    added = changes.json()["entities"]["users"]["added"]
    page = admin.get(
        f"/districts/{slug}/changes/{run_id}/users", params={"kind": "added", "limit": 7}
    ).json()
    assert page["total"] == added
    assert len(page["sourced_ids"]) == min(7, added)
    rest = admin.get(
        f"/districts/{slug}/changes/{run_id}/users", params={"offset": 7, "limit": 1000}
    ).json()
    assert len(set(page["sourced_ids"]) | set(rest["sourced_ids"])) == added
    missing = admin.get(f"/districts/{slug}/changes/{run_id}/unicorns")
    assert missing.status_code == 404
    approved = admin.post(f"/districts/{slug}/changes/{run_id}/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["version"] == 1
    again = admin.post(f"/districts/{slug}/changes/{run_id}/approve")
    assert again.status_code == 409
    assert "not held" in again.json()["error"]["message"]

    rolled = admin.post(f"/districts/{slug}/versions/1/rollback")
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["version"] == 2
    versions = admin.get(f"/districts/{slug}/versions").json()
    assert [v["version"] for v in versions] == [2, 1]

    client = admin.post(
        f"/districts/{slug}/clients",
        json={"name": "Gradebook", "scopes": ["roster-core.readonly"]},
    )
    assert client.status_code == 201, client.text
    issued = client.json()
    assert issued["client_secret"]
    assert issued["sensitive"] == []
    shown = admin.get(f"/districts/{slug}/clients/Gradebook")
    assert shown.status_code == 200
    assert "client_secret" not in shown.json()

    entries = admin.get("/audit", params={"district": slug}).json()
    mine = {e["action"] for e in entries if e["actor"] == "api:alice@example.org"}
    assert {
        "config.put",
        "secret.set",
        "run.start",
        "approve_run",
        "roster.rollback",
        "api_client.create",
    } <= mine, entries
    assert DEFAULT_CLIENT_SECRET not in str(entries)
    exported = admin.get("/audit.csv", params={"district": slug})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["action"] for r in rows} >= mine
    # The operator's creation of the district is in the operator's view of the log.
    ops = operator.get("/audit", params={"district": district_id}).json()
    assert any(
        e["action"] == "district.create" and e["actor"] == "api:root@example.org" for e in ops
    )
