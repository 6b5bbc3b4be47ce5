"""Private by default on a roster from a real sync (simulator → connector → pipeline → publish):
the PowerSchool data's guardians, state IDs, addresses and birth dates reach an app through
the real provider only when granted."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from mg_helpers import config_body, serve, sync

from rostersync import manage
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import RunningSimulator
from rostersync.store import Store
from rostersync.web import create_app

V12 = "/ims/oneroster/rostering/v1p2"
SCOPES = ["roster.readonly", "roster-demographics.readonly"]


@pytest.fixture
def provider(
    store: Store, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[httpx.Client, dict[str, tuple[str, str]]]]:
    settings = load_settings()
    sync(store, settings, config_body(sim.url, monkeypatch, "Ashford"))
    key = settings.get_secret_key()
    creds = {}
    for name, grant in (("private", []), ("contacts", ["contact_details"]), ("all", ["all"])):
        issued = manage.create_api_client(store, "test", key, "Ashford", name, SCOPES, grant=grant)
        creds[name] = (issued.client.client_id, issued.client_secret)
    with serve(create_app(settings, store)) as url, httpx.Client(base_url=url) as http:
        yield http, creds


def _get(http: httpx.Client, creds: tuple[str, str], path: str) -> httpx.Response:
    token = http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=creds)
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    return http.get(path, params={"limit": "10000"}, headers=headers)


def test_sensitive_data_of_a_real_sync_needs_a_grant(
    provider: tuple[httpx.Client, dict[str, tuple[str, str]]],
) -> None:
    http, creds = provider
    everything = _get(http, creds["all"], f"{V12}/users").json()["users"]
    roles = {u["roles"][0]["role"] for u in everything}
    guardians = {
        u["sourcedId"]
        for u in everything
        if u["roles"][0]["role"] in ("guardian", "parent", "relative")
    }
    assert guardians, roles  # the simulator's district has contacts
    assert any("userIds" in u and u["userIds"] for u in everything)
    blob = json.dumps(everything)
    assert "street" in blob or "postalCode" in blob  # addresses travel in metadata

    private = _get(http, creds["private"], f"{V12}/users").json()["users"]
    assert not {u["sourcedId"] for u in private} & guardians
    assert len(private) == len(everything) - len(guardians)
    text = json.dumps(private)
    for key in ('"userIds"', '"metadata"', '"birthDate"', "street", "postalCode", "guardianEmail"):
        assert key not in text, key
    demo = _get(http, creds["private"], f"{V12}/demographics")
    assert demo.status_code == 403 or demo.json()["demographics"] == []

    contacts = _get(http, creds["contacts"], f"{V12}/users").json()["users"]
    assert {u["sourcedId"] for u in contacts} >= guardians
    assert '"metadata"' not in json.dumps(contacts)  # addresses and state IDs still withheld
