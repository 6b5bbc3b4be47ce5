"""API clients through the service layer, on SQLite and PostgreSQL, with a synced roster:
private by default, grants and expiry in the summary, audited without the secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from mg_helpers import config_body, sync

from rostersync import manage
from rostersync.errors import ConfigurationError
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import RunningSimulator
from rostersync.store import Store
from rostersync.store.schema import audit_log, roster_tables

KEY = "k" * 40


def test_issue_show_revoke(
    store: Store, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync(store, load_settings(), config_body(sim.url, monkeypatch, "Ashford"))
    orgs = roster_tables["orgs"]
    with store.engine.connect() as conn:
        school = conn.scalars(sa.select(orgs.c.sourcedId).where(orgs.c.type == "school")).first()
    assert school is not None
    until = datetime.now(UTC) + timedelta(days=90)
    issued = manage.create_api_client(
        store,
        "admin:ann",
        KEY,
        "Ashford",
        "LMS",
        ["roster.readonly"],
        schools=[school],
        grant=["contact_details"],
        expires_at=until,
    )
    plain = manage.create_api_client(store, "cli", KEY, "Ashford", "Maps", ["roster.readonly"])
    shown = manage.show_api_client(store, KEY, "Ashford", "LMS").as_dict()
    assert shown["sensitive"] == ["contact_details"]
    assert shown["sharing"]["schools"] == [school]
    assert shown["expires_at"] == until.isoformat()
    assert manage.show_api_client(store, KEY, "Ashford", plain.client.client_id).sensitive == []
    listed = manage.list_api_clients(store, KEY, "Ashford")
    assert [s.client.name for s in listed] == ["LMS", "Maps"]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(audit_log)).all()
    details = [r.detail for r in rows]
    assert ("admin:ann", "api_client.create") in {(r.actor, r.action) for r in rows}
    assert not any(issued.client_secret in d or plain.client_secret in d for d in details)
    manage.revoke_api_client(store, "cli", KEY, "Ashford", "LMS")
    assert manage.show_api_client(store, KEY, "Ashford", "LMS").client.revoked


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"schools": ["no-such-school"]}, "--schools: no-such-school is not a school"),
        ({"grant": ["guardians"]}, "--grant: unknown sensitive data category guardians"),
        ({"entities": ["pets"]}, "--entities: unknown entity grant(s) pets"),
        ({"expires_at": datetime(2001, 1, 1, tzinfo=UTC)}, "--expires: 2001-01-01"),
    ],
)
def test_bad_grants_are_named(
    store: Store,
    sim: RunningSimulator,
    monkeypatch: pytest.MonkeyPatch,
    kwargs: dict[str, object],
    needle: str,
) -> None:
    sync(store, load_settings(), config_body(sim.url, monkeypatch, "Ashford"))
    with pytest.raises(ConfigurationError) as info:
        manage.create_api_client(
            store,
            "cli",
            KEY,
            "Ashford",
            "LMS",
            ["roster.readonly"],
            **kwargs,  # type: ignore[arg-type]
        )
    assert needle in str(info.value)
    assert manage.list_api_clients(store, KEY, "Ashford") == []


def test_parse_expiry() -> None:
    assert manage.parse_expiry("2030-06-30") == datetime(2030, 6, 30, tzinfo=UTC)
    assert manage.parse_expiry(" ") is None
    with pytest.raises(ConfigurationError, match="--expires: 'soon' is not a date"):
        manage.parse_expiry("soon")
