"""Admin accounts, roles, grants, TOTP, tokens, login backoff and the authorization helper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from rostersync.admin import authz
from rostersync.admin.accounts import Account, Accounts
from rostersync.admin.errors import AuthenticationFailed, LoginThrottled, PermissionDenied
from rostersync.admin.ratelimit import FREE_FAILURES, MAX_DELAY, LoginBackoff, delay_after
from rostersync.admin.tokens import Tokens
from rostersync.errors import ConfigurationError
from rostersync.settings import load_settings
from rostersync.store import Store
from rostersync.store.schema import admin_accounts, admin_tokens, districts

PASSWORD = "correct horse battery staple"


@pytest.fixture
def accounts(store: Store) -> Accounts:
    return Accounts(store, load_settings())


def test_passwords_are_argon2id_hashes_and_never_audited(accounts: Accounts, store: Store) -> None:
    accounts.create("root-op", "operator", PASSWORD, actor="cli:root")
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(admin_accounts.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert accounts.authenticate("root-op", PASSWORD, address="127.0.0.1").role == "operator"
    entries = store.list_audit()
    assert [e.action for e in entries][:2] == ["admin.login", "admin.create"]
    assert all(PASSWORD not in repr(e) for e in entries)


@pytest.mark.parametrize(
    ("name", "role", "password", "expected"),
    [
        ("ok", "wizard", PASSWORD, "unknown role"),
        ("has space", "viewer", PASSWORD, "is not allowed"),
        ("ok", "viewer", "short", "too short"),
        ("someone", "viewer", "someone-is-my-password", "contains the account's name"),
        ("ok", "viewer", "x" * 2000, "longer than"),
    ],
)
def test_bad_accounts_are_refused(
    accounts: Accounts, name: str, role: str, password: str, expected: str
) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        accounts.create(name, role, password, actor="t")


def test_duplicate_names_and_operator_grants_are_refused(accounts: Accounts, store: Store) -> None:
    d = store.create_district("A")
    accounts.create("op", "operator", PASSWORD, actor="t")
    with pytest.raises(ConfigurationError, match="already exists"):
        accounts.create("op", "viewer", PASSWORD, actor="t")
    with pytest.raises(ConfigurationError, match="operators manage every district"):
        accounts.grant("op", d.id, actor="t")
    with pytest.raises(ConfigurationError, match="No admin account 'nobody'"):
        accounts.grant("nobody", d.id, actor="t")


def test_wrong_password_unknown_name_and_reset(accounts: Accounts, store: Store) -> None:
    accounts.create("alice", "viewer", PASSWORD, actor="t")
    with pytest.raises(AuthenticationFailed) as wrong:
        accounts.authenticate("alice", "nope", address="10.0.0.1")
    with pytest.raises(AuthenticationFailed) as unknown:
        accounts.authenticate("bob", PASSWORD, address="10.0.0.1")
    assert str(wrong.value) == str(unknown.value)  # never says which part was wrong
    assert store.list_audit()[0].action == "admin.login_failed"
    accounts.reset_password("alice", "a brand new passphrase", actor="t")
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("alice", PASSWORD, address="10.0.0.2")
    assert accounts.authenticate("alice", "a brand new passphrase", address="10.0.0.2")


def test_totp_is_required_once_enabled(accounts: Accounts, store: Store) -> None:
    accounts.create("carol", "operator", PASSWORD, actor="t")
    uri = accounts.enable_totp("carol", actor="t")
    seed = pyotp.parse_uri(uri).secret
    with store.engine.connect() as conn:
        blob = conn.execute(sa.select(admin_accounts.c.totp_secret)).scalar_one()
    assert seed.encode() not in bytes(blob)
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("carol", PASSWORD, address="a")
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("carol", PASSWORD, address="b", totp_code="000000x")
    code = pyotp.TOTP(seed).now()
    assert accounts.authenticate("carol", PASSWORD, address="c", totp_code=code).totp


def test_backoff_grows_is_capped_and_never_permanent(store: Store) -> None:
    assert delay_after(FREE_FAILURES) == timedelta(0)
    assert delay_after(FREE_FAILURES + 1) == timedelta(seconds=1)
    assert delay_after(FREE_FAILURES + 3) == timedelta(seconds=4)
    assert delay_after(10_000) == MAX_DELAY
    t0 = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)
    backoff = LoginBackoff(store.engine, now=t0)
    for _ in range(50):
        backoff.failed("dave", "6.6.6.6")
    with pytest.raises(LoginThrottled) as info:
        backoff.check("dave", "6.6.6.6")
    assert info.value.retry_after == MAX_DELAY.total_seconds()
    backoff.check("dave", "10.0.0.9")  # the owner's own address is not slowed
    LoginBackoff(store.engine, now=t0 + MAX_DELAY + timedelta(seconds=1)).check(
        "dave", "6.6.6.6"
    )  # the wait ended on its own
    later = LoginBackoff(store.engine, now=t0 + timedelta(days=2))
    assert later.failed("dave", "6.6.6.6") == timedelta(0)  # an old count is forgotten


def test_login_is_throttled_after_the_free_failures(accounts: Accounts) -> None:
    accounts.create("erin", "viewer", PASSWORD, actor="t")
    for _ in range(FREE_FAILURES + 1):
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate("erin", "wrong", address="9.9.9.9")
    with pytest.raises(LoginThrottled):  # even the right password waits for the delay
        accounts.authenticate("erin", PASSWORD, address="9.9.9.9")
    assert accounts.authenticate("erin", PASSWORD, address="1.2.3.4").name == "erin"


def test_tokens_are_hashed_expire_and_revoke_at_once(accounts: Accounts, store: Store) -> None:
    accounts.create("frank", "district_admin", PASSWORD, actor="t")
    tokens = Tokens(store, accounts)
    token, token_id = tokens.create("frank", "ci", days=30, actor="t")
    assert token.startswith("rst_")
    assert len(token) > 40
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(admin_tokens)).one()
    assert token not in (row.token_hash, row.prefix)
    assert tokens.authenticate(token).name == "frank"
    with pytest.raises(AuthenticationFailed, match="Unknown"):
        tokens.authenticate(token + "x")
    tokens.revoke(token_id, actor="t")
    with pytest.raises(AuthenticationFailed, match="revoked"):
        tokens.authenticate(token)
    with pytest.raises(ConfigurationError, match="not revoked already"):
        tokens.revoke(token_id, actor="t")
    old, old_id = tokens.create("frank", "old", days=1, actor="t")
    with store.engine.begin() as conn:
        conn.execute(
            admin_tokens.update()
            .where(admin_tokens.c.id == old_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    with pytest.raises(AuthenticationFailed, match="expired"):
        tokens.authenticate(old)
    for days in (0, 367):
        with pytest.raises(ConfigurationError, match="--days"):
            tokens.create("frank", "x", days=days, actor="t")
    with pytest.raises(ConfigurationError, match="--name"):
        tokens.create("frank", " ", days=3, actor="t")


def test_authz_scopes_district_queries_to_the_caller(accounts: Accounts, store: Store) -> None:
    a, b = store.create_district("A"), store.create_district("B")
    op = accounts.create("op", "operator", PASSWORD, actor="t")
    da = accounts.create("da", "district_admin", PASSWORD, actor="t", districts_granted=[a.id])
    viewer = accounts.create("vi", "viewer", PASSWORD, actor="t", districts_granted=[b.id])

    def visible(caller: Account) -> set[int]:
        stmt = authz.scope(caller, sa.select(districts.c.id), districts.c.id)
        with store.engine.connect() as conn:
            return set(conn.execute(stmt).scalars())

    assert visible(op) == {a.id, b.id}
    assert visible(da) == {a.id}
    assert visible(viewer) == {b.id}
    authz.require(da, "write", a.id)
    with pytest.raises(ConfigurationError) as other:
        authz.require(da, "read", b.id)
    with pytest.raises(ConfigurationError) as missing:
        authz.require(da, "read", 999)
    assert str(other.value).replace(str(b.id), "N") == str(missing.value).replace("999", "N")
    authz.require(viewer, "read", b.id)
    with pytest.raises(PermissionDenied):
        authz.require(viewer, "write", b.id)
    with pytest.raises(PermissionDenied):
        authz.require(da, "write", None)
    authz.require(op, "write", None)
    accounts.revoke("da", a.id, actor="t")
    assert visible(accounts.get("da")) == set()
