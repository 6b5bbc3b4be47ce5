"""The renumbering day: a school's students get new SIS IDs overnight; the next sync publishes
updates, not deletions, and keeps doing so (simulator → connector → pipeline → change flow →
store, on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import polars as pl
import pytest

from rostersync.config import DistrictConfig, validate_config
from rostersync.model import ENTITY_TYPES
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import (
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.store import Store
from rostersync.sync import sync_config
from support.configs import powerschool_config

SCHOOL = 110  # the school whose students are renumbered (one of five)
#: The admin's rule: the state ID and the person (some students have no email in this SIS).
RULE = {
    "keys": {"student": ["metadata.stateId", "givenName", "familyName", "birthDate"]},
    "min_confidence": 0.75,
}


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    """A fresh small district per test (the tests renumber its students)."""
    district = generate_district("small", seed=3)
    with run_simulator(district, SimulatorConfig(enable_control=True)) as running:
        yield running


def config(sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch, **top: Any) -> DistrictConfig:
    body = {**powerschool_config(sim.url, monkeypatch), "relinking": RULE, **top}
    return validate_config(body, "renumbering day")


def renumber(sim: RunningSimulator, school: int) -> int:
    answer = httpx.post(f"{sim.url}/_sim/renumber", json={"school": school})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["renumbered"])


def students(store: Store, district_id: int) -> pl.DataFrame:
    users = store.read_version(district_id, entities=["users"])["users"]
    return users.filter(ENTITY_TYPES["student"].mask()).select("sourcedId", "sourceId", "email")


def test_the_renumbering_day_publishes_updates_not_deletions(
    sim: RunningSimulator, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(sim, monkeypatch)
    first = sync_config(store, cfg, load_settings())
    assert first.status == "succeeded"
    before = students(store, first.district_id)
    enrollments_before = store.read_version(first.district_id, entities=["enrollments"])

    moved = renumber(sim, SCHOOL)
    assert moved > 100
    second = sync_config(store, cfg, load_settings())

    assert second.status == "succeeded", second.hold_reasons
    counts = second.changes["entities"]
    assert {name: c["deleted"] for name, c in counts.items() if c["deleted"]} == {}
    assert {name: c["added"] for name, c in counts.items() if c["added"]} == {}
    after = students(store, second.district_id)
    assert sorted(after["sourcedId"]) == sorted(before["sourcedId"])
    changed = before.join(after, on="sourcedId", suffix="_now").filter(
        pl.col("sourceId") != pl.col("sourceId_now")
    )
    # every active student of the school kept the sourcedId, with the new SIS key as sourceId
    assert 0 < changed.height <= moved
    assert counts["users"]["updated"] >= changed.height  # their legacy contacts too
    enrollments_after = store.read_version(second.district_id, entities=["enrollments"])
    assert enrollments_after["enrollments"].height == enrollments_before["enrollments"].height

    relinked = pl.read_csv(f"{second.report['files']}/users.csv").filter(
        (pl.col("action") == "relinked") & (pl.col("entityType") == "student")
    )
    assert relinked.height == changed.height
    assert set(relinked["detail"]) == set(changed["sourcedId"])

    third = sync_config(store, cfg, load_settings())  # the kept re-links keep the IDs stable
    assert third.status == "succeeded"
    assert third.unchanged


def test_without_relinking_the_same_day_reads_as_a_mass_deletion(
    sim: RunningSimulator, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(sim, monkeypatch, relinking={"enabled": False})
    sync_config(store, cfg, load_settings())
    renumber(sim, SCHOOL)
    second = sync_config(store, cfg, load_settings())
    assert second.status == "held"
    assert second.changes["entities"]["users"]["deleted"] > 100


def test_renumbering_an_unknown_school_is_refused_with_the_schools_named(
    sim: RunningSimulator,
) -> None:
    answer = httpx.post(f"{sim.url}/_sim/renumber", json={"school": 4242})
    assert answer.status_code == 400
    assert "no school number 4242" in answer.text
    assert "100, 110, 120, 130, 140" in answer.text
    bad = httpx.post(f"{sim.url}/_sim/renumber", json={"school": "110"})
    assert bad.status_code == 400
