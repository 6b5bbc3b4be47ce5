"""`rostersync gradebook …`: write back now, the write-back log, holds; bad input gets a clear
error naming the setting or the hold, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from gb_served import GB12, Served, district_config

from support.cli import run_main


@pytest.fixture
def cli_env(served: Served, monkeypatch: pytest.MonkeyPatch) -> Served:
    """The CLI pointed at the served district's store."""
    monkeypatch.setenv("ROSTERSYNC_DATA_DIR", str(served.settings.data_dir))
    monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", served.settings.resolved_database_url)
    return served


def _config(served: Served, path: Path, mode: str) -> Path:
    body = district_config(served.sim.url)
    body["sources"][0]["sync_mode"] = mode
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def test_writeback_log_and_holds(
    cli_env: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    served = cli_env
    code, _, err = run_main(
        ["gradebook", "writeback", "--config", str(_config(served, tmp_path / "i.yaml", "import"))],
        capsys,
    )
    assert code == 2
    assert "sync_mode" in err
    assert "Traceback" not in err
    cid, students = served.class_with_students()
    served.put(f"{GB12}/categories/cli-cat", {"category": {"title": "Homework"}})
    item = {
        "title": "Worksheet",
        "assignDate": "2026-12-01T08:00:00Z",
        "dueDate": "2026-12-02T08:00:00Z",
        "class": {"sourcedId": cid},
        "category": {"sourcedId": "cli-cat"},
    }
    assert served.put(f"{GB12}/lineItems/cli-li", {"lineItem": item}).status_code == 201
    result = {
        "lineItem": {"sourcedId": "cli-li"},
        "student": {"sourcedId": students[0]},
        "scoreStatus": "fully graded",
        "score": 8,
        "scoreDate": "2026-12-02",
    }
    assert served.put(f"{GB12}/results/cli-r", {"result": result}).status_code == 201
    config = _config(served, tmp_path / "t.yaml", "two_way")
    code, out, err = run_main(["gradebook", "writeback", "--config", str(config), "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert (report["assignments_created"], report["scores_written"]) == (1, 1)
    district = str(served.district_id)
    code, out, _ = run_main(["gradebook", "log", "--district", district, "--json"], capsys)
    assert code == 0
    logged = {(e["kind"], e["sourcedId"], e["outcome"]) for e in json.loads(out)}
    assert {("lineItems", "cli-li", "written"), ("results", "cli-r", "written")} <= logged
    code, out, _ = run_main(["gradebook", "holds", "--district", district, "--json"], capsys)
    assert (code, json.loads(out)) == (0, [])
    code, _, err = run_main(["gradebook", "approve", "--district", district, "41"], capsys)
    assert code == 2
    assert "no pending grade write-back hold 41" in err
    assert "rostersync gradebook holds" in err
