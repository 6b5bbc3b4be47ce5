"""A source that starts answering empty lists in the middle of an extraction: the run fails naming
the scopes that lost their records, and no published version loses a record the source still has.

Built on a real sync of the PowerSchool simulator; the outage is switched on after the N-th API
request of the second run (the simulator's ``outage_after_requests`` fault), for N over the whole
extraction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from typing import Any

import polars as pl
import pytest
from changes_data import make_roster

from rostersync.config import validate_config
from rostersync.connectors import Extraction, HealthProblem, SourceHealth
from rostersync.errors import RostersyncError, SourceHealthError
from rostersync.model import ENTITIES
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import (
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.store import Store
from rostersync.sync.approval import ChangeOptions, process_candidate
from rostersync.sync.run import health_reasons, sync_config
from rostersync.sync.wiring import decide_for
from support.configs import powerschool_config

TODAY = date(2025, 9, 10)


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with run_simulator(generate_district("tiny", seed=7), SimulatorConfig()) as running:
        yield running


def _sync(store: Store, config: Any, sim: RunningSimulator, n: int | None) -> tuple[Any, int]:
    """One sync whose source goes dark after its ``n``-th API request (the simulator's own
    ``outage_after_requests``); also how many API requests the sync made."""
    start = sim.simulator.requests
    point = None if n is None else start + n
    sim.config.faults = dataclasses.replace(sim.config.faults, outage_after_requests=point)
    try:
        outcome = sync_config(
            store,
            config,
            load_settings(),
            decide=decide_for(config, load_settings(), today=TODAY, notify=False),
        )
        return outcome, sim.simulator.requests - start
    except RostersyncError as exc:
        return exc, sim.simulator.requests - start
    finally:
        sim.config.faults = dataclasses.replace(sim.config.faults, outage_after_requests=None)


def test_no_outage_point_publishes_deletions(
    store: Store, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = validate_config(
        powerschool_config(sim.url, monkeypatch, bulk_upload=True), "test config"
    )
    first, total = _sync(store, config, sim, None)
    assert first.version == 1
    district = store.get_district(config.district).id
    truth = store.read_version(district)
    failed_by_scope = 0
    # every switch point of the extraction (the source itself never changes: nothing may go)
    for n in range(1, total, max(1, total // 40)):
        outcome, _ = _sync(store, config, sim, n)
        _nothing_lost(truth, store.read_version(district), n, outcome)
        if isinstance(outcome, SourceHealthError):
            # the connector's cross-check names "students (school:12): …", the change step's
            # scope rules "school:12 …": either way a scope, not a wholesale-empty entity
            failed_by_scope += any(
                scope in r for r in outcome.reasons for scope in ("school:", "class:", "section:")
            )
        else:
            assert not isinstance(outcome, Exception), (n, outcome)
            assert outcome.status in ("succeeded", "held"), (n, outcome)
    assert failed_by_scope > 0  # the scope rules, not only the empty-entity rule, caught some


def test_connector_reported_health_problems_fail_the_run(store: Store) -> None:
    day1 = make_roster(60)
    district = store.create_district("Springfield").id
    options = ChangeOptions(bulk_upload=True)
    first = store.create_run(district, trigger="manual", source="sis")
    assert process_candidate(store, district, first, day1, options, today=TODAY).version
    run = store.create_run(district, trigger="manual", source="sis")
    problem = "students of school 1: 40 announced, 12 received"
    out = process_candidate(store, district, run, day1, options, today=TODAY, health=[problem])
    assert (out.status, out.reasons) == ("failed", [f"the source reported: {problem}"])
    assert store.get_run(run).status == "failed"
    assert problem in (store.get_run(run).error or "")


def test_health_reasons_read_from_an_extraction() -> None:
    problem = HealthProblem("sections", "school:12", 3, 2, "3 pages announced, 2 received")
    result = Extraction(roster={}, stats={}, health=SourceHealth((problem,)))
    assert health_reasons("sis", result, several=False) == [
        "sections (school:12): 3 pages announced, 2 received"
    ]
    assert health_reasons("sis", result, several=True) == [
        "sis: sections (school:12): 3 pages announced, 2 received"
    ]
    assert health_reasons("sis", Extraction(roster={}, stats={}), several=False) == []


def _nothing_lost(truth: Any, now: Any, n: int, outcome: Any) -> None:
    """Every record of the source is still published, and none was turned ``tobedeleted``."""
    for name in ENTITIES:
        kept = now[name].filter(pl.col("status") != "tobedeleted")["sourcedId"]
        lost = truth[name]["sourcedId"].filter(~truth[name]["sourcedId"].is_in(kept.implode()))
        assert lost.len() == 0, (n, name, lost.head(5).to_list(), outcome)
