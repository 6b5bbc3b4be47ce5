"""OAuth 1.0a replay protection shared by every server process: two apps over one store (as
``serve --workers 2`` runs them) accept a signed request once in all, on SQLite and PostgreSQL;
requests without a nonce or a usable timestamp are refused (RFC 5849 §3.3)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
import sqlalchemy as sa
from alembic import command
from or_provider import PG_URL, V11, Provider, postgres_schema, serve, start_provider
from or_sample_roster import small_roster
from test_or_rest_auth import oauth1_header

from rostersync.export.oneroster.oauth1 import MAX_SKEW_SECONDS, NonceStore
from rostersync.store import Store
from rostersync.store._migrate import alembic_config
from rostersync.store.schema import oauth_nonces
from rostersync.web import create_app

BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="no PG")),
]


@pytest.fixture(scope="module", params=BACKENDS)
def two_apps(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Provider, httpx.Client]]:
    """The provider, and a second app (its own process state) over the same store."""
    data_dir: Path = tmp_path_factory.mktemp("nonces") / "var"

    def both(url: str | None) -> Iterator[tuple[Provider, httpx.Client]]:
        for provider in start_provider(data_dir, url):
            second = create_app(provider.settings, provider.store)
            with serve(second) as base, httpx.Client(base_url=base, timeout=30) as http:
                yield provider, http

    if request.param == "postgresql":
        with postgres_schema() as url:
            yield from both(url)
    else:
        yield from both(None)


def _signed(provider: Provider, http: httpx.Client, path: str, **override: str) -> str:
    creds = provider.clients["full"]
    url = f"{str(http.base_url).rstrip('/')}{path}"
    return oauth1_header("GET", url, {}, creds.client_id, creds.secret, **override)


def test_a_signed_request_is_accepted_once_across_processes(
    two_apps: tuple[Provider, httpx.Client],
) -> None:
    provider, other = two_apps
    # Both servers listen on 127.0.0.1, so one signature (host without port in the base string
    # would differ) is made per server for the same nonce and timestamp.
    nonce, stamp = "replay-me-0001", str(int(time.time()))
    first = _signed(
        provider, provider.http, f"{V11}/orgs", oauth_nonce=nonce, oauth_timestamp=stamp
    )
    second = _signed(provider, other, f"{V11}/orgs", oauth_nonce=nonce, oauth_timestamp=stamp)
    ok = provider.http.get(f"{V11}/orgs", headers={"Authorization": first})
    assert ok.status_code == 200, ok.text
    replay = other.get(f"{V11}/orgs", headers={"Authorization": second})
    assert replay.status_code == 401, replay.text
    assert "nonce" in replay.json()["statusInfoSet"][0]["imsx_description"]
    # and a fresh nonce is still served by the second process
    fresh = _signed(provider, other, f"{V11}/orgs")
    assert other.get(f"{V11}/orgs", headers={"Authorization": fresh}).status_code == 200


def test_the_same_request_to_two_processes_at_once_is_served_once(
    two_apps: tuple[Provider, httpx.Client],
) -> None:
    provider, other = two_apps
    stamp = str(int(time.time()))
    served = 0
    for i in range(10):
        nonce = f"race-{i}-{stamp}"
        a = _signed(
            provider, provider.http, f"{V11}/orgs", oauth_nonce=nonce, oauth_timestamp=stamp
        )
        b = _signed(provider, other, f"{V11}/orgs", oauth_nonce=nonce, oauth_timestamp=stamp)
        codes = sorted(
            [
                provider.http.get(f"{V11}/orgs", headers={"Authorization": a}).status_code,
                other.get(f"{V11}/orgs", headers={"Authorization": b}).status_code,
            ]
        )
        assert codes == [200, 401]
        served += 1
    assert served == 10


@pytest.mark.parametrize(
    ("drop", "override"),
    [
        ("oauth_nonce", {}),
        ("oauth_timestamp", {}),
        (None, {"oauth_nonce": ""}),
        (None, {"oauth_timestamp": "9" * 400}),
        (None, {"oauth_timestamp": "-5"}),
        (None, {"oauth_nonce": "n" * 500}),
    ],
)
def test_a_request_without_nonce_or_timestamp_is_401(
    two_apps: tuple[Provider, httpx.Client], drop: str | None, override: dict[str, str]
) -> None:
    provider, _ = two_apps
    header = _signed(provider, provider.http, f"{V11}/orgs", **override)
    if drop is not None:
        header = "OAuth " + ", ".join(
            p for p in header[6:].split(", ") if not p.startswith(f"{drop}=")
        )
    resp = provider.http.get(f"{V11}/orgs", headers={"Authorization": header})
    assert resp.status_code == 401, resp.text
    info = resp.json()["statusInfoSet"][0]
    assert info["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == (
        "unauthorisedrequest"
    )


def test_old_nonces_are_purged_and_the_window_is_bounded(
    two_apps: tuple[Provider, httpx.Client],
) -> None:
    provider, _ = two_apps
    store = NonceStore(provider.store.engine)
    now = int(time.time())
    old = now - MAX_SKEW_SECONDS - 10
    assert store.first_use("purge-client", "n1", old)
    assert not store.first_use("purge-client", "n1", old)
    assert store.first_use("purge-client", "n1", now)  # same nonce, other timestamp
    store.purge(now)
    with provider.store.engine.connect() as conn:
        kept = conn.execute(
            sa.select(oauth_nonces.c.timestamp).where(oauth_nonces.c.client_id == "purge-client")
        ).scalars()
        assert list(kept) == [now]


def _get_overtaken_by_a_publish(provider: Provider) -> httpx.Response:
    """A signed GET of /users during which a publish (renaming u-s1) commits."""
    roster = small_roster()
    roster["users"] = roster["users"].with_columns(
        pl.when(pl.col("sourcedId") == "u-s1")
        .then(pl.lit("Anna"))
        .otherwise(pl.col("givenName"))
        .alias("givenName")
    )
    published: list[bool] = []

    def publish_once(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not published and "roster_users" in statement:
            published.append(True)
            provider.store.publish(provider.district_id, roster)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", publish_once)
    try:
        header = _signed(provider, provider.http, f"{V11}/users")
        resp = provider.http.get(f"{V11}/users", headers={"Authorization": header})
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", publish_once)
    assert published
    return resp


@pytest.mark.skipif(not PG_URL, reason="needs ROSTERSYNC_TEST_POSTGRES_URL")
def test_a_signed_request_overtaken_by_a_publish_is_served(tmp_path: Path) -> None:
    """A publish committing mid-request makes the provider retry from the new version; the
    retry must not check the nonce the first attempt already spent (PostgreSQL reads each
    statement afresh, so a publish between two statements is visible to the second)."""
    with postgres_schema() as url:
        for provider in start_provider(tmp_path / "var", url):
            resp = _get_overtaken_by_a_publish(provider)
            assert resp.status_code == 200, resp.text
            names = {u["sourcedId"]: u["givenName"] for u in resp.json()["users"]}
            assert names["u-s1"] == "Anna"  # answered from the new version


def test_migration_0014_adds_and_drops_the_nonce_table(store: Store) -> None:
    """Up and down on SQLite and PostgreSQL: the downgrade removes only what 0014 added."""

    def tables() -> set[str]:
        return set(sa.inspect(store.engine).get_table_names())

    assert "oauth_nonces" in tables()
    NonceStore(store.engine).first_use("c", "n", int(time.time()))
    config = alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
    assert "oauth_nonces" not in tables()
    assert "api_clients" in tables()
    store.upgrade()
    assert "oauth_nonces" in tables()
    assert NonceStore(store.engine).first_use("c", "n", int(time.time()))
