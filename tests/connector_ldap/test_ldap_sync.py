"""A district fed by its directory, end to end through the CLI: the bind password in the secret
store, a filter rule on group membership, and a server that drops the connection mid-page
publishing nothing (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from connector_ldap.conftest import Directory
from connector_ldap.district import ROBOTICS, STAFF_PEOPLE
from connector_ldap.ldap_helpers import source_body
from connector_ldap.proxy import dropping_proxy
from connector_ldap.slapd import READER_PASSWORD
from rostersync.cli import app
from rostersync.model import Roster
from rostersync.settings import load_settings
from rostersync.store import open_store

DISTRICT = "Springfield Directory District"
ROBOTICS_ONLY = {
    "student": [
        {
            "name": "robotics club members",
            "include": {"attribute": "metadata.groups", "op": "contains", "value": "Robotics Club"},
        }
    ]
}


def cli(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input)


def ok(*args: str, input: str | None = None) -> Result:
    result = cli(*args, input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def published() -> tuple[int | None, Roster, list[str]]:
    """The current version, its roster and the statuses of the runs (newest first)."""
    store = open_store(load_settings())
    try:
        district = store.get_district(DISTRICT)
        version = store.current_version(district.id)
        roster = store.read_version(district.id) if version is not None else {}
        return version, roster, [r.status for r in store.list_runs(district.id)]
    finally:
        store.dispose()


def test_a_directory_district_syncs_and_a_broken_page_publishes_nothing(
    directory: Directory, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", store_url)
    page = 7
    with dropping_proxy(directory.server.port, drop_after_entries=page + 2) as proxy:
        source = source_body(proxy.url, secret="store:ldap_bind", page_size=page)
        source["filter_rules"] = ROBOTICS_ONLY
        config = tmp_path / "district.yaml"
        config.write_text(yaml.safe_dump({"district": DISTRICT, "sources": [source]}))
        ok("db", "upgrade")
        ok("districts", "create", DISTRICT)
        ok("secrets", "set", "ldap_bind", "--district", DISTRICT, input=READER_PASSWORD)

        first = json.loads(ok("sync", "run", "--config", str(config), "--json").stdout)
        assert first["version"] == 1, first
        version, roster, _ = published()
        users = roster["users"]
        students = users.filter(users["role"] == "student")
        assert sorted(students["username"].to_list()) == [f"s{i:04d}" for i in ROBOTICS]
        assert users.height - students.height == len(STAFF_PEOPLE)
        assert sorted(roster["orgs"]["sourcedId"].to_list()) == ["101", "102", "district"]

        proxy.armed = True  # the next sync's students search loses its server mid-page
        broken = cli("sync", "run", "--config", str(config))
        assert proxy.dropped >= 1
    assert broken.exit_code != 0
    shown = f"{broken.output}\n{broken.exception}"
    assert "broke off the students search" in shown, shown
    assert "Traceback" not in broken.output
    after, roster_after, statuses = published()
    assert statuses[0] == "failed"
    assert after == version == 1
    for name, table in roster.items():
        assert roster_after[name].equals(table), f"{name} changed after the failed run"
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert READER_PASSWORD.encode() not in path.read_bytes(), f"password in {path}"
