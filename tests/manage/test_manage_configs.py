"""Configuration versions, runs and roster versions through the service layer (and the CLI):
a sync's stored configurations are listed, compared path by path, and restored as a new
version; bad version numbers and limits get errors naming them."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from mg_helpers import config_body, sync
from typer.testing import CliRunner

from rostersync import manage
from rostersync.cli import app
from rostersync.errors import ConfigurationError, VersionNotFound
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import RunningSimulator
from rostersync.store import Store, open_store
from rostersync.store.schema import audit_log


@pytest.fixture
def synced(store: Store, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Ashford synced twice, the second time with another connector backoff (config v2)."""
    settings = load_settings()
    body = config_body(sim.url, monkeypatch, "Ashford")
    sync(store, settings, body)
    body["sources"][0]["connector"]["backoff_max_seconds"] = 0.2
    body["sources"][0]["connector"]["backoff_base_seconds"] = 0.02
    sync(store, settings, body)
    return store


def test_list_diff_and_restore(synced: Store) -> None:
    store = synced
    versions = manage.list_config_versions(store, "Ashford")
    assert [v.version for v in versions] == [2, 1]
    assert versions[0].created_by == "cli"
    diff = manage.diff_config_versions(store, "ashford", 1, 2)
    changed = {c.path: (c.kind, c.old, c.new) for c in diff.changes}
    assert changed["sources[0].connector.backoff_max_seconds"] == ("changed", 0.1, 0.2)
    assert changed["sources[0].connector.backoff_base_seconds"] == ("changed", 0.01, 0.02)
    assert '-        "backoff_max_seconds": 0.1' in diff.unified
    assert '+        "backoff_max_seconds": 0.2' in diff.unified
    assert diff.unified.startswith("--- config version 1\n+++ config version 2\n")
    assert manage.diff_config_versions(store, "Ashford", 2, 2).changes == []

    restored = manage.restore_config_version(store, "admin:ann", "Ashford", 1)
    assert (restored.version, restored.created_by) == (3, "admin:ann")
    assert restored.comment == "restore of version 1"
    _, body1 = manage.get_config_version(store, "Ashford", 1)
    info, body3 = manage.get_config_version(store, "Ashford")
    assert (info.version, body3) == (3, body1)
    with store.engine.connect() as conn:
        last = conn.execute(sa.select(audit_log).order_by(audit_log.c.id.desc())).first()
    assert last is not None
    assert (last.actor, last.action) == ("admin:ann", "config.restore")
    assert json.loads(last.detail) == {"new": 3, "restored": 1, "was": 2}


def test_unknown_versions_are_named(synced: Store) -> None:
    with pytest.raises(VersionNotFound, match="'Ashford' has no config version 9") as info:
        manage.diff_config_versions(synced, "Ashford", 1, 9)
    assert "config versions -d ashford" in (info.value.hint or "")
    with pytest.raises(VersionNotFound, match="no config version 0"):
        manage.restore_config_version(synced, "cli", "Ashford", 0)
    assert [v.version for v in manage.list_config_versions(synced, "Ashford")] == [2, 1]
    with pytest.raises(ConfigurationError, match="No district 'Nowhere'"):
        manage.list_config_versions(synced, "Nowhere")


def test_runs_and_versions(synced: Store) -> None:
    store = synced
    runs = manage.list_runs(store, "Ashford")
    assert [r.status for r in runs] == ["succeeded", "succeeded"]
    assert manage.show_run(store, runs[0].id, "Ashford") == runs[0]
    with pytest.raises(ConfigurationError, match="--limit: 0 is out of range"):
        manage.list_runs(store, "Ashford", limit=0)
    other = manage.create_district(store, "test", "Bexley")
    with pytest.raises(VersionNotFound, match=f"Run {runs[0].id} does not exist"):
        manage.show_run(store, runs[0].id, other.id)  # another district's run is not found
    assert [v.version for v in manage.list_versions(store, "Ashford")] == [1]
    new = manage.rollback_version(store, "test", "Ashford", 1)
    assert new.version == 2
    assert all(d.is_empty for d in manage.diff_versions(store, "Ashford", 1, 2).values())
    with pytest.raises(VersionNotFound):
        manage.rollback_version(store, "test", "Ashford", 7)


def test_cli_config_versions_diff_restore(
    sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings()
    store = open_store(settings, upgrade=True)
    try:
        body = config_body(sim.url, monkeypatch, "Ashford")
        sync(store, settings, body)
        body["sources"][0]["connector"]["backoff_max_seconds"] = 0.3
        sync(store, settings, body)
    finally:
        store.dispose()
    runner = CliRunner()

    def ok(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, (result.output, result.exception)
        return result.output

    listed = json.loads(ok("config", "versions", "-d", "Ashford", "--json"))
    assert [v["version"] for v in listed] == [2, 1]
    text = ok("config", "diff", "-d", "Ashford", "1", "2")
    assert '+        "backoff_max_seconds": 0.3' in text
    structured = json.loads(ok("config", "diff", "-d", "Ashford", "1", "2", "--json"))
    assert [c["path"] for c in structured["changes"]] == [
        "sources[0].connector.backoff_max_seconds"
    ]
    assert "version 3" in ok("config", "restore", "-d", "Ashford", "1")
    restored = json.loads(ok("config", "get", "-d", "Ashford"))
    assert restored["sources"][0]["connector"]["backoff_max_seconds"] == 0.1
    bad = runner.invoke(app, ["config", "diff", "-d", "Ashford", "1", "12"])
    assert bad.exit_code != 0
