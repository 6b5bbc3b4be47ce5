"""`rostersync changes override` through the CLI against real syncs of the simulator: a shorter
override ends a longer one, `list` shows both, `revoke` ends the one in force."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from e2e_helpers import published, store, sync, sync_json, write_config
from typer.testing import CliRunner

from rostersync.cli import app
from rostersync.simulators.powerschool import District, RunningSimulator
from rostersync.sync.changesets import NothingToRevoke

DISTRICT = "Springfield Public Schools"


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def _mass_deletion(config: Path) -> None:
    body = yaml.safe_load(config.read_text())
    body["sources"][0]["filter_rules"] = {
        "student": [
            {"exclude": {"all": [{"attribute": "familyName", "op": "matches", "value": "^[A-R]"}]}}
        ]
    }
    config.write_text(yaml.safe_dump(body))


def test_shortened_override_no_longer_lets_a_mass_deletion_through(
    e2e_tiny: tuple[District, RunningSimulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, sim = e2e_tiny
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch)
    assert sync_json(config)["version"] == 1
    today = date.today()
    long_until = (today + timedelta(days=60)).isoformat()
    short_until = (today - timedelta(days=2)).isoformat()  # already over, in any time zone
    _cli("changes", "override", "-d", DISTRICT, "--allow-over-threshold-until", long_until)
    out = _cli(
        "changes", "override", "-d", DISTRICT, "--allow-over-threshold-until", short_until,
        "--reason", "rollover moved",
    )  # fmt: skip
    assert "no override is in force" in out
    assert f"replaces the override until {long_until}" in out

    listed = json.loads(_cli("changes", "override", "list", "-d", DISTRICT, "--json"))
    states = [(o["until"], o["state"]) for o in listed["overrides"]]
    assert states == [(long_until, "superseded"), (short_until, "ended")]

    _mass_deletion(config)
    result = sync(config)
    assert result.exit_code == 10, (result.output, result.exception)  # held, not published
    assert published()[0] == 1


def test_revoke_through_the_cli(
    e2e_tiny: tuple[District, RunningSimulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, sim = e2e_tiny
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch)
    assert sync_json(config)["version"] == 1
    until = (date.today() + timedelta(days=30)).isoformat()
    _cli("changes", "override", "-d", DISTRICT, "--allow-over-threshold-until", until)
    out = _cli("changes", "override", "revoke", "-d", DISTRICT, "--reason", "cancelled")
    assert "revoked" in out
    result = CliRunner().invoke(
        app, ["changes", "override", "revoke", "-d", DISTRICT, "--reason", "twice"]
    )
    assert isinstance(result.exception, NothingToRevoke)  # `main` prints it, exit 2
    assert result.exception.exit_code == 2
    assert "nothing to revoke" in str(result.exception)
    listed = json.loads(_cli("changes", "override", "list", "-d", DISTRICT, "--json"))
    [o] = listed["overrides"]
    assert (o["state"], o["revoke_reason"]) == ("revoked", "cancelled")
    assert o["revoked_by"].startswith("cli")

    _mass_deletion(config)
    assert sync(config).exit_code == 10
    s = store()
    assert [a.action for a in s.list_audit(s.get_district(DISTRICT).id)][:2] == [
        "hold_override_revoked",
        "hold_override",
    ]
    s.dispose()


def test_a_run_s_events_are_stored_and_printed(
    e2e_tiny: tuple[District, RunningSimulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, sim = e2e_tiny
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch)
    run_id = sync_json(config)["run_id"]
    lines = [json.loads(x) for x in _cli("runs", "events", str(run_id), "--json").splitlines()]
    kinds = [(e["kind"], e["phase"]) for e in lines if e["kind"] != "progress"]
    assert kinds == [
        ("phase_started", "extract"),
        ("phase_finished", "extract"),
        ("phase_started", "pipeline"),
        ("phase_finished", "pipeline"),
        ("phase_started", "changes"),
        ("phase_finished", "changes"),
        ("decision", "changes"),
    ]
    assert lines[-1]["data"] == {"status": "published", "version": 1}
    done = {e["entity"] for e in lines if e["kind"] == "progress" and e["data"]["finished"]}
    assert done  # every entity's last progress is kept
    out = _cli("runs", "events", str(run_id))
    assert "extract finished" in out
    assert "published" in out
