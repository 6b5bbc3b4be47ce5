"""The first sync after upgrading to the validity stage: held by the threshold, then approved.

What the README promises an admin: a store published by a version without the stage sees most
enrollments change at once (``primary`` becomes ``false``), the hold threshold holds the run, and
``rostersync changes approve RUN`` publishes it. The first version is made by a real sync whose
candidate is published as a version without the stage published it: student enrollments without
``primary`` (the connector does not send it; the stage fills it) — through the sync's public
``decide`` hook, not by replacing any of the product's own functions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest
import yaml
from conformance_data import SECRET_ENV, district_config
from typer.testing import CliRunner

from rostersync.cli import app
from rostersync.config import load_config
from rostersync.model import Roster
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_SECRET,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.store import RosterVersion, Store, open_store
from rostersync.sync import sync_config
from rostersync.sync.wiring import decide_for


def _as_published_before_the_stage(candidate: Roster) -> Roster:
    """What a version without the validity stage published: no ``primary`` on student
    enrollments (issue #9 found 8,985 of 9,582 without it)."""
    student = pl.col("role") == "student"
    primary = pl.when(student).then(None).otherwise(pl.col("primary")).alias("primary")
    return {**candidate, "enrollments": candidate["enrollments"].with_columns(primary)}


def _first_sync_before_the_upgrade(config_path: Path) -> int | None:
    config = load_config(config_path)
    settings = load_settings()
    decide = decide_for(config, settings, notify=False)

    def publish_as_before(
        store: Store, district_id: int, run_id: int, candidate: Roster, health: Sequence[str] = ()
    ) -> RosterVersion | None:
        return decide(store, district_id, run_id, _as_published_before_the_stage(candidate), health)

    store = open_store(settings, upgrade=True)
    try:
        return sync_config(store, config, settings, decide=publish_as_before).version
    finally:
        store.dispose()


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
        assert _first_sync_before_the_upgrade(config) == 1
        second = runner.invoke(app, sync)
    assert second.exit_code == 10, second.output  # held
    held = json.loads(second.stdout)
    assert held["status"] == "held"
    assert any("enrollments" in r for r in held["hold_reasons"]), held["hold_reasons"]
    approved = runner.invoke(app, ["changes", "approve", str(held["run_id"])])
    assert approved.exit_code == 0, approved.output
    assert "published as roster version 2" in approved.output
