"""A district fed by its directory, end to end through the CLI: the bind password in the secret
store, a filter rule on group membership, and a server that drops the connection mid-page or
ends a search early publishing nothing (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from connector_ldap.conftest import Directory
from connector_ldap.district import ROBOTICS, STAFF_PEOPLE
from connector_ldap.ldap_helpers import source_body
from connector_ldap.proxy import dropping_proxy
from connector_ldap.slapd import LIMITED_DN, LIMITED_TOTAL, READER_PASSWORD
from rostersync.cli import app
from rostersync.model import Roster
from rostersync.settings import load_settings
from rostersync.store import open_store

# The OneRoster CSV validator of tests/conformance, written from the specification.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))
from conformance_csv import ids_of, summarize, validate_package

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
        for spec in ("1.1", "1.2"):  # what was published is OneRoster, by a strict validator
            package = tmp_path / f"or-{spec}.zip"
            ok("export", "oneroster-csv", "--out", str(package), "--version", spec)
            with zipfile.ZipFile(package) as zf:
                report = validate_package(spec, {i.filename: zf.read(i) for i in zf.infolist()})
            assert not report.errors, summarize(report.errors)
            assert ids_of(report, "users") == set(users["sourcedId"].to_list())

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

    # A server that ends the searches early (its size limit for this account) fails the same way.
    source["delivery"]["url"] = directory.url
    source["delivery"]["client_id"] = LIMITED_DN
    config.write_text(yaml.safe_dump({"district": DISTRICT, "sources": [source]}))
    limited = cli("sync", "run", "--config", str(config))
    assert limited.exit_code != 0
    shown = f"{limited.output}\n{limited.exception}"
    assert f"the server stopped the search after {LIMITED_TOTAL} entries (sizeLimitExceeded" in (
        shown
    ), shown
    after, roster_after, statuses = published()
    assert statuses[:2] == ["failed", "failed"]
    assert after == 1
    for name, table in roster.items():
        assert roster_after[name].equals(table), f"{name} changed after the limited run"
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert READER_PASSWORD.encode() not in path.read_bytes(), f"password in {path}"
