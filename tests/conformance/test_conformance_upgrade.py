"""The first sync after upgrading to the validity stage: held by the threshold, then approved.

What the README promises an admin: a store published by a version without the stage (simulated by
running the pipeline without it) sees most enrollments change at once (``primary`` becomes
``false``), the hold threshold holds the run, and ``rostersync changes approve RUN`` publishes it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conformance_data import SECRET_ENV, district_config
from typer.testing import CliRunner

import rostersync.pipeline._run as pipeline_run
from rostersync.cli import app
from rostersync.model import Roster
from rostersync.pipeline._report import StageReport
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_SECRET,
    SimulatorConfig,
    generate_district,
    run_simulator,
)


def _without_validity(tables: Roster) -> tuple[Roster, StageReport]:
    return tables, StageReport.build("validity", None, tables, tables)


def test_first_sync_after_upgrade_is_held_then_approved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, DEFAULT_CLIENT_SECRET)
    runner = CliRunner()
    with run_simulator(generate_district("tiny", seed=5), SimulatorConfig()) as sim:
        body = district_config(sim.url)
        del body["hold_threshold"]  # the default limits
        config = tmp_path / "district.yaml"
        config.write_text(yaml.safe_dump(body), encoding="utf-8")
        sync = ["sync", "run", "--config", str(config), "--json"]
        with monkeypatch.context() as before_upgrade:
            before_upgrade.setattr(pipeline_run, "validity", _without_validity)
            first = runner.invoke(app, sync)
        assert first.exit_code == 0, first.output
        assert json.loads(first.stdout)["version"] == 1
        second = runner.invoke(app, sync)
    assert second.exit_code == 10, second.output  # held
    held = json.loads(second.stdout)
    assert held["status"] == "held"
    assert any("enrollments" in r for r in held["hold_reasons"]), held["hold_reasons"]
    approved = runner.invoke(app, ["changes", "approve", str(held["run_id"])])
    assert approved.exit_code == 0, approved.output
    assert "published as roster version 2" in approved.output
