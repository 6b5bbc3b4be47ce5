"""`rostersync ldap test|schools` on a configuration file, against the test directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from connector_ldap.conftest import Directory
from connector_ldap.ldap_helpers import source_body
from connector_ldap.slapd import READER_PASSWORD
from rostersync.cli import app


def run(directory: Directory, tmp_path: Path, *args: str, app_name: str = "ldap") -> Result:
    source = source_body(directory.url)
    source["app"] = app_name
    if app_name != "ldap":
        source.pop("connector")
        source["delivery"]["url"] = "https://sis.example.org"
    path = tmp_path / "district.yaml"
    path.write_text(yaml.safe_dump({"district": "Springfield", "sources": [source]}))
    return CliRunner().invoke(app, ["ldap", *args, "--config", str(path)])


def test_ldap_test_reports_the_searches(
    directory: Directory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LDAP_BIND_PASSWORD", READER_PASSWORD)
    result = run(directory, tmp_path, "test")
    assert result.exit_code == 0, (result.output, result.exception)
    assert f"ok Connected to {directory.url}" in result.output
    assert "students: the first entry lacks" in result.output
    assert READER_PASSWORD not in result.output


def test_ldap_test_fails_with_exit_3_and_the_hint(
    directory: Directory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LDAP_BIND_PASSWORD", "wrong-password")
    result = run(directory, tmp_path, "test")
    assert result.exit_code == 3, (result.output, result.exception)
    assert "failed The LDAP server" in result.output
    assert "invalid credentials" in result.output
    assert "hint: check delivery.client_id" in result.output
    as_json = run(directory, tmp_path, "test", "--json")
    assert json.loads(as_json.stdout)["ok"] is False


def test_ldap_schools_lists_them(
    directory: Directory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LDAP_BIND_PASSWORD", READER_PASSWORD)
    result = run(directory, tmp_path, "schools", "--json")
    assert result.exit_code == 0, (result.output, result.exception)
    assert json.loads(result.stdout) == [
        {"source_id": "101", "name": "Springfield Elementary"},
        {"source_id": "102", "name": "Shelbyville Elementary"},
    ]


def test_a_configuration_without_an_ldap_source_is_told_so(
    directory: Directory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LDAP_BIND_PASSWORD", READER_PASSWORD)
    result = run(directory, tmp_path, "test", app_name="powerschool")
    assert result.exit_code != 0
    assert "the configuration has no LDAP source" in str(result.exception)
