"""A OneRoster REST source in a district configuration, synced through the CLI: the hub reads
another rostersync's provider and publishes the same roster."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from rest_helpers import Provider
from typer.testing import CliRunner, Result

from rostersync.cli import app
from rostersync.settings import load_settings
from rostersync.store import open_store


def _config(tmp_path: Path, provider: Provider, **connector: Any) -> Path:
    body = {
        "district": "Downstream",
        "sources": [
            {
                "name": "upstream",
                "app": "oneroster_rest",
                "delivery": {
                    "url": provider.url,
                    "client_id": provider.client_id,
                    "client_secret": "env:UPSTREAM_SECRET",
                },
                "connector": {"page_size": 20, "backoff_base_seconds": 0.01, **connector},
                "advanced": {"compare_by_uniqueness": False, "bulk_upload": True},
            }
        ],
    }
    path = tmp_path / "downstream.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def _sync(config: Path) -> Result:
    return CliRunner().invoke(app, ["sync", "run", "--config", str(config), "--json"])


def test_the_upstream_roster_is_synced(
    provider: Provider, tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", store_url)  # SQLite, then PostgreSQL
    monkeypatch.setenv("UPSTREAM_SECRET", provider.secret)
    result = _sync(_config(tmp_path, provider))
    assert result.exit_code == 0, result.output
    assert provider.secret not in result.output
    store = open_store(load_settings())
    try:
        district = store.get_district("Downstream")
        roster = store.read_version(district.id)
    finally:
        store.dispose()
    for name in ("orgs", "classes", "users", "enrollments"):
        assert set(roster[name]["sourcedId"]) == set(provider.roster[name]["sourcedId"]), name
    assert set(roster["users"]["source"]) == {"upstream"}
    joined = roster["users"].join(provider.roster["users"], on="sourcedId", suffix="_up")
    assert (joined["email"].eq_missing(joined["email_up"])).all()
    assert joined.filter(pl.col("role") != pl.col("role_up")).height == 0

    again = _sync(_config(tmp_path, provider))  # nothing changed upstream since
    assert again.exit_code == 0, again.output
    store = open_store(load_settings())
    try:
        run = store.get_run(json.loads(again.stdout)["run_id"])
    finally:
        store.dispose()
    read = run.phases["extract"]["incremental"]["upstream"]
    assert read["mode"] == "incremental"
    assert read["changed"] == {}


def test_a_wrong_secret_fails_the_run_clearly(
    provider: Provider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPSTREAM_SECRET", "wrong")
    result = _sync(_config(tmp_path, provider))
    assert result.exit_code != 0
    assert f"refused the client credentials of {provider.client_id!r}" in result.output
    assert "Traceback" not in result.output


def test_bad_connector_options_name_their_setting(
    provider: Provider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPSTREAM_SECRET", provider.secret)
    result = _sync(_config(tmp_path, provider, concurrency=0))
    assert result.exit_code != 0
    assert "sources[0].connector.concurrency" in result.output
    result = _sync(_config(tmp_path, provider, auth="oauth1"))
    assert result.exit_code != 0
    assert "sources[0].connector: auth oauth1 (OAuth 1.0a) is a OneRoster 1.1 option" in (
        result.output
    )
