"""A OneRoster CSV source in a district configuration, synced through the CLI into the store:
published, then a broken package trips the circuit breaker and nothing is deleted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from csv_helpers import PackageFactory, edit, lines
from typer.testing import CliRunner, Result

from rostersync.cli import app
from rostersync.model import Roster
from rostersync.settings import load_settings
from rostersync.store import open_store


def _config(tmp_path: Path, connector: dict[str, Any], **source: Any) -> Path:
    body = {
        "district": "Riverside",
        "sources": [
            {
                "name": "csv",
                "app": "oneroster_csv",
                "connector": connector,
                "advanced": {"bulk_upload": True, "compare_by_uniqueness": False},
                **source,
            }
        ],
    }
    path = tmp_path / "riverside.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def _sync(config: Path) -> Result:
    return CliRunner().invoke(app, ["sync", "run", "--config", str(config), "--json"])


def _published() -> tuple[int | None, Roster]:
    store = open_store(load_settings())
    try:
        district = store.get_district("Riverside")
        version = store.current_version(district.id)
        return version, (store.read_version(district.id) if version is not None else {})
    finally:
        store.dispose()


def test_a_package_is_synced_and_a_broken_one_deletes_nothing(
    make_package: PackageFactory,
    sis_roster: Roster,
    tmp_path: Path,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", store_url)  # SQLite, then PostgreSQL
    package = make_package("1.2", zip=True)
    config = _config(tmp_path, {"path": str(package)})
    result = _sync(config)
    assert result.exit_code == 0, result.output
    version, roster = _published()
    assert version is not None
    expected = sis_roster["users"].filter(pl.col("status") == "active")
    assert set(roster["users"]["sourcedId"]) == set(expected["sourcedId"])
    assert set(roster["users"]["source"]) == {"csv"}
    assert roster["enrollments"].height > 0

    broken = make_package("1.2", "broken")
    edit(broken, "users.csv", lines(broken, "users.csv")[0] + "\r\n")
    result = _sync(_config(tmp_path, {"path": str(broken)}))
    assert result.exit_code != 0
    assert "users (file:users.csv): a bulk file with a header and no rows" in result.output
    assert "Traceback" not in result.output
    after, roster_after = _published()
    assert after == version
    assert roster_after["users"].height == roster["users"].height


def test_a_csv_source_with_a_delivery_is_refused(tmp_path: Path) -> None:
    delivery = {"url": "http://x", "client_id": "a", "client_secret": "env:X"}
    config = _config(tmp_path, {"path": "pkg.zip"}, delivery=delivery)
    result = _sync(config)
    assert result.exit_code != 0
    assert "sources[0].delivery: app 'oneroster_csv' reads files, not a service" in result.output


def test_bad_connector_options_name_their_setting(tmp_path: Path) -> None:
    result = _sync(_config(tmp_path, {"path": "a.zip", "max_files": "many"}))
    assert result.exit_code != 0
    assert "sources[0].connector.max_files" in result.output
    assert "Traceback" not in result.output
