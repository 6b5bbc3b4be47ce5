"""Round trips of a paged OneRoster request to the store: the API client's row and the
district's current roster version come back in one statement, so a page whose rows the
provider already holds serialized costs one statement and any other page two."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from or_provider import V12, Provider, postgres_schema, start_provider
from test_or_rest_deep_paging import big_roster

from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.sharing import SharingRules

N = 1500  # past the size from which a collection's IDs are cached for keyset pages


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def published(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Provider]:
    var = tmp_path_factory.mktemp(f"or_trips_{request.param}") / "var"
    if request.param == "sqlite":
        for provider in start_provider(var):
            provider.store.publish(provider.district_id, big_roster(N))
            yield provider
        return
    with postgres_schema() as url:
        for provider in start_provider(var, url):
            provider.store.publish(provider.district_id, big_roster(N))
            yield provider


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine of this process sends while the test runs (SQLite's
    explicit ``BEGIN``/``COMMIT``/``ROLLBACK`` apart: no round trip to a server)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


def _page(provider: Provider, offset: int) -> list[str]:
    resp = provider.get(f"{V12}/users", limit="50", offset=str(offset))
    assert resp.status_code == 200, resp.text
    return [u["sourcedId"] for u in resp.json()["users"]]


def test_a_cached_page_is_one_statement_and_an_uncached_one_two(
    published: Provider, statements: list[str]
) -> None:
    published.bearer("full")  # the token first: its endpoint is not what is counted
    _page(published, 0)  # reads the collection's IDs once for this version
    statements.clear()
    first = _page(published, 700)
    assert len(statements) == 2, statements  # client + version, then the keyset range
    statements.clear()
    again = _page(published, 700)
    assert again == first
    assert len(statements) == 1, statements  # client + version; the rows were held
    assert "current_roster_version" in statements[0]


def test_the_version_read_with_the_client_follows_a_publish(
    published: Provider, statements: list[str]
) -> None:
    before = _page(published, 100)
    roster = big_roster(N)
    roster["users"] = roster["users"].filter(
        ~roster["users"]["sourcedId"].is_in(before[:10])
    )  # ten of the page's users deleted
    published.store.publish(published.district_id, roster)
    resp = published.get(f"{V12}/users", limit="50", offset="100")
    assert resp.status_code == 200, resp.text
    statuses = {u["sourcedId"]: u["status"] for u in resp.json()["users"]}
    # The new version: the deleted users are served as tombstones, not as the cached rows.
    assert [statuses.get(sid) for sid in before[:10]] == ["tobedeleted"] * 10
    assert [statuses[sid] for sid in before[10:]] == ["active"] * 40


def test_a_revoked_client_is_still_refused_on_a_cached_page(published: Provider) -> None:
    clients = ApiClients(published.store.engine, published.settings.get_secret_key())
    assert _page(published, 300)  # cached for the full client's rules
    issued = clients.create(
        published.district_id,
        "revoked-on-cached",
        ["roster-core.readonly"],
        SharingRules.everything(),
    )
    token = published.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(issued.client.client_id, issued.client_secret),
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{V12}/users?limit=50&offset=300"
    assert published.http.get(url, headers=headers).status_code == 200
    assert published.http.get(url, headers=headers).status_code == 200  # from the row cache
    clients.revoke(issued.client.client_id)
    assert published.http.get(url, headers=headers).status_code == 401


def test_a_class_roster_checks_its_class_in_the_page_statement(
    published: Provider, statements: list[str]
) -> None:
    published.bearer("full")
    statements.clear()
    resp = published.get(f"{V12}/classes/k-alg1/students")
    assert resp.status_code == 200, resp.text
    assert {u["sourcedId"] for u in resp.json()["users"]} == {"u-s1", "u-s2"}
    assert len(statements) == 2, statements  # client + version, then the page with its class
    # Nothing matched: the class is asked on its own, and a missing one is still a 404.
    missing = published.get(f"{V12}/classes/k-nope/students")
    assert missing.status_code == 404, missing.text
    assert "k-nope" in missing.text
    empty = published.get(f"{V12}/classes/k-alg1/students", filter="familyName='Nobody'")
    assert empty.status_code == 200, empty.text
    assert empty.json()["users"] == []
