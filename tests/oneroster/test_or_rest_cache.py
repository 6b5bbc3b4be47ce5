"""What the provider remembers per published version stays correct: descending keyset pages,
a publish that lands mid-request, and revoked clients."""

from __future__ import annotations

import httpx
import pytest
from or_provider import V12, Provider, users_query
from test_or_rest_deep_paging import big_roster, walk

from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.pagecache import VersionCache
from rostersync.export.oneroster.query import (
    ListParams,
    VersionMoved,
    begin_read,
)
from rostersync.export.oneroster.sharing import SharingRules

N = 1500


@pytest.fixture(scope="module")
def ids(provider: Provider) -> list[str]:
    roster = big_roster(N)
    provider.store.publish(provider.district_id, roster)
    return sorted(roster["users"]["sourcedId"].to_list())


@pytest.mark.parametrize("offset", [0, 1, 99, 700, N - 40, N + 10])
def test_descending_pages_are_the_reverse_order(
    provider: Provider, ids: list[str], offset: int
) -> None:
    got, total = walk(provider, "full", limit="50", offset=str(offset), orderBy="desc")
    assert total == len(ids)
    assert got == ids[::-1][offset : offset + 50]


def test_a_client_with_other_rules_gets_its_own_collection(
    provider: Provider, ids: list[str]
) -> None:
    walk(provider, "full", limit="5", offset="1000")  # cache the full collection first
    got, total = walk(provider, "north", limit="5", offset="1000")
    assert total < len(ids)
    assert all(g in ids for g in got)
    assert got != ids[1000:1005]


def _users_page(provider: Provider, version: int | None, cache: VersionCache | None) -> None:
    query = users_query(provider.district_id, cache, version)
    with provider.store.engine.connect() as conn:
        query.page(conn, ListParams(10, 20, None, False, None, None), key=("users",))


@pytest.mark.parametrize("cached", [False, True])
def test_a_publish_after_the_version_read_is_detected(
    provider: Provider, ids: list[str], cached: bool
) -> None:
    with provider.store.engine.connect() as conn:
        version = begin_read(conn, provider.district_id)
    cache = VersionCache() if cached else None
    _users_page(provider, version, cache)  # the version is current: rows, no complaint
    roster = big_roster(N)
    roster["users"] = roster["users"].head(N - 7)
    provider.store.publish(provider.district_id, roster)
    with pytest.raises(VersionMoved):
        _users_page(provider, version, cache)
    # and the endpoint itself answers from the new version
    got, total = walk(provider, "full", limit="10", offset="20")
    assert total == roster["users"].height
    assert got == sorted(roster["users"]["sourcedId"].to_list())[20:30]


def test_a_revoked_client_is_refused_at_once(provider: Provider) -> None:
    clients = ApiClients(provider.store.engine, provider.settings.get_secret_key())
    issued = clients.create(
        provider.district_id, "short-lived", ["roster-core.readonly"], SharingRules.everything()
    )
    token = provider.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(issued.client.client_id, issued.client_secret),
    ).json()["access_token"]

    def schools() -> httpx.Response:
        return provider.http.get(f"{V12}/schools", headers={"Authorization": f"Bearer {token}"})

    assert schools().status_code == 200
    # at once: the very next request, with no cache window in between
    clients.revoke(issued.client.client_id)
    assert schools().status_code == 401


def test_a_cached_page_still_follows_each_clients_rules(provider: Provider, ids: list[str]) -> None:
    def page(client: str, **params: str) -> httpx.Response:
        resp = provider.get(f"{V12}/users", client=client, limit="20", offset="300", **params)
        assert resp.status_code == 200, resp.text
        return resp

    first = page("full")
    again = page("full")  # served from the serialized rows of the first
    assert again.content == first.content
    assert [u["sourcedId"] for u in again.json()["users"]] == ids[300:320]
    full_keys = set().union(*(u.keys() for u in first.json()["users"]))
    lms = page("lms").json()["users"]
    lms_keys = set().union(*(u.keys() for u in lms))
    assert lms_keys < full_keys
    assert "identifier" in full_keys  # a field the lms client is not granted
    assert "identifier" not in lms_keys
    picked = page("full", fields="givenName").json()["users"]
    assert picked
    assert all(set(u) == {"givenName"} for u in picked)
    assert page("full").content == first.content
