"""The merge is source-agnostic: a PowerSchool source and a OneRoster CSV package of the same
people (exported by rostersync from another district's sync) become one record per person."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import yaml
from e2e_helpers import published, sync_json

from rostersync.model import ENTITY_TYPES
from rostersync.simulators.powerschool import (
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from support.cli import run_main
from support.configs import powerschool_config

FIRST = "Springfield Public Schools"
MERGED = "Springfield Merged"


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with run_simulator(generate_district("tiny", seed=2), SimulatorConfig()) as running:
        yield running


def test_powerschool_and_a_csv_package_of_the_same_people_merge(
    sim: RunningSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ps = powerschool_config(sim.url, monkeypatch)
    first = tmp_path / "first.yaml"
    first.write_text(yaml.safe_dump(ps), encoding="utf-8")
    sync_json(first)
    package = tmp_path / "roster.zip"
    code, _, err = run_main(
        ["export", "oneroster-csv", "--district", FIRST, "--out", str(package)], capsys
    )
    assert code == 0, err

    sis = ps["sources"][0]
    sis["advanced"] = {**sis["advanced"], "sis_prefix": "ps-", "multiple_sources": True}
    sis["advanced"]["compare_by_uniqueness"] = True
    csv = {
        "name": "csv",
        "app": "oneroster_csv",
        "connector": {"path": str(package)},
        "advanced": {"sis_prefix": "csv-", "multiple_sources": True},
    }
    both = tmp_path / "merged.yaml"
    both.write_text(yaml.safe_dump({"district": MERGED, "sources": [sis, csv]}), encoding="utf-8")
    outcome = sync_json(both)
    assert outcome["status"] == "succeeded"

    _, roster = published(MERGED)
    students = roster["users"].filter(ENTITY_TYPES["student"].mask())
    _, alone = published(FIRST)
    expected = alone["users"].filter(ENTITY_TYPES["student"].mask()).height
    # a student without an email (no key on the domain) stays under each source's ID
    assert students["sourcedId"].str.starts_with("ps-").sum() == expected
    report = pl.read_csv(
        Path(outcome["report"]["files"]) / "users.csv", infer_schema_length=0
    ).filter(pl.col("stage") == "cross_source_uniqueness")
    merged = report.filter(pl.col("action") == "merged")
    assert set(merged["source"]) == {"csv"}
    assert merged["sourcedId"].str.starts_with("csv-").all()
    assert merged["detail"].str.starts_with("ps-").all()
    unmatched = students.filter(pl.col("sourcedId").str.starts_with("csv-"))
    assert unmatched.height == expected - merged.filter(pl.col("entityType") == "student").height
    assert outcome["report"]["summary"]["users"]["merged"] >= merged.height
