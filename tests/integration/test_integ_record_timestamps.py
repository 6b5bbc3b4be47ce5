"""Incremental REST consumers after real syncs: ``filter=dateLastModified>'<previous sync>'``
returns exactly the records the sync changed and deleted (the deleted ones as ``tobedeleted``),
on SQLite and PostgreSQL; a deleted record is readable by sourcedId until its retention ends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from integ_helpers import DISTRICT, make_config

from rostersync.export.oneroster import query as query_module
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import RunningSimulator
from rostersync.simulators.threaded import serve_in_thread
from rostersync.store import Store
from rostersync.sync import sync_config
from rostersync.sync.run import save_config
from rostersync.web import create_app

V12 = "/ims/oneroster/rostering/v1p2"
SCOPES = ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly")
#: Canonical entity → its OneRoster 1.2 collection (and the JSON key of that collection).
COLLECTIONS = {
    "orgs": "orgs",
    "academicSessions": "academicSessions",
    "courses": "courses",
    "classes": "classes",
    "users": "users",
    "enrollments": "enrollments",
    "demographics": "demographics",
}


def _iso(value: datetime) -> str:
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def _walk(http: httpx.Client, token: str, collection: str, **params: str) -> list[dict[str, Any]]:
    """Every object of a collection, page by page."""
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        resp = http.get(
            f"{V12}/{collection}",
            params={**params, "limit": "500", "offset": str(offset)},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert resp.status_code == 200, resp.text
        page = resp.json()[collection]
        out += page
        offset += 500
        if offset >= int(resp.headers["X-Total-Count"]):
            return out


def test_polling_date_last_modified_returns_exactly_the_changed_and_deleted_records(
    sim: RunningSimulator,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings()
    # Absence from PowerSchool's snapshot deletes (bulk_upload only matters for partial sources).
    config = make_config(sim.url, monkeypatch, bulk_upload=False)
    first = sync_config(store, config, settings)
    district = store.get_district(DISTRICT).id
    previous_sync = store.get_version(district, first.version).created_at

    sim.set_day(1)
    second = sync_config(store, config, settings)
    assert (second.status, second.version) == ("succeeded", 2)
    this_sync = store.get_version(district, 2).created_at
    diffs = store.diff_versions(district, 1, 2)
    deleted = {name: set(diffs[name].deleted) for name in COLLECTIONS}
    changed = {name: set(diffs[name].added) | set(diffs[name].updated) for name in COLLECTIONS}
    assert deleted["users"]
    assert changed["users"]
    # The sharing rules show demographics only of current users (a consumer learns of a
    # withdrawn student's deletion from /users).
    current_users = set(store.read_version(district)["users"]["sourcedId"])
    deleted["demographics"] &= current_users

    clients = ApiClients(store.engine, settings.get_secret_key())
    issued = clients.create(district, "poller", SCOPES, SharingRules.everything())
    app = create_app(settings, store)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        token = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(issued.client.client_id, issued.client_secret),
        ).json()["access_token"]
        since = f"dateLastModified>'{_iso(previous_sync)}'"
        for name, collection in COLLECTIONS.items():
            got = {o["sourcedId"]: o for o in _walk(http, token, collection, filter=since)}
            assert set(got) == changed[name] | deleted[name], name
            for sid, obj in got.items():
                assert obj["dateLastModified"] == _iso(this_sync), (name, sid)
                want = "tobedeleted" if sid in deleted[name] else obj["status"]
                assert obj["status"] == want
            assert all(got[sid]["status"] == "tobedeleted" for sid in deleted[name])
            # Polling again from this sync's time: nothing new.
            after = _walk(http, token, collection, filter=f"dateLastModified>'{_iso(this_sync)}'")
            assert after == [], name

        # Unfiltered collections list the tombstones too; by sourcedId they answer 200.
        gone = sorted(deleted["users"])[0]
        everyone = {o["sourcedId"] for o in _walk(http, token, "users")}
        assert deleted["users"] <= everyone
        headers = {"Authorization": f"Bearer {token}"}
        one = http.get(f"{V12}/users/{gone}", headers=headers)
        assert one.status_code == 200, one.text
        assert one.json()["user"]["status"] == "tobedeleted"
        assert one.json()["user"]["dateLastModified"] == _iso(this_sync)

        # Past the district's retention the tombstone answers 404 and leaves the collections.
        monkeypatch.setattr(query_module, "_RETENTION_TTL_S", 0.0)
        save_config(store, district, config.model_copy(update={"deletion_retention_days": 0}), "t")
        assert http.get(f"{V12}/users/{gone}", headers=headers).status_code == 404
        assert gone not in {o["sourcedId"] for o in _walk(http, token, "users")}


def test_a_rollback_is_seen_by_pollers(
    sim: RunningSimulator, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restore stamps what it brings back with the restore's time, and what it removes
    becomes a tombstone: a poller learns about the rollback."""
    settings = load_settings()
    config = make_config(sim.url, monkeypatch, bulk_upload=False)
    sync_config(store, config, settings)
    district = store.get_district(DISTRICT).id
    sim.set_day(1)
    sync_config(store, config, settings)
    undone = store.diff_versions(district, 1, 2)["users"]
    restored = store.restore(district, 1)
    users = store.read_version(district)["users"]
    back = users.filter(users["sourcedId"].is_in(undone.deleted.implode()))
    assert back.height == undone.deleted.len() > 0
    assert set(back["dateLastModified"]) == {restored.created_at}
    kept = users.filter(~users["sourcedId"].is_in(undone.updated.implode()))
    assert restored.created_at not in set(
        kept.filter(~kept["sourcedId"].is_in(undone.deleted.implode()))["dateLastModified"]
    )
