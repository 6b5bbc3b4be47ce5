"""The management API's twin of `rostersync matches`: link, list, unlink over real HTTP (the app
served by uvicorn, a district synced from the simulator), with its access rules and errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from rostersync.admin.accounts import Accounts
from rostersync.admin.tokens import Tokens
from rostersync.config import validate_config
from rostersync.settings import Settings
from rostersync.simulators.powerschool import SimulatorConfig, generate_district, run_simulator
from rostersync.store import Store, make_engine
from rostersync.sync import sync_config
from rostersync.web.app import create_app
from support.configs import powerschool_config

DISTRICT = "Springfield Public Schools"


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive()
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/api/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@dataclass
class World:
    url: str
    store: Store
    district_id: int
    keep: str
    other: str
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, token: str | None) -> httpx.Client:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        self.clients.append(httpx.Client(base_url=self.url, headers=headers, timeout=60))
        return self.clients[-1]

    def token(self, settings: Settings, name: str, role: str) -> str:
        accounts = Accounts(self.store, settings)
        accounts.create(
            name, role, "correct horse battery staple", actor="cli:root",
            districts_granted=[self.district_id],
        )  # fmt: skip
        token, _ = Tokens(self.store, accounts).create(name, "tests", days=1, actor="cli:root")
        return token


@pytest.fixture
def world(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[World, Settings]]:
    monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", store_url)
    settings = Settings(database_url=store_url)
    store = Store(make_engine(store_url))
    store.upgrade()
    district = generate_district("tiny", seed=2)
    twin, original = district.duplicates.row(0)
    with run_simulator(district, SimulatorConfig()) as sim:
        config = validate_config(powerschool_config(sim.url, monkeypatch), "api")
        outcome = sync_config(store, config, settings)
        with serve(create_app(settings, store)) as url:
            w = World(url, store, outcome.district_id, f"student-{original}", f"student-{twin}")
            try:
                yield w, settings
            finally:
                for client in w.clients:
                    client.close()
    store.dispose()


def test_link_list_unlink_over_http(world: tuple[World, Settings]) -> None:
    w, settings = world
    admin = w.client(w.token(settings, "adm", "district_admin"))
    base = f"/districts/{w.district_id}/matches"
    made = admin.post(base, json={"entity": "student", "keep": w.keep, "other": w.other})
    assert made.status_code == 201, made.text
    assert (made.json()["kind"], made.json()["to_id"]) == ("link", w.keep)
    listed = admin.get(base, params={"record": w.other})
    assert [m["id"] for m in listed.json()] == [made.json()["id"]]
    split = admin.post(
        base + "/unlink",
        json={"entity": "users", "first": w.keep, "second": w.other, "note": "twins"},
    )
    assert split.status_code == 200, split.text
    assert split.json()["kind"] == "apart"
    everything = admin.get(base, params={"include_reversed": "true"}).json()
    assert sorted(m["kind"] for m in everything) == ["apart", "link"]
    audit = [e.action for e in w.store.list_audit(w.district_id)][:2]
    assert audit == ["matches.unlink", "matches.link"]


def test_errors_name_the_problem(world: tuple[World, Settings]) -> None:
    w, settings = world
    admin = w.client(w.token(settings, "adm", "district_admin"))
    viewer = w.client(w.token(settings, "view", "viewer"))
    base = f"/districts/{w.district_id}/matches"
    body = {"entity": "student", "keep": w.keep, "other": w.other}

    assert w.client(None).get(base).status_code == 401
    assert viewer.get(base).status_code == 200
    assert viewer.post(base, json=body).status_code == 403
    assert admin.get("/districts/4242/matches").status_code == 404

    unknown = admin.post(base, json={**body, "other": "student-0"})
    assert unknown.status_code == 422
    assert "no record 'student-0'" in unknown.json()["error"]["message"]
    pupil = admin.post(base, json={**body, "entity": "pupil"})
    assert "unknown entity 'pupil'" in pupil.json()["error"]["message"]
    extra = admin.post(base, json={**body, "force": True})
    assert extra.status_code == 422
    not_matched = admin.post(
        base + "/unlink", json={"entity": "users", "first": w.keep, "second": w.other}
    )
    assert not_matched.status_code == 422
    assert "are two published records already" in not_matched.json()["error"]["message"]
    bad_kind = admin.get(base, params={"kind": "merge"})
    assert bad_kind.status_code == 422
