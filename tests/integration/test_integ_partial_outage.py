"""A sync whose source goes dark mid-extraction fails, publishes nothing and says why."""

from __future__ import annotations

import dataclasses

import pytest
from integ_helpers import DISTRICT, Hook, make_config

from rostersync.connectors.health import PartialExtractError
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import RunningSimulator
from rostersync.store import Store
from rostersync.sync import sync_config


def test_an_outage_mid_extraction_fails_the_run_and_publishes_nothing(
    sim: RunningSimulator, store: Store, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(sim.url, monkeypatch, hook_url=hook.url, bulk_upload=False)
    first = sync_config(store, config, load_settings())
    assert first.version == 1
    district = store.get_district(DISTRICT).id
    published = {name: t.height for name, t in store.read_version(district).items()}
    requests = int(first.extract[config.sources[0].name]["requests"])

    # Outages switched on a third and two thirds into the extraction: past the opening counts,
    # so every list and count after that point answers empty with status 200.
    for share in (3, 2):
        point = sim.simulator.requests + requests // share
        sim.config.faults = dataclasses.replace(sim.config.faults, outage_after_requests=point)
        try:
            with pytest.raises(PartialExtractError, match="partial outage") as caught:
                sync_config(store, config, load_settings())
        finally:
            sim.config.faults = dataclasses.replace(sim.config.faults, outage_after_requests=None)
        assert caught.value.health.problems
        assert store.current_version(district) == 1
        run = store.list_runs(district)[0]
        assert run.status == "failed"
        assert "partial outage" in (run.error or "")
        assert {name: t.height for name, t in store.read_version(district).items()} == published
    assert hook.kinds() == ["published", "failed", "failed"]
