"""The fault campaign (bench/faults.py): its loss accounting counts what a bad version drops, and a
tiny campaign runs end to end with the ground truth matching a clean sync exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def faults() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCH))
    try:
        import faults as module

        yield module
    finally:
        sys.path.remove(str(BENCH))


def test_a_version_missing_records_counts_as_lost_and_partial(
    faults: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rostersync.settings import Settings
    from rostersync.simulators.powerschool import DEFAULT_CLIENT_SECRET, generate_district

    sim = faults.FaultySimulator(generate_district("tiny", seed=3), seed=3)
    sim.start()
    store = faults.open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        monkeypatch.setenv(faults.SECRET_ENV, DEFAULT_CLIENT_SECRET)
        settings = Settings(data_dir=tmp_path / "var", database_url=None)
        config = faults.make_config(sim.url, "Check", {})
        assert faults.in_process_run(store, config, settings)[0] == "published"
        district = store.get_district("Check").id
        truth = faults.ground_truth(sim.district)
        clean = faults.check_store(store, district, truth, None)
        assert (clean.lost, clean.partial_versions, clean.stale) == (0, 0, 0)

        # A version that drops a tenth of the enrollments the source still holds.
        roster = store.read_version(district)
        dropped = roster["enrollments"].height // 10
        roster["enrollments"] = roster["enrollments"].slice(dropped)
        store.publish(district, roster)
        bad = faults.check_store(store, district, truth, 1)
        assert bad.lost == bad.wrongly_deleted == dropped
        assert bad.lost_by_entity == {"enrollments": dropped}
        assert bad.partial_versions == 1
    finally:
        store.dispose()
        sim.stop()


def test_ground_truth_follows_the_district_tables(faults: ModuleType) -> None:
    from rostersync.simulators.powerschool import generate_district

    district = generate_district("tiny", seed=5)
    truth = faults.ground_truth(district)
    active = district["students"].filter(pl.col("enroll_status") == 0)
    assert {f"student-{d}" for d in active["dcid"].to_list()} <= truth["users"]
    withdrawn = district["students"].filter(pl.col("enroll_status") != 0)
    assert not {f"student-{d}" for d in withdrawn["dcid"].to_list()} & truth["users"]
    assert "district" in truth["orgs"]


def test_a_tiny_campaign_prints_its_figures(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH / "faults.py"),
            "--cases",
            "clean,outage_start",
            "--runs",
            "1",
            "--size",
            "120",
            "--no-postgres",
            "--no-db-restart",
            "--backoff-max",
            "0.2",
            "--strict",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout)
    clean = out["cases"]["clean/sqlite"]
    assert clean["calibration"]["exact"] is True
    assert (clean["attempted"], clean["published"], clean["records_lost"]) == (1, 1, 0)
    assert clean["recovery"]["missing_after"] == 0
    outage = out["cases"]["outage_start/sqlite"]
    assert (outage["attempted"], outage["failed"], outage["records_lost"]) == (1, 1, 0)
    assert out["total"]["attempted"] == 2
