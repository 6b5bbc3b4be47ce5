"""`rostersync powerschool test|schools --config`: the connection test and school list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_helpers import write_config
from typer.testing import CliRunner

from rostersync.cli import app
from rostersync.simulators.powerschool import District, RunningSimulator


def test_test_and_schools_commands(
    e2e_tiny: tuple[District, RunningSimulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    district, sim = e2e_tiny
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch)
    runner = CliRunner()
    result = runner.invoke(app, ["powerschool", "test", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"]
    assert report["district_name"] == district.name
    result = runner.invoke(app, ["powerschool", "schools", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    schools = json.loads(result.stdout)
    assert len(schools) == district.counts()["v1_schools"]

    bad = write_config(tmp_path / "bad.yaml", sim.url, monkeypatch, secret="nope")
    result = runner.invoke(app, ["powerschool", "test", "--config", str(bad)])
    assert result.exit_code == 3
    assert "client ID or secret" in result.stdout
