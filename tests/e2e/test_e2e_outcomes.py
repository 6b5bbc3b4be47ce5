"""`rostersync sync run` outcomes through the change flow: held (exit 10, the numbers and the
hints), and the enrollment-status filter templates on the simulator's pre-registered students."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml
from e2e_helpers import published, store, sync, sync_json, write_config

from rostersync.errors import RunHeld
from rostersync.simulators.powerschool import District, RunningSimulator

BOTH = "school_enrollment.enroll_status==(A,P)"


def test_preview_holds_the_run_with_exit_10_and_the_hints(
    e2e_tiny: tuple[District, RunningSimulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, sim = e2e_tiny
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch, preview=True)
    result = sync(config, "--quiet")
    assert result.exit_code == RunHeld.exit_code == 10, (result.output, result.exception)
    out = result.stdout
    assert "held for approval, nothing published" in out
    assert "preview is on" in out
    s = store()
    run = s.list_runs(s.get_district("Springfield Public Schools").id)[0]
    assert run.status == "held"
    assert f"rostersync changes show {run.id}" in out
    assert f"rostersync changes approve {run.id}" in out
    version, _ = published()
    assert version is None


def test_hold_threshold_trip_prints_the_numbers(
    e2e_tiny: tuple[District, RunningSimulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, sim = e2e_tiny
    # First run: every student, pre-registered ones included (extracted on request).
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch)
    body = yaml.safe_load(config.read_text())
    body["sources"][0]["connector"]["student_filter"] = BOTH
    config.write_text(yaml.safe_dump(body))
    assert sync_json(config)["version"] == 1
    # Then a rule that drops most students: far above the 10 % delete limit.
    body["sources"][0]["filter_rules"] = {
        "student": [
            {"exclude": {"all": [{"attribute": "familyName", "op": "matches", "value": "^[A-R]"}]}}
        ]
    }
    config.write_text(yaml.safe_dump(body))
    result = sync(config)
    assert result.exit_code == 10, (result.output, result.exception)
    assert "deletes" in result.stdout
    assert "rostersync changes approve" in result.stdout
    assert published()[0] == 1


@pytest.mark.parametrize(
    ("template", "kept"),
    [(None, {0, -1}), ("exclude_pre_registered", {0}), ("active_students_only", {0})],
)
def test_enrollment_status_templates_on_powerschool_records(
    template: str | None,
    kept: set[int],
    e2e_tiny: tuple[District, RunningSimulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    district, sim = e2e_tiny
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch)
    body = yaml.safe_load(config.read_text())
    body["sources"][0]["connector"]["student_filter"] = BOTH
    if template is not None:
        body["sources"][0]["filter_rules"] = {"student": [{"template": template}]}
    config.write_text(yaml.safe_dump(body))
    outcome = sync_json(config)
    students = district["students"]
    assert students.filter(pl.col("enroll_status") == -1).height > 0  # the district has some
    want = {
        f"student-{d}"
        for d in students.filter(pl.col("enroll_status").is_in(list(kept)))["dcid"].to_list()
    }
    _, roster = published()
    got = set(roster["users"].filter(pl.col("role") == "student")["sourcedId"].to_list())
    assert got == want
    assert outcome["summary"]["students"] == len(want)
    if template is not None:
        assert outcome["report"]["summary"]  # the pipeline reported what it filtered


def test_json_is_printed_for_a_failed_and_a_held_run_too(
    e2e_tiny: tuple[District, RunningSimulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scripts read `sync run --json` from stdout whatever the outcome."""
    import json

    _, sim = e2e_tiny
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch)
    assert sync_json(config)["version"] == 1
    sim.config.faults.outage = True
    try:
        result = sync(config, "--json")
    finally:
        sim.config.faults.outage = False
    assert result.exit_code != 0
    out = json.loads(result.stdout)
    assert out["status"] == "failed"
    assert out["run_id"] is not None
    assert "returned no records" in out["error"]
    assert store().get_run(out["run_id"]).status == "failed"

    broken = tmp_path / "broken.yaml"
    broken.write_text("district: [\n", encoding="utf-8")
    result = sync(broken, "--json")
    assert result.exit_code != 0
    out = json.loads(result.stdout)
    assert (out["status"], out["run_id"]) == ("failed", None)
    assert "broken.yaml" in out["error"]

    held = write_config(tmp_path / "h.yaml", sim.url, monkeypatch, preview=True)
    result = sync(held, "--json")
    assert result.exit_code == 10
    assert json.loads(result.stdout)["status"] == "held"
