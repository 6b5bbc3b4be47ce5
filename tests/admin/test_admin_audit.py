"""The audit log is append-only (the database refuses changes), readable by filter and as CSV,
and records the actor of CLI commands; the admins commands end to end, bad input included."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa
from admin_cli import cli, ok
from sqlalchemy.exc import DBAPIError

from rostersync.admin.audit import list_entries, parse_since, to_csv
from rostersync.errors import ConfigurationError
from rostersync.store import Store
from rostersync.store.schema import audit_log, districts

PASSWORD = "a long enough passphrase"


def test_the_database_refuses_to_change_or_delete_audit_entries(store: Store) -> None:
    d = store.create_district("A")
    store.audit("cli:x", "district.create", d.id, name="A")
    for statement in (
        audit_log.update().values(actor="someone else"),
        audit_log.update().values(detail="{}"),
        audit_log.update().values(district_id=d.id + 1),
        audit_log.delete(),
    ):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(statement)
    assert [e.actor for e in store.list_audit()] == ["cli:x"]
    # Deleting the district keeps its trail (the foreign key only clears district_id).
    with store.engine.begin() as conn:
        conn.execute(districts.delete().where(districts.c.id == d.id))
    (entry,) = store.list_audit()
    assert entry.district_id is None
    assert entry.actor == "cli:x"


def test_listing_filters_and_csv(store: Store) -> None:
    a, b = store.create_district("A"), store.create_district("B")
    store.audit("u1", "x.one", a.id, note='comma, "quote"')
    store.audit("u2", "x.two", b.id)
    assert [e.action for e in list_entries(store, district_id=a.id)] == ["x.one"]
    assert list_entries(store, since=parse_since("2999-01-01")) == []
    assert len(list_entries(store, since=parse_since("2000-01-01T00:00:00+00:00"))) == 2
    rows = list(csv.DictReader(io.StringIO(to_csv(list_entries(store)))))
    assert [r["actor"] for r in rows] == ["u2", "u1"]
    assert json.loads(rows[1]["detail"]) == {"note": 'comma, "quote"'}
    with pytest.raises(ConfigurationError, match="--since"):
        parse_since("last tuesday")
    with pytest.raises(ConfigurationError, match="--limit"):
        list_entries(store, limit=0)


def test_admins_commands_record_their_actor(monkeypatch: pytest.MonkeyPatch) -> None:
    ok("db", "upgrade")
    ok("--as", "installer", "districts", "create", "North")
    ok("--as", "installer", "admins", "create", "ops", "--role", "operator", input=PASSWORD)
    monkeypatch.setenv("ROSTERSYNC_ACTOR", "ops")
    ok("admins", "create", "nina", "--role", "district_admin", "-d", "North", input=PASSWORD)
    ok("admins", "create", "vic", "--role", "viewer", input=PASSWORD)
    ok("admins", "grant", "vic", "--district", "North")
    ok("admins", "revoke", "vic", "--district", "North")
    ok("admins", "reset-password", "nina", input="another fine passphrase")
    created = ok("admins", "token-create", "nina", "--name", "ci", "--days", "7")
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("rst_")
    assert token not in ok("admins", "token-list").stdout
    ok("admins", "token-revoke", "1")
    listed = json.loads(ok("admins", "list", "--json").stdout)
    assert {(a["name"], a["role"]) for a in listed} == {
        ("ops", "operator"),
        ("nina", "district_admin"),
        ("vic", "viewer"),
    }
    assert next(a for a in listed if a["name"] == "nina")["districts"] == ["North"]
    monkeypatch.delenv("ROSTERSYNC_ACTOR")
    rows = list(csv.DictReader(io.StringIO(ok("audit", "list", "--csv").stdout)))
    actions = [(r["actor"], r["action"]) for r in reversed(rows)]
    assert actions[:2] == [("installer", "district.create"), ("installer", "admin.create")]
    assert ("ops", "admin.grant") in actions
    assert ("ops", "admin.token_revoke") in actions
    assert all(PASSWORD not in r["detail"] and token not in r["detail"] for r in rows)
    north = json.loads(ok("audit", "list", "--district", "North", "--json").stdout)
    assert {e["action"] for e in north} == {"district.create", "admin.grant", "admin.revoke"}
    # Without --as or ROSTERSYNC_ACTOR the OS user acts.
    ok("districts", "create", "South")
    assert json.loads(ok("audit", "list", "--json", "--limit", "1").stdout)[0]["actor"].startswith(
        "cli:"
    )


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (("admins", "create", "x", "--role", "root"), PASSWORD, "unknown role"),
        (("admins", "create", "x", "--role", "viewer"), "", "nothing was given"),
        (("admins", "create", "x", "--role", "viewer"), "short", "too short"),
        (("admins", "create", "x", "--role", "operator", "-d", "North"), PASSWORD, "grant none"),
        (("admins", "create", "x", "--role", "viewer", "-d", "Nowhere"), PASSWORD, "Nowhere"),
        (("admins", "grant", "ghost", "--district", "North"), None, "No admin account"),
        (("admins", "token-create", "ghost", "--name", "n"), None, "No admin account"),
        (("admins", "token-revoke", "42"), None, "No token 42"),
        (("audit", "list", "--since", "yesterday"), None, "--since"),
    ],
)
def test_bad_input_of_admins_and_audit(
    args: tuple[str, ...], stdin: str | None, expected: str
) -> None:
    ok("db", "upgrade")
    ok("districts", "create", "North")
    result = cli(*args, input=stdin)
    assert result.exit_code != 0
    assert expected in str(result.exception)
    assert PASSWORD not in result.output


def test_the_first_operator_has_no_default_password() -> None:
    ok("db", "upgrade")
    result = cli("admins", "create", "first", "--role", "operator", input="")
    assert "nothing was given" in str(result.exception)
    assert json.loads(ok("admins", "list", "--json").stdout) == []


def test_migration_0015_goes_down_and_up_again(store: Store) -> None:
    """The downgrade drops the management tables and the audit triggers, and nothing else."""
    from alembic import command

    from rostersync.store._migrate import alembic_config

    new = {"secrets", "admin_accounts", "admin_grants", "admin_tokens", "login_failures"}

    def tables() -> set[str]:
        return set(sa.inspect(store.engine).get_table_names())

    assert new <= tables()
    store.audit("x", "y")
    config = alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0014")
    assert not new & tables()
    assert "audit_log" in tables()
    with store.engine.begin() as conn:  # no trigger left behind
        conn.execute(audit_log.update().values(actor="changed"))
    store.upgrade()
    assert new <= tables()
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(audit_log.delete())
