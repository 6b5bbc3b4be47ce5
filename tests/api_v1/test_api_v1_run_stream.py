"""A run's events as Server-Sent Events, followed live from a real sync of the simulator."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from api_helpers import Api
from sse_helpers import Received, read_stream

from rostersync.admin.secrets import SecretStore
from rostersync.simulators.powerschool import DEFAULT_CLIENT_SECRET, RunningSimulator
from support.configs import powerschool_config


def test_a_run_is_followed_live_until_it_settles_and_can_be_resumed(
    api: Api, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = api.store.create_district("Streaming")
    SecretStore(api.store, api.settings).put(d.id, "ps", DEFAULT_CLIENT_SECRET, actor="cli:root")
    token = api.account("ada", "district_admin", [d.id])
    admin = api.client(token)
    body = powerschool_config(sim.url, monkeypatch, district=d.name, attribute_mapping=None)
    body["sources"][0]["delivery"]["client_secret"] = "store:ps"
    assert admin.put(f"/districts/{d.slug}/config", json=body).status_code == 200

    started = admin.post(f"/districts/{d.slug}/runs", json={})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    stream = f"/districts/{d.slug}/runs/{run_id}/stream"
    live: list[Received] = []
    follower = threading.Thread(target=lambda: live.extend(read_stream(admin, stream)))
    follower.start()
    follower.join(120)
    assert not follower.is_alive(), "the stream did not end when the run ended"

    run = api.wait_for_run(token, d.slug, run_id)
    assert run["status"] == "succeeded", run
    *events, end = live
    assert end.event == "end"
    assert end.data == {"status": "succeeded"}
    assert {e.event for e in events} == {"run_event"}
    # Every stored event, in order, once: the stream is the run's event log as it grew.
    stored = admin.get(f"/districts/{d.slug}/runs/{run_id}/events").json()
    assert [e.data for e in events] == stored
    ids = [int(e.id or 0) for e in events]
    assert ids == sorted(set(ids))
    assert events[-1].data["kind"] == "decision"
    # How long each event took to arrive, from its stored emission time (reported, not
    # asserted: the machine is shared; bench/manage_api.py measures it).
    delays = [e.arrived - datetime.fromisoformat(e.data["at"]).timestamp() for e in events]
    assert all(d > -1 for d in delays)  # arrived after it was emitted (clock granularity)

    # A reconnecting client resumes after the last id it saw; a settled run ends at once.
    resumed = read_stream(admin, stream, headers={"Last-Event-ID": events[1].id or ""})
    assert [e.data for e in resumed[:-1]] == stored[2:]
    assert resumed[-1].event == "end"
    tail = read_stream(admin, stream + f"?after={ids[-1]}")
    assert [e.event for e in tail] == ["end"]


def test_the_stream_is_scoped_like_every_other_read(api: Api) -> None:
    a, b = api.store.create_district("Own"), api.store.create_district("Other")
    admin = api.client(api.account("ada", "district_admin", [a.id]))
    assert admin.get(f"/districts/{b.slug}/runs/1/stream").status_code == 404
    missing = admin.get(f"/districts/{a.slug}/runs/1/stream")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Run 1 does not exist"
    assert api.client(None).get(f"/districts/{a.slug}/runs/1/stream").status_code == 401
    bad = admin.get(f"/districts/{a.slug}/runs/1/stream", params={"after": -1})
    assert bad.status_code == 422
