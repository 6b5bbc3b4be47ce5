"""Manual match / unmatch through `rostersync matches …`: the decision survives later syncs, is
audited and reversible; bad input gets a clear one-line error (simulator → sync → store)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from e2e_helpers import published, store, sync_json, write_config

from rostersync.simulators.powerschool import (
    District,
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from support.cli import run_main
from support.configs import powerschool_config

DISTRICT = "Springfield Public Schools"


@pytest.fixture
def tiny() -> Iterator[tuple[District, RunningSimulator]]:
    district = generate_district("tiny", seed=2)
    with run_simulator(district, SimulatorConfig(enable_control=True)) as sim:
        yield district, sim


def user_ids() -> set[str]:
    _, roster = published()
    return set(roster["users"]["sourcedId"].to_list())


def matches(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run_main(["matches", *args], capsys)


def test_a_manual_match_survives_later_syncs_and_can_be_undone(
    tiny: tuple[District, RunningSimulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    district, sim = tiny
    twin, original = district.duplicates.row(0)  # a student entered twice in the SIS
    keep, other = f"student-{original}", f"student-{twin}"
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch)
    sync_json(config)
    assert {keep, other} <= user_ids()  # no domain of uniqueness: the rules missed them

    code, out, err = matches(capsys, "link", "-d", DISTRICT, "-e", "student", keep, other)
    assert code == 0, err
    assert f"{other} will be joined into {keep}" in out
    second = sync_json(config)
    assert second["changes"]["entities"]["users"]["deleted"] == 1
    assert keep in user_ids()
    assert other not in user_ids()
    _, roster = published()
    enrolled = set(roster["enrollments"]["userSourcedId"].to_list())
    assert other not in enrolled
    assert keep in enrolled

    third = sync_json(config)  # the decision survives
    assert third["unchanged"] is True

    code, out, _ = matches(capsys, "list", "-d", DISTRICT, "--json")
    assert code == 0
    listed = json.loads(out)
    assert [(r["kind"], r["from_id"], r["to_id"]) for r in listed] == [("link", other, keep)]

    code, out, err = matches(capsys, "unlink", "-d", DISTRICT, "-e", "users", other, keep)
    assert code == 0, err
    sync_json(config)
    assert {keep, other} <= user_ids()
    code, out, _ = matches(capsys, "list", "-d", DISTRICT, "--all", "--json")
    kinds = sorted((r["kind"], r["ended_at"] is None) for r in json.loads(out))
    assert kinds == [("apart", True), ("link", False)]

    s = store()
    try:
        actions = [e.action for e in s.list_audit(s.get_district(DISTRICT).id)]
    finally:
        s.dispose()
    assert actions[:2] == ["matches.unlink", "matches.link"]


def test_a_sync_relink_is_listed_and_reversible(
    tiny: tuple[District, RunningSimulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, sim = tiny
    # renumbering the tiny district's only school updates most records: a planned change
    body = {**powerschool_config(sim.url, monkeypatch), "hold_threshold": {"update_percent": None}}
    config = tmp_path / "d.yaml"
    config.write_text(yaml.safe_dump(body), encoding="utf-8")
    sync_json(config)
    before = user_ids()
    assert httpx.post(f"{sim.url}/_sim/renumber", json={"school": 100}).status_code == 200
    sync_json(config)
    code, out, _ = matches(
        capsys, "list", "-d", DISTRICT, "--kind", "relink", "-e", "users", "--json"
    )
    assert code == 0
    relinks = [r for r in json.loads(out) if r["from_id"].startswith("student-")]
    assert relinks, "the renumbered students were re-linked"
    first = relinks[-1]
    assert first["to_id"] in before
    assert first["run_id"] is not None

    code, _, err = matches(
        capsys, "unlink", "-d", DISTRICT, "-e", "student", first["from_id"], first["to_id"]
    )
    assert code == 0, err
    after = sync_json(config)
    now = user_ids()
    assert first["from_id"] in now  # published under the source's new ID again
    assert first["to_id"] not in now
    assert after["changes"]["entities"]["users"]["added"] >= 1
    again = sync_json(config)  # and it is not re-linked automatically
    assert first["from_id"] in user_ids()
    assert again["unchanged"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["link", "-e", "student", "x", "x"], "give two different records to join"),
        (["link", "-e", "student", "student-100001", "nope"], "no record 'nope' among"),
        (["link", "-e", "pupil", "a", "b"], "unknown entity 'pupil'; use one of: student"),
        (["unlink", "-e", "users", "a", "b"], "'a' and 'b' are not matched"),
        (["list", "--kind", "merge"], "unknown kind 'merge'; use relink, link or apart"),
        (["list", "--limit", "0"], "limit must be from 1 to 1000"),
    ],
)
def test_bad_input_is_one_clear_line(
    tiny: tuple[District, RunningSimulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    _, sim = tiny
    sync_json(write_config(tmp_path / "d.yaml", sim.url, monkeypatch))
    code, _, err = matches(capsys, args[0], "-d", DISTRICT, *args[1:])
    assert code != 0
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_an_unknown_district_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    run_main(["db", "upgrade"], capsys)
    code, _, err = matches(capsys, "list", "-d", "Nowhere")
    assert code != 0
    assert "Nowhere" in err
