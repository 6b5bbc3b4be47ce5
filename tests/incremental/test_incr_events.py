"""The events feed for apps, over HTTP against the real app: what each published version
created, updated and deleted, in publish order, resumable by cursor, filtered by the app's
sharing rules exactly as OneRoster filters, with a rollback's events undoing; bad input refused
with a clear error."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from rostersync.config import validate_config
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import SimulatorConfig, generate_district, run_simulator
from rostersync.simulators.threaded import serve_in_thread
from rostersync.store import Store
from rostersync.store.schema import roster_event_marks
from rostersync.sync.run import sync_config
from rostersync.sync.wiring import decide_for
from rostersync.web import create_app
from support.configs import powerschool_config

V12 = "/ims/oneroster/rostering/v1p2"
ALL = ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly")
RESOURCE = {"users": "users", "classes": "classes", "enrollments": "enrollments", "orgs": "orgs"}


@dataclass
class Feed:
    http: httpx.Client
    store: Store
    district_id: int
    secrets: dict[str, tuple[str, str]]

    def token(self, name: str) -> str:
        client_id, secret = self.secrets[name]
        answer = self.http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def page(self, name: str, **params: Any) -> httpx.Response:
        return self.http.get(
            "/api/v1/events",
            params=params,
            headers={"Authorization": f"Bearer {self.token(name)}"},
        )

    def all(self, name: str, after: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        cursor = after
        while True:
            params: dict[str, Any] = {"limit": limit}
            if cursor is not None:
                params["after"] = cursor
            body = self.page(name, **params).json()
            events += body["events"]
            cursor = body["next_cursor"]
            if not body["has_more"]:
                return events


@pytest.fixture
def feed(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Feed]:
    with run_simulator(generate_district("tiny", seed=41), SimulatorConfig()) as sim:
        body = powerschool_config(sim.url, monkeypatch, district="Events ISD")
        body["hold_threshold"] = {"delete_percent": None, "update_percent": None}
        config = validate_config(body, "test config")
        settings = load_settings()
        decide = decide_for(config, settings, today=date(2025, 8, 26), notify=False)
        sync_config(store, config, settings, decide=decide)
        sim.set_day(2)
        sync_config(store, config, settings, decide=decide)
    district_id = store.get_district("Events ISD").id
    clients = ApiClients(store.engine, settings.get_secret_key())
    orgs = store.read_version(district_id)["orgs"]
    first_school = sorted(orgs.filter(orgs["type"] == "school")["sourcedId"].to_list())[0]
    grants = {
        "full": SharingRules.everything(),
        "north": SharingRules.build(
            schools=[first_school], entities=["classes", "enrollments", "students"]
        ),
    }
    secrets = {}
    for name, rules in grants.items():
        issued = clients.create(district_id, name, ALL, rules)
        secrets[name] = (issued.client.client_id, issued.client_secret)
    with (
        serve_in_thread(create_app(settings, store=store)) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        yield Feed(http, store, district_id, secrets)


def _by_action(events: list[dict[str, Any]], version: int) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {"created": set(), "updated": set(), "deleted": set()}
    for e in events:
        if e["version"] == version:
            out[e["action"]].add((e["entity"], e["sourcedId"]))
    return out


def _diff(store: Store, district_id: int, a: int, b: int) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {"created": set(), "updated": set(), "deleted": set()}
    for entity, d in store.diff_versions(district_id, a, b).items():
        out["created"] |= {(entity, s) for s in d.added.to_list()}
        out["updated"] |= {(entity, s) for s in d.updated.to_list()}
        out["deleted"] |= {(entity, s) for s in d.deleted.to_list()}
    return out


def test_the_feed_lists_what_each_version_changed_in_publish_order(feed: Feed) -> None:
    events = feed.all("full")
    cursors = [int(e["cursor"]) for e in events]
    assert cursors == sorted(cursors)
    assert [e["version"] for e in events] == sorted(e["version"] for e in events)
    first = _by_action(events, 1)
    v1 = feed.store.read_version(feed.district_id, 1)
    assert first["created"] == {(n, s) for n, t in v1.items() for s in t["sourcedId"].to_list()}
    assert _by_action(events, 2) == _diff(feed.store, feed.district_id, 1, 2)
    assert _by_action(events, 2)["updated"]  # the days changed things
    # Small pages resume by cursor and give the same sequence.
    assert feed.all("full", limit=7) == events
    middle = events[len(events) // 2]["cursor"]
    assert feed.all("full", after=middle) == events[len(events) // 2 + 1 :]
    # Caught up: an empty page that keeps the cursor.
    last = feed.page("full", after=events[-1]["cursor"]).json()
    assert last["events"] == []
    assert last["next_cursor"] == events[-1]["cursor"]
    assert last["has_more"] is False


def test_a_rollback_emits_the_events_that_undo(feed: Feed) -> None:
    before = feed.all("full")
    feed.store.restore(feed.district_id, 1)
    undo = _by_action(feed.all("full", after=before[-1]["cursor"]), 3)
    done = _by_action(before, 2)
    assert undo["deleted"] == done["created"]
    assert undo["created"] == done["deleted"]
    assert undo["updated"] == done["updated"]


def test_sharing_rules_apply_as_on_oneroster(feed: Feed) -> None:
    everything = feed.all("full")
    north = feed.all("north")
    assert north
    assert {e["cursor"] for e in north} < {e["cursor"] for e in everything}
    assert {e["entity"] for e in north} <= {"classes", "enrollments", "users"}
    seen = {(e["entity"], e["sourcedId"]) for e in north}
    headers = {"Authorization": f"Bearer {feed.token('north')}"}
    current = [e for e in everything if e["version"] == 2 and e["action"] != "deleted"]
    checked = 0
    for e in current:
        if e["entity"] not in RESOURCE:
            continue
        answer = feed.http.get(f"{V12}/{RESOURCE[e['entity']]}/{e['sourcedId']}", headers=headers)
        # An event this app is given names a record it can read; one it is not, one it cannot.
        assert (answer.status_code == 200) == ((e["entity"], e["sourcedId"]) in seen), e
        checked += 1
    assert checked > 10


def test_bad_input_is_refused_with_a_clear_error(feed: Feed) -> None:
    bad = feed.page("full", after="yesterday")
    assert bad.status_code == 422
    assert "after" in bad.json()["error"]["message"]
    assert feed.page("full", limit=0).status_code == 422
    assert feed.page("full", limit=5000).status_code == 422
    anonymous = feed.http.get("/api/v1/events")
    assert anonymous.status_code == 401
    assert "/oauth/token" in anonymous.json()["error"]["hint"]
    forged = feed.http.get("/api/v1/events", headers={"Authorization": "Bearer nope.nope"})
    assert forged.status_code == 401
    token = feed.token("north")
    ApiClients(feed.store.engine, load_settings().get_secret_key()).revoke(feed.secrets["north"][0])
    revoked = feed.http.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401


def test_a_cursor_older_than_the_events_kept_is_refused(feed: Feed) -> None:
    events = feed.all("full")
    with feed.store.engine.begin() as conn:  # as if the retention period had dropped events
        conn.execute(
            roster_event_marks.update()
            .where(roster_event_marks.c.district_id == feed.district_id)
            .values(pruned_below=int(events[10]["cursor"]))
        )
    gone = feed.page("full", after=events[3]["cursor"])
    assert gone.status_code == 410
    assert "read the roster again" in gone.json()["error"]["hint"]
    assert feed.page("full", after=events[10]["cursor"]).status_code == 200
