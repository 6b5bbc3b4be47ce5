"""`rostersync changes …`, `runs …` and `versions rollback` against a store in the data dir."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from changes_data import make_roster, with_tweaks
from typer.testing import CliRunner

from rostersync.cli import app
from rostersync.cli._app import console
from rostersync.logs import configure_logging
from rostersync.model import ENTITIES, Roster
from rostersync.settings import load_settings
from rostersync.store import Store, open_store
from rostersync.sync.approval import ChangeOptions, process_candidate

runner = CliRunner()


def _run(store: Store, district: int, roster: Roster) -> int:
    run_id = store.create_run(district, trigger="schedule", source="sis")
    process_candidate(
        store, district, run_id, roster, ChangeOptions(bulk_upload=True), today=date(2026, 10, 5)
    )
    return run_id


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    configure_logging()  # the runner's captured stderr is closed now; log to the real one
    assert result.exit_code == 0, result.output
    return result.output


def test_review_approve_reject_rollback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 240)  # whole table cells, whatever the terminal
    store = open_store(load_settings(), upgrade=True)
    district = store.create_district("Springfield").id
    day1 = make_roster(100)
    _run(store, district, day1)
    held = _run(store, district, with_tweaks(day1, drop=20, rename=2))
    held2 = _run(store, district, with_tweaks(day1, drop=30))

    out = _cli("runs", "list", "--district", "springfield")
    assert "held" in out
    assert "+0 ~2 -20" in out
    shown = json.loads(_cli("runs", "show", str(held), "--json"))
    assert shown["status"] == "held"
    assert shown["change_summary"]["hold_reasons"] == [
        "users: 20 deletes of 100 records (20.0%) exceeds the limit 10%"
    ]

    out = _cli("changes", "show", str(held), "--entity", "users")
    assert "exceeds the limit 10%" in out
    assert "Given0-renamed" in out
    data = json.loads(_cli("changes", "show", str(held), "--json"))
    updated = [r for r in data["rows"]["users"] if r["change"] == "updated"]
    assert updated[0] == {
        "change": "updated",
        "sourcedId": "u0",
        "field": "givenName",
        "before": "Given0",
        "after": "Given0-renamed",
    }
    _cli("changes", "show", str(held), "--csv", str(tmp_path / "out"))
    with (tmp_path / "out" / "users.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["change"] for r in rows} == {"updated", "deleted"}
    assert sum(1 for r in rows if r["change"] == "deleted" and r["field"] == "status") == 20

    assert "published as roster version 2" in _cli("changes", "approve", str(held))
    result = runner.invoke(app, ["changes", "approve", str(held2)])
    configure_logging()
    assert result.exit_code != 0
    assert "was published since" in str(result.exception or result.output)
    assert "nothing published" in _cli("changes", "reject", str(held2), "--reason", "stale")
    assert store.get_run(held2).status == "rejected"

    out = _cli("versions", "rollback", "--district", "springfield", "1")
    assert "published as version 3" in out
    for name, entity in ENTITIES.items():
        content = entity.content_names  # the records brought back carry the rollback's time
        assert (
            store.read_version(district, 3)[name].select(content).write_ndjson()
            == store.read_version(district, 1)[name].select(content).write_ndjson()
        )
    _cli("changes", "override", "-d", "springfield", "--allow-over-threshold-until", "2026-10-09")
    assert _run(store, district, with_tweaks(day1, drop=50))
    assert store.current_version(district) == 4
    store.dispose()
