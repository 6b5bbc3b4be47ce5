"""Early access: next school year's data (its calendar, courses, classes and their enrollments)
is held back until the district opts in — an audited action — and every run says which."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from rostersync.config import validate_config
from rostersync.schedule.scheduler import load_scheduled_sources
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import District, SimulatorConfig, run_simulator
from rostersync.store import Store, open_store
from rostersync.sync.early_access import early_access_of, hold_back_next_year, set_early_access
from rostersync.sync.run import SyncOutcome, sync_config
from rostersync.sync.wiring import decide_for
from support.cli import run_main
from support.configs import powerschool_config

#: The day before the simulator's next school year begins (2026-08-19).
EVE = date(2026, 8, 18)


def _sync(store: Store, config: Any, today: date) -> SyncOutcome:
    settings = load_settings()
    decide = decide_for(config, settings, today=today, notify=False)
    return sync_config(store, config, settings, decide=decide)


def _years(store: Store, district_id: int) -> set[str]:
    sessions = store.read_version(district_id)["academicSessions"]
    return set(sessions.filter(pl.col("type") == "schoolYear")["schoolYear"].to_list())


def test_next_years_data_waits_for_the_opt_in(
    before_rollover: District, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    district = dataclasses.replace(before_rollover, tables=dict(before_rollover.tables))
    with run_simulator(district, SimulatorConfig()) as sim:
        sim.set_day(sim.district.day + 2)  # the next school year's terms and sections appear
        body = powerschool_config(sim.url, monkeypatch, district="Early ISD")
        body["hold_threshold"] = {"delete_percent": None, "update_percent": None}
        body["sync_schedule"] = {"first_day_of_school": True, "timezone": "UTC"}
        config = validate_config(body, "test config")
        held = _sync(store, config, EVE)
        district_id = store.get_district("Early ISD").id
        early = held.phases["early_access"]
        assert early["opted_in"] is False
        assert early["school_years"]
        assert early["held_back"]["academicSessions"] > 0
        assert early["held_back"]["classes"] > 0
        assert early["school_years"][0] not in _years(store, district_id)
        # The first-day-of-school sync is scheduled from the SIS's calendar all the same.
        scheduled, _ = load_scheduled_sources(store, EVE)
        assert [s.first_day for s in scheduled] == [date(2026, 8, 19)]

        set_early_access(store, district_id, True, actor="alice", note="teachers prepare")
        opened = _sync(store, config, EVE)
        assert opened.phases["early_access"] == {"opted_in": True, "changed_by": "alice"}
        assert early["school_years"][0] in _years(store, district_id)
        classes = opened.version_counts["classes"]
        assert classes["added"] == early["held_back"]["classes"]

        # Opting out holds back years not published yet; this one is out: it stays.
        set_early_access(store, district_id, False, actor="bob")
        again = _sync(store, config, EVE)
        assert again.status == "succeeded"
        assert again.phases["early_access"]["held_back"] == {}
        assert early["school_years"][0] in _years(store, district_id)
        # Once the year has begun there is nothing to hold back.
        begun = _sync(store, config, date(2026, 8, 19))
        assert begun.phases["early_access"]["held_back"] == {}
        actions = [e.action for e in store.list_audit(district_id)]
        assert actions[:2] == ["early_access.opt_out", "early_access.opt_in"]


def test_the_hold_back_is_exact_on_a_built_roster() -> None:
    from rostersync.model import ENTITIES, conform, empty_roster

    roster = empty_roster()
    roster["academicSessions"] = conform(
        ENTITIES["academicSessions"],
        pl.DataFrame(
            {
                "sourcedId": ["y1", "t1", "y2", "t2"],
                "status": ["active"] * 4,
                "title": ["2025", "S1", "2026", "S1"],
                "type": ["schoolYear", "semester", "schoolYear", "semester"],
                "startDate": [date(2025, 8, 20), date(2025, 8, 20), date(2026, 8, 19)] * 1
                + [date(2026, 8, 19)],
                "endDate": [date(2026, 6, 5)] * 2 + [date(2027, 6, 5)] * 2,
                "schoolYear": ["2026", "2026", "2027", "2027"],
            }
        ),
    )
    roster["classes"] = conform(
        ENTITIES["classes"],
        pl.DataFrame(
            {
                "sourcedId": ["old", "new", "both"],
                "status": ["active"] * 3,
                "title": ["a", "b", "c"],
                "courseSourcedId": ["c"] * 3,
                "schoolSourcedId": ["s"] * 3,
                "termSourcedIds": [["t1"], ["t2"], ["t1", "t2"]],
            }
        ),
    )
    roster["enrollments"] = conform(
        ENTITIES["enrollments"],
        pl.DataFrame(
            {
                "sourcedId": ["e1", "e2", "e3"],
                "status": ["active"] * 3,
                "classSourcedId": ["old", "new", "both"],
                "schoolSourcedId": ["s"] * 3,
                "userSourcedId": ["u"] * 3,
                "role": ["student"] * 3,
            }
        ),
    )
    kept, held, years = hold_back_next_year(roster, date(2026, 8, 18))
    assert years == ["2027"]
    assert held == {"academicSessions": 2, "classes": 1, "enrollments": 1}
    assert kept["classes"]["sourcedId"].to_list() == ["old", "both"]
    assert kept["enrollments"]["sourcedId"].to_list() == ["e1", "e3"]
    assert hold_back_next_year(roster, date(2026, 8, 19))[1] == {}


def test_the_cli_opts_in_and_out_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(load_settings(), upgrade=True)
    district = store.create_district("Cli ISD")
    store.dispose()
    code, out, _ = run_main(["early-access", "show", "--district", "Cli ISD"], capsys)
    assert code == 0
    assert "early access off" in out
    code, out, _ = run_main(
        ["--as", "carol", "early-access", "on", "--district", "Cli ISD", "--note", "why"], capsys
    )
    assert code == 0, out
    assert "early access ON" in out
    code, out, _ = run_main(["early-access", "show", "--district", "Cli ISD", "--json"], capsys)
    shown = json.loads(out)
    assert shown["opted_in"] is True
    assert shown["changed_by"] == "carol"
    store = open_store(load_settings())
    try:
        assert early_access_of(store, district.id).note == "why"
        assert store.list_audit(district.id)[0].action == "early_access.opt_in"
    finally:
        store.dispose()
    code, out, err = run_main(["early-access", "on", "--district", "Nowhere ISD"], capsys)
    assert code != 0
    assert "Nowhere ISD" in out + err
    assert "Traceback" not in out + err
