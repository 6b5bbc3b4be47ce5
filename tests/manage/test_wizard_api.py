"""The wizard's JSON twins under ``/api/v1`` (the real app served over HTTP, the simulator as
the SIS): a district admin takes a district from nothing to a run through the gallery and the
steps; every bad input is a 4xx naming what is wrong; other districts stay out of reach."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from rostersync import manage
from rostersync.admin.accounts import Accounts
from rostersync.admin.tokens import Tokens
from rostersync.settings import Settings
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    RunningSimulator,
)
from rostersync.simulators.threaded import serve_in_thread
from rostersync.store import Store, make_engine
from rostersync.web.app import create_app

PASSWORD = "correct horse battery staple"
FAST = {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.1}


class Api:
    def __init__(self, url: str, store: Store, settings: Settings) -> None:
        self.url, self.store, self.settings = url, store, settings
        self.opened: list[httpx.Client] = []

    def as_(self, name: str, role: str, districts: tuple[int, ...] = ()) -> httpx.Client:
        accounts = Accounts(self.store, self.settings)
        accounts.create(name, role, PASSWORD, actor="cli:root", districts_granted=districts)
        token, _ = Tokens(self.store, accounts).create(name, "tests", days=30, actor="cli:root")
        client = httpx.Client(
            base_url=self.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        self.opened.append(client)
        return client


@pytest.fixture
def api(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", store_url)
    settings = Settings(database_url=store_url)
    store = Store(make_engine(store_url))
    store.upgrade()
    with serve_in_thread(create_app(settings, store)) as url:
        running = Api(url, store, settings)
        yield running
        for client in running.opened:
            client.close()
    store.dispose()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def problems(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {p["path"]: p["message"] for p in response.json()["error"]["problems"]}


def test_from_the_gallery_to_a_run(api: Api, sim: RunningSimulator) -> None:
    district = api.store.create_district("Ashford")
    ann = api.as_("ann", "district_admin", (district.id,))
    base = "/districts/ashford/wizard"

    cards = ok(ann.get("/apps"))
    assert "powerschool" in [c["app"] for c in cards]
    state = ok(ann.get(base))
    assert state["next_step"] == "activate"

    pending = ok(ann.put(base + "/steps/activate", json={"app": "powerschool", "name": "sis"}))
    assert pending["saved"] is False
    typed = {"url": sim.url, "client_id": DEFAULT_CLIENT_ID}
    draft = ok(
        ann.post(
            base + "/test-connection",
            json={
                "source": "sis",
                "app": "powerschool",
                "delivery": {**typed, "client_secret": DEFAULT_CLIENT_SECRET},
            },
        )
    )
    assert draft["ok"], draft
    delivery = {
        **pending["pending"],
        "delivery": {**typed, "client_secret": DEFAULT_CLIENT_SECRET},
        "connector": FAST,
    }
    saved = ok(ann.put(base + "/steps/delivery", json=delivery))
    assert saved["version"] == 1
    assert saved["state"]["config"]["sources"][0]["delivery"]["client_secret"] == (
        "store:sis-client-secret"
    )
    assert DEFAULT_CLIENT_SECRET not in str(saved)

    pasted = ok(ann.post(base + "/test-connection", json={"delivery": {"url": sim.url + "/ws/v1"}}))
    assert not pasted["ok"]
    assert pasted["details"]["suggested_url"] == sim.url

    schools = ok(ann.get(base + "/schools"))
    assert schools
    assert all(s["included"] for s in schools)
    ok(ann.put(base + "/steps/schools_mapping", json={"schools_mapping": "auto"}))

    hits = ok(ann.get(base + "/fields", params={"q": "school_email", "entity_type": "student"}))
    mapping = {"student": {"email": hits[0]["insert"]}}
    sample = ok(ann.post(base + "/sample", json={"attribute_mapping": mapping}))
    assert len(sample["records"]) == 5
    assert any(r["email"] for r in sample["records"])
    mapped = ok(ann.put(base + "/steps/attribute_mapping", json={"attribute_mapping": mapping}))
    assert mapped["state"]["can_finish"]

    rules = {"student": [{"template": "active_students_only"}]}
    counts = ok(ann.post(base + "/filter-counts", json={"filter_rules": rules}))
    students = next(e for e in counts["entities"] if e["entity_type"] == "student")
    assert students["rules"][0]["label"] == "active_students_only"

    done = ok(ann.post(base + "/finish"))
    assert done["state"]["finished"]
    exported = ok(ann.get(base + "/export"))
    assert exported["version"] == done["version"]
    assert exported["yaml"].startswith("district: Ashford\n")

    run = ok(ann.post("/districts/ashford/runs"), 202)
    deadline = time.monotonic() + 120
    while run["status"] in ("pending", "running", "publishing") and time.monotonic() < deadline:
        time.sleep(0.2)
        run = ok(ann.get(f"/districts/ashford/runs/{run['id']}"))
    assert run["status"] == "succeeded", run


def test_bad_input_and_other_districts(api: Api, sim: RunningSimulator) -> None:
    mine = api.store.create_district("Ashford")
    theirs = api.store.create_district("Bexley")
    ann = api.as_("ann", "district_admin", (mine.id,))
    vic = api.as_("vic", "viewer", (mine.id,))
    base = "/districts/ashford/wizard"
    new = {"name": "sis", "app": "powerschool", "connector": FAST}
    good = {"url": sim.url, "client_id": DEFAULT_CLIENT_ID, "client_secret": "s3cret-value"}

    found = problems(ann.put(base + "/steps/delivery", json={**new, "delivery": {"url": "x"}}))
    assert set(found) >= {"sources[0].delivery.url", "sources[0].delivery.client_id"}
    unknown = ann.put(base + "/steps/colours", json={})
    assert unknown.status_code == 422
    assert "No wizard step 'colours'" in unknown.json()["error"]["message"]
    assert "steps: activate, sync_mode" in unknown.json()["error"]["hint"]
    not_object = ann.put(base + "/steps/delivery", json=["a"])
    assert not_object.status_code == 422

    ok(ann.put(base + "/steps/delivery", json={**new, "delivery": good}))
    env = {"notifications": {"webhook_url": "https://x.example", "webhook_secret": "env:HOME"}}
    assert (
        "use store:NAME"
        in problems(ann.put(base + "/steps/sync_schedule", json=env))[
            "notifications.webhook_secret"
        ]
    )
    bad_type = ann.get(base + "/fields", params={"entity_type": "pupil"})
    assert bad_type.status_code == 422
    assert "'pupil' is not an entity type" in bad_type.json()["error"]["message"]
    early = ann.post(base + "/finish")
    assert early.status_code == 422
    assert early.json()["error"]["hint"] == "next step to save: schools_mapping"
    broken = problems(ann.post(base + "/import", json={"yaml": "district: Ashford\nsources: ["}))
    assert broken
    other = problems(ann.post(base + "/import", json={"yaml": "district: Bexley\nsources: []"}))
    assert "district" in other or "sources" in other

    # A viewer reads the wizard but saves nothing; another district is not there at all.
    assert ok(vic.get(base))["config_version"] == 1
    assert (
        vic.put(base + "/steps/schools_mapping", json={"schools_mapping": "auto"}).status_code
        == 403
    )
    for path in ("", "/schools", "/fields", "/export"):
        assert ann.get(f"/districts/{theirs.slug}/wizard{path}").status_code == 404
    assert (
        ann.put(
            f"/districts/{theirs.slug}/wizard/steps/delivery", json={**new, "delivery": good}
        ).status_code
        == 404
    )
    assert api.store.get_district("Bexley").id == theirs.id
    assert manage.list_config_versions(api.store, theirs.id) == []
