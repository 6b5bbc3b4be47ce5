"""The authorization matrix: every endpoint × every role × own/other district, exact statuses.

Roles: an operator, a district admin of A, a viewer of A, and no token. A district admin or
viewer of A gets 404 for anything of B, exactly as for a district that does not exist; a
viewer gets 403 on every write; no token gets 401. "ok" statuses of writes are chosen to be
the same whichever role ran before (approving a run that is not held is a 409: the request
got past authorization and reached the service).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from api_helpers import Api

from rostersync import manage
from rostersync.admin.secrets import SecretStore
from rostersync.config import validate_config
from rostersync.simulators.powerschool import DEFAULT_CLIENT_SECRET, RunningSimulator
from rostersync.sync import sync_config
from rostersync.sync.changesets import grant_override, revoke_override
from support.configs import powerschool_config

ROLES = ("operator", "admin_a", "viewer_a", "anonymous")
_names = itertools.count()


@dataclass
class World:
    """Districts A and B, each synced once from the simulator, with a secret, a client and a
    revoked override; the callers' tokens."""

    api: Api
    tokens: dict[str, str | None]
    ids: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {d}, {run}, {override} filled per district
    ok: int
    write: bool
    body: Callable[[], Any] | None = None
    prepare: Callable[[World, str], None] | None = None


def _put_tmp_secret(world: World, which: str) -> None:
    SecretStore(world.api.store, world.api.settings).put(
        world.ids[which]["id"], "tmp", "temporary value", actor="cli:root"
    )


def _body(world: World, which: str) -> dict[str, Any]:
    return dict(world.ids[which]["config"])


ENDPOINTS = [
    Endpoint("GET", "/districts/{d}", 200, False),
    Endpoint("GET", "/districts/{d}/config", 200, False),
    Endpoint("PUT", "/districts/{d}/config", 200, True, body=lambda: "CONFIG"),
    Endpoint("GET", "/districts/{d}/config/versions", 200, False),
    Endpoint("GET", "/districts/{d}/config/versions/1", 200, False),
    Endpoint("GET", "/districts/{d}/config/diff?a=1&b=1", 200, False),
    Endpoint("POST", "/districts/{d}/config/versions/1/restore", 200, True),
    Endpoint("POST", "/districts/{d}/config/test", 200, True),
    Endpoint("GET", "/districts/{d}/runs", 200, False),
    Endpoint("POST", "/districts/{d}/runs", 202, True, body=dict),
    Endpoint("GET", "/districts/{d}/runs/{run}", 200, False),
    Endpoint("GET", "/districts/{d}/runs/{run}/events", 200, False),
    Endpoint("GET", "/districts/{d}/runs/{run}/stream", 200, False),
    Endpoint("GET", "/districts/{d}/changes/{run}", 200, False),
    Endpoint("GET", "/districts/{d}/changes/{run}/users?kind=added", 200, False),
    Endpoint("POST", "/districts/{d}/changes/{run}/approve", 409, True),
    Endpoint(
        "POST", "/districts/{d}/changes/{run}/reject", 409, True, body=lambda: {"reason": "x"}
    ),
    Endpoint("GET", "/districts/{d}/overrides", 200, False),
    Endpoint("POST", "/districts/{d}/overrides", 201, True, body=lambda: {"until": "2030-01-01"}),
    Endpoint(
        "POST",
        "/districts/{d}/overrides/{override}/revoke",
        409,  # revoked already
        True,
        body=lambda: {"reason": "done"},
    ),
    Endpoint("GET", "/districts/{d}/versions", 200, False),
    Endpoint("GET", "/districts/{d}/versions/diff?a=1&b=1", 200, False),
    Endpoint("POST", "/districts/{d}/versions/1/rollback", 200, True),
    Endpoint("GET", "/districts/{d}/clients", 200, False),
    Endpoint(
        "POST",
        "/districts/{d}/clients",
        201,
        True,
        body=lambda: {"name": f"app {next(_names)}", "scopes": ["roster-core.readonly"]},
    ),
    Endpoint("GET", "/districts/{d}/clients/app", 200, False),
    Endpoint("POST", "/districts/{d}/clients/app/revoke", 200, True),
    Endpoint("GET", "/districts/{d}/secrets", 200, False),
    Endpoint("PUT", "/districts/{d}/secrets/other", 200, True, body=lambda: {"value": "v"}),
    Endpoint("DELETE", "/districts/{d}/secrets/tmp", 204, True, prepare=_put_tmp_secret),
    Endpoint("GET", "/districts/{d}/schedule", 200, False),
    Endpoint("GET", "/districts/{d}/schedule/next?count=2", 200, False),
    Endpoint(
        "PUT", "/districts/{d}/schedule", 200, True, body=lambda: {"every": "daily", "at": "03:00"}
    ),
    Endpoint("GET", "/districts/{d}/notifications", 200, False),
    Endpoint(
        "PUT", "/districts/{d}/notifications", 200, True, body=lambda: {"emails": ["it@a.example"]}
    ),
    # recipients were set just above; without an SMTP server the delivery fails (a 200)
    Endpoint("POST", "/districts/{d}/notifications/test", 200, True),
    Endpoint("GET", "/audit?district={d}", 200, False),
    Endpoint("GET", "/audit.csv?district={d}", 200, False),
]


def expected(endpoint: Endpoint, role: str, own: bool) -> int:
    if role == "anonymous":
        return 401
    if role == "operator":
        return endpoint.ok
    if not own:
        return 404
    if role == "viewer_a" and endpoint.write:
        return 403
    return endpoint.ok


@pytest.fixture
def world(api: Api, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch) -> World:
    ids: dict[str, dict[str, Any]] = {}
    for which, name in (("A", "District A"), ("B", "District B")):
        d = api.store.create_district(name)
        SecretStore(api.store, api.settings).put(
            d.id, "ps", DEFAULT_CLIENT_SECRET, actor="cli:root"
        )
        body = powerschool_config(sim.url, monkeypatch, district=name, attribute_mapping=None)
        body["sources"][0]["delivery"]["client_secret"] = "store:ps"
        outcome = sync_config(api.store, validate_config(body, "test"), api.settings)
        assert outcome.status == "succeeded", outcome
        manage.create_api_client(
            api.store,
            "cli:root",
            api.settings.get_secret_key(),
            d.id,
            "app",
            ["roster-core.readonly"],
        )
        grant_override(api.store, d.id, date(2031, 1, 1), actor="cli:root")
        revoked = revoke_override(
            api.store, d.id, actor="cli:root", reason="set-up", today=date.today()
        )
        _, config = api.store.get_config_version(d.id)
        ids[which] = {
            "id": d.id,
            "slug": d.slug,
            "run": outcome.run_id,
            "override": revoked.id,
            "config": config,
        }
    tokens: dict[str, str | None] = {
        "operator": api.account("op", "operator"),
        "admin_a": api.account("adm", "district_admin", [ids["A"]["id"]]),
        "viewer_a": api.account("view", "viewer", [ids["A"]["id"]]),
        "anonymous": None,
    }
    return World(api, tokens, ids)


def _call(world: World, endpoint: Endpoint, role: str, which: str) -> tuple[int, Any]:
    ids = world.ids[which]
    path = endpoint.path.format(d=ids["slug"], run=ids["run"], override=ids["override"])
    if endpoint.prepare is not None:
        endpoint.prepare(world, which)
    body = None if endpoint.body is None else endpoint.body()
    if body == "CONFIG":
        body = _body(world, which)
    client = world.api.client(world.tokens[role])
    response = client.request(endpoint.method, path, json=body)
    payload = (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else response.text
    )
    if response.status_code == 202:  # a started sync: let it finish before the next request
        world.api.wait_for_run(world.tokens["operator"] or "", ids["slug"], payload["id"])
    return response.status_code, payload


def test_every_endpoint_every_role_own_and_other_district(world: World) -> None:
    wrong: list[str] = []
    for endpoint, role, which in itertools.product(ENDPOINTS, ROLES, ("A", "B")):
        want = expected(endpoint, role, own=which == "A")
        got, payload = _call(world, endpoint, role, which)
        if got != want:
            wrong.append(f"{endpoint.method} {endpoint.path} as {role} on {which}: {got} != {want}")
        elif got >= 400:
            assert set(payload) == {"error"}, payload
            assert payload["error"]["message"], payload
        if got == 404 and which == "B" and role != "operator":
            # exactly what a district that does not exist answers
            missing = world.api.client(world.tokens[role]).request(
                endpoint.method,
                endpoint.path.format(d="no-such-district", run=1, override=1),
                json=None
                if endpoint.body is None
                else _body(world, "A")
                if endpoint.body() == "CONFIG"
                else endpoint.body(),
            )
            assert missing.status_code == 404
            assert missing.json()["error"]["message"] == payload["error"]["message"].replace(
                world.ids["B"]["slug"], "no-such-district"
            )
    assert not wrong, "\n".join(wrong)


def test_installation_endpoints_and_the_district_list(world: World) -> None:
    api = world.api
    a, b = world.ids["A"]["id"], world.ids["B"]["id"]
    for role in ROLES:
        client = api.client(world.tokens[role])
        created = client.post("/districts", json={"name": f"New {role}"})
        assert created.status_code == {"operator": 201, "anonymous": 401}.get(role, 403), role
        listed = client.get("/districts")
        if role == "anonymous":
            assert listed.status_code == 401
            continue
        ids = {d["id"] for d in listed.json()}
        assert (b in ids) == (role == "operator"), role
        assert a in ids
        me = client.get("/me")
        assert me.status_code == 200
        audit = client.get("/audit").json()
        seen = {e["district_id"] for e in audit}
        assert (b in seen) == (role == "operator"), role
    # Deleting: operators only; a granted district is 403 for its admin, another one 404.
    for role in ROLES:
        granted = api.store.create_district(f"Granted {role}")
        other = api.store.create_district(f"Other {role}")
        for name in ("adm", "view"):
            api.accounts.grant(name, granted.id, actor="cli:root")
        client = api.client(world.tokens[role])
        on_granted = client.delete(f"/districts/{granted.slug}")
        on_other = client.delete(f"/districts/{other.slug}")
        want = {"operator": (200, 200), "anonymous": (401, 401)}.get(role, (403, 404))
        assert (on_granted.status_code, on_other.status_code) == want, role


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/runs/{run}"),
        ("GET", "/runs/{run}/events"),
        ("GET", "/runs/{run}/stream"),
        ("GET", "/changes/{run}"),
        ("GET", "/changes/{run}/users"),
        ("POST", "/changes/{run}/approve"),
    ],
)
def test_another_districts_run_answers_like_a_run_that_does_not_exist(
    world: World, method: str, path: str
) -> None:
    """Through its own district, a caller cannot tell B's run ids from ids never used: the
    answer (message and hint) is the same, so run ids do not leak across districts."""
    client = world.api.client(world.tokens["admin_a"])
    own = f"/districts/{world.ids['A']['slug']}"
    b_run, unused = str(world.ids["B"]["run"]), str(2**31 - 1)
    other = client.request(method, own + path.format(run=b_run))
    never = client.request(method, own + path.format(run=unused))
    assert other.status_code == never.status_code == 404
    error = never.json()["error"]
    assert other.json() == {"error": error | {"message": error["message"].replace(unused, b_run)}}
