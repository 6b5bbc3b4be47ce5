"""Private by default and client expiry, against the real provider app: a new client sees the
roster core only until sensitive categories are granted by name; an expired client is refused at
the token endpoint and on every request with a clear error."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from or_provider import ALL_SCOPES, V11, V12, Credentials, Provider
from typer.testing import CliRunner

from rostersync.cli import app, main
from rostersync.errors import ConfigurationError
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.sharing import SENSITIVE, SharingRules
from rostersync.settings import load_settings
from rostersync.store import make_engine, open_store
from rostersync.store._migrate import alembic_config
from rostersync.store._migrate import upgrade as migrate_to
from rostersync.store.schema import api_clients

runner = CliRunner()


def _client(provider: Provider, name: str, rules: SharingRules, **kw: datetime) -> Credentials:
    clients = ApiClients(provider.store.engine, provider.settings.get_secret_key())
    issued = clients.create(provider.district_id, name, ALL_SCOPES, rules, **kw)
    provider.clients[name] = Credentials(issued.client.client_id, issued.client_secret)
    return provider.clients[name]


def _users(provider: Provider, client: str) -> dict[str, dict[str, object]]:
    resp = provider.get(f"{V12}/users", client)
    assert resp.status_code == 200, resp.text
    return {u["sourcedId"]: u for u in resp.json()["users"]}


def test_a_new_client_sees_the_roster_core_only(provider: Provider) -> None:
    _client(provider, "private", SharingRules.build())
    users = _users(provider, "private")
    assert "u-g1" not in users  # the guardian: contact details not granted
    assert set(users) == {"u-s1", "u-s2", "u-s3", "u-t1", "u-t2", "u-a1"}
    ann = users["u-s1"]
    assert "userIds" not in ann
    assert "metadata" not in ann
    assert "birthDate" not in ann
    assert ann["email"] == "ann@x.org"  # a student's own address is roster core
    assert ann.get("agents", []) == []  # the hidden guardian is not named either
    resp = provider.get(f"{V12}/demographics", "private")
    assert resp.status_code != 200 or resp.json()["demographics"] == []
    full = _users(provider, "full")
    assert full["u-s1"]["userIds"]
    assert full["u-s1"]["metadata"]
    assert "u-g1" in full


def test_each_category_opens_its_own_data(provider: Provider) -> None:
    _client(provider, "contacts", SharingRules.build(sensitive=["contact_details"]))
    _client(provider, "ids", SharingRules.build(sensitive=["state_ids"]))
    _client(provider, "demo", SharingRules.build(sensitive=["demographics"]))
    _client(provider, "all", SharingRules.build(sensitive=["all"]))
    contacts = _users(provider, "contacts")
    assert contacts["u-g1"]["email"] == "gail@y.org"
    assert "userIds" not in contacts["u-s1"]
    assert _users(provider, "ids")["u-s1"]["userIds"]
    demo = provider.get(f"{V12}/demographics", "demo").json()["demographics"]
    assert {d["sourcedId"] for d in demo} == {"u-s1", "u-s2", "u-s3"}
    assert all("birthDate" not in d for d in demo)  # birth dates are their own category
    assert _users(provider, "all") == _users(provider, "full")


def test_rules_stored_before_categories_grant_everything() -> None:
    legacy = SharingRules.from_json({"schools": None, "entities": None, "fields": {}})
    assert all(legacy.sensitive_granted(c) for c in SENSITIVE)
    private = SharingRules.build()
    assert SharingRules.from_json(private.to_json()) == private
    assert private.cache_key() != legacy.cache_key()


def test_an_unknown_category_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match=r"--grant: unknown.*guardians") as info:
        SharingRules.build(sensitive=["guardians"])
    assert "contact_details" in (info.value.hint or "")


def _expire(provider: Provider, creds: Credentials) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    with provider.store.engine.begin() as conn:
        conn.execute(
            api_clients.update()
            .where(api_clients.c.client_id == creds.client_id)
            .values(expires_at=past)
        )


def test_an_expired_client_is_refused_everywhere(provider: Provider) -> None:
    soon = datetime.now(UTC) + timedelta(days=30)
    creds = _client(provider, "dsa", SharingRules.build(), expires_at=soon)
    token = provider.bearer("dsa")  # still valid: served
    assert provider.get(f"{V12}/orgs", "dsa").status_code == 200
    _expire(provider, creds)
    resp = provider.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.secret),
    )
    assert resp.status_code == 401
    body = resp.json()
    assert body["error"] == "invalid_client"
    assert "expired" in body["error_description"]
    assert creds.client_id in body["error_description"]
    # A token issued before the expiry stops working at once, with the imsx payload.
    for path in (f"{V12}/orgs", f"{V11}/users"):
        resp = provider.http.get(path, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401
        payload = resp.json()
        info = payload["statusInfoSet"][0] if "statusInfoSet" in payload else payload
        assert info["imsx_codeMajor"] == "failure"
        assert "expired on" in info["imsx_description"]
        assert "expired" in resp.text
    # A wrong secret learns nothing about the expiry.
    resp = provider.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(creds.client_id, "x")
    )
    assert resp.status_code == 401
    assert "expired" not in resp.text


def test_an_expired_client_signing_with_oauth1_is_refused(provider: Provider) -> None:
    from test_or_rest_auth import oauth1_header

    creds = _client(provider, "signer", SharingRules.build())
    url = f"{provider.http.base_url}{V11}/orgs".replace("//ims", "/ims")

    def get() -> httpx.Response:
        header = oauth1_header("GET", url, {}, creds.client_id, creds.secret)
        return provider.http.get(f"{V11}/orgs", headers={"Authorization": header})

    assert get().status_code == 200
    _expire(provider, creds)
    resp = get()
    assert resp.status_code == 401
    assert "expired on" in resp.json()["statusInfoSet"][0]["imsx_description"]
    # A wrong signature still says only that: the expiry is told to the secret's holder only.
    header = oauth1_header("GET", url, {}, creds.client_id, "not-the-secret")
    resp = provider.http.get(f"{V11}/orgs", headers={"Authorization": header})
    assert resp.status_code == 401
    assert "expired" not in resp.text


def test_an_expiry_in_the_past_is_refused(provider: Provider) -> None:
    with pytest.raises(ConfigurationError, match="--expires"):
        _client(provider, "late", SharingRules.build(), expires_at=datetime(2020, 1, 1, tzinfo=UTC))


# -- the CLI -----------------------------------------------------------------------------------


@pytest.fixture
def district() -> None:
    store = open_store(load_settings(), upgrade=True)
    store.create_district("Springfield")
    store.dispose()


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_cli_grants_and_expiry_show_in_the_summary(district: None) -> None:
    base = ("api-clients", "create", "--district", "Springfield", "--scopes", "roster.readonly")
    issued = json.loads(_invoke(*base, "--name", "LMS", "--json"))
    assert issued["sensitive"] == []
    assert issued["expires_at"] is None
    issued = json.loads(
        _invoke(
            *base,
            "--name",
            "SIS reports",
            "--grant",
            "demographics,birth_dates",
            "--expires",
            "2099-06-30",
            "--json",
        )
    )
    assert issued["sensitive"] == ["demographics", "birth_dates"]
    assert issued["expires_at"].startswith("2099-06-30T00:00:00")
    shown = json.loads(_invoke("api-clients", "show", "--district", "1", "SIS reports", "--json"))
    assert shown["sensitive"] == ["demographics", "birth_dates"]
    assert not shown["expired"]
    text = _invoke("api-clients", "show", "--district", "1", "LMS")
    assert "none (roster core only)" in text
    assert "expires:    never" in text
    listed = json.loads(_invoke("api-clients", "list", "--district", "1", "--json"))
    assert [c["sensitive"] for c in listed] == [[], ["demographics", "birth_dates"]]
    assert _invoke("api-clients", "list", "--district", "1").count("UTC") == 1


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("--grant", "demographics,pets"), "--grant: unknown sensitive data category pets"),
        (("--expires", "next tuesday"), "--expires: 'next tuesday' is not a date"),
        (("--expires", "2001-01-01"), "--expires: 2001-01-01T00:00:00+00:00 is not in the future"),
    ],
)
def test_cli_bad_grant_or_expiry_is_a_one_line_error(
    district: None,
    extra: tuple[str, ...],
    needle: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [
        "api-clients",
        "create",
        "--district",
        "1",
        "--name",
        "a",
        "--scopes",
        "roster.readonly",
    ]
    monkeypatch.setattr(sys, "argv", ["rostersync", *args, *extra])
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err
    assert info.value.code != 0
    assert needle in err
    assert "Traceback" not in err


# -- the migration -----------------------------------------------------------------------------


def test_migration_keeps_what_existing_clients_had(store_url: str) -> None:
    engine = make_engine(store_url)
    migrate_to(engine, "0014")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO districts (name, slug, created_at) VALUES ('A', 'a', '2026-01-01')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO api_clients (district_id, name, client_id, secret_salt, secret_hash,"
                " scopes, sharing, created_at) VALUES (1, 'old', 'or_old', 's', 'h',"
                " '[\"roster.readonly\"]', :sharing, '2026-01-01')"
            ),
            {"sharing": json.dumps({"schools": None, "entities": ["students"], "fields": {}})},
        )
    migrate_to(engine, "0016")
    clients = ApiClients(engine, "k" * 32)
    old = clients.list(1)[0]
    assert [c for c in SENSITIVE if old.sharing.sensitive_granted(c)] == list(SENSITIVE)
    assert old.sharing.sensitive == frozenset(SENSITIVE)  # written out, shown in the summary
    assert old.sharing.entities == frozenset({"students"})
    assert old.expires_at is None
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0015")
    with engine.connect() as conn:
        sharing = json.loads(conn.execute(sa.text("SELECT sharing FROM api_clients")).scalar_one())
        columns = {c["name"] for c in sa.inspect(conn).get_columns("api_clients")}
    assert "sensitive" not in sharing
    assert "expires_at" not in columns
    engine.dispose()
