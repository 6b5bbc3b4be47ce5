"""With the PowerSchool simulator's days: day 1 → day 2 shows exactly the generated changes, an
outage day fails and publishes nothing, a 30 % withdrawal day is held, notified, approved."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import polars as pl
import pytest

from rostersync.config import validate_config
from rostersync.errors import SourceHealthError
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import (
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.store import Store
from rostersync.sync.approval import approve, reject
from rostersync.sync.changesets import load_changes
from rostersync.sync.run import sync_config
from rostersync.sync.wiring import decide_for
from support.configs import powerschool_config

TODAY = date(2025, 8, 26)


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with run_simulator(generate_district("tiny", seed=5), SimulatorConfig()) as running:
        yield running


def _config(url: str, monkeypatch: pytest.MonkeyPatch, receiver_url: str, **advanced: Any) -> Any:
    body = powerschool_config(url, monkeypatch, **advanced)
    body["notifications"] = {"webhook_url": receiver_url}
    return validate_config(body, "test config")


def _sync(store: Store, config: Any) -> Any:
    return sync_config(
        store, config, load_settings(), decide=decide_for(config, load_settings(), today=TODAY)
    )


def _students(frame: pl.DataFrame) -> set[str]:
    return set(frame.filter(pl.col("role") == "student")["sourcedId"].to_list())


def test_simulator_days(
    store: Store, sim: RunningSimulator, receiver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(sim.url, monkeypatch, receiver.url, bulk_upload=True)
    first = _sync(store, config)
    assert first.status == "succeeded"
    assert first.version == 1

    sim.set_day(1)
    truth = sim.district.changes_since(0)
    second = _sync(store, config)
    assert second.status == "succeeded"
    users = load_changes(store, second.run_id).entities["users"]

    def keys(action: str, what: str, table: str = "students") -> set[str]:
        rows = truth.filter(
            (pl.col("table") == table) & (pl.col("action") == action) & (pl.col("what") == what)
        )
        return {f"student-{k}" for k in rows["key"].to_list()}

    assert _students(users.added) == keys("insert", "new student")
    assert _students(users.deleted) == keys("update", "withdrawn")  # bulk upload: absent = gone
    renamed = keys("update", "first name corrected")
    emailed = keys("update", "email fixed", "u_def_ext_students")
    assert _students(users.updated) == renamed | emailed
    fields = users.fields.filter(pl.col("sourcedId").str.starts_with("student-"))
    assert set(fields.filter(pl.col("field") == "givenName")["sourcedId"]) == renamed
    assert set(fields.filter(pl.col("field") == "email")["sourcedId"]) == emailed

    # outage: the SIS answers with empty lists; the run fails and nothing is published
    with _outage(sim), pytest.raises(SourceHealthError, match="no records"):
        _sync(store, config)
    assert store.current_version(store.get_district(config.district).id) == 2

    # a 30 % withdrawal day: held, notified, then approved (and a second one rejected)
    district = store.get_district(config.district).id
    _withdraw(sim, 0.3)
    held = _sync(store, config)
    assert held.status == "held"
    run = store.get_run(held.run_id)
    assert run.status == "held"
    assert any("deletes" in r for r in run.change_summary["hold_reasons"])
    assert store.current_version(district) == 2
    events = [h["X-Rostersync-Event"] for h, _ in receiver.requests]
    assert events[-3:] == ["published", "failed", "held"]
    approved = approve(store, held.run_id, actor="admin")
    assert approved.version == 3
    assert _students(store.read_version(district)["users"]) == _students(
        store.read_version(district, 2)["users"]
    ) - _students(load_changes(store, held.run_id).entities["users"].deleted)

    _withdraw(sim, 0.4)
    again = _sync(store, config)
    assert again.status == "held"
    reject(store, again.run_id, reason="SIS roll-back mistake")
    assert store.current_version(district) == 3


@contextmanager
def _outage(sim: RunningSimulator) -> Iterator[None]:
    """The simulator's outage fault (lists come back empty, status 200) for a block."""
    sim.config.faults = dataclasses.replace(sim.config.faults, outage=True)
    try:
        yield
    finally:
        sim.config.faults = dataclasses.replace(sim.config.faults, outage=False)


def _withdraw(sim: RunningSimulator, share: float) -> None:
    """Withdraw a share of the active students in the served district (a mass-deletion day)."""
    students = sim.district.tables["students"]
    active = students.filter(pl.col("enroll_status") == 0)
    gone = active.head(int(active.height * share))["dcid"]
    sim.district.tables["students"] = students.with_columns(
        enroll_status=pl.when(pl.col("dcid").is_in(gone.implode()))
        .then(2)
        .otherwise("enroll_status")
    )
    sim.district.revision += 1
