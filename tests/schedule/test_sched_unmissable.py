"""Schedules that cannot silently miss: a slot that passed before any scheduler saw the new
schedule runs once; an edited configuration file is picked up by a running worker; the overview
says plainly when no worker has been seen."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from sched_helpers import FakeClock, publishing_run

from rostersync.schedule.executors import InlineExecutor
from rostersync.schedule.scheduler import Scheduler
from rostersync.schedule.service import schedule_overview, start_scheduler_thread
from rostersync.settings import load_settings
from rostersync.store import Store
from rostersync.store.schema import config_versions
from support.configs import powerschool_config

DAILY_2AM = {"every": "daily", "at": "02:00", "timezone": "UTC"}


def _write(path: Path, monkeypatch: pytest.MonkeyPatch, schedule: Any) -> None:
    body = powerschool_config("http://127.0.0.1:9", monkeypatch, district="Watched ISD")
    body["sync_schedule"] = schedule
    path.write_text(yaml.safe_dump(body), encoding="utf-8")


def test_a_slot_passed_before_any_scheduler_saw_the_schedule_runs_once(store: Store) -> None:
    district = store.create_district("Late Worker")
    store.save_config_version(
        district.id,
        {"district": "Late Worker", "sources": [{"name": "sis"}], "sync_schedule": DAILY_2AM},
    )
    with store.engine.connect() as conn:
        saved_at = conn.execute(
            sa.select(config_versions.c.created_at).where(
                config_versions.c.district_id == district.id
            )
        ).scalar_one()
    # The first scheduler starts three days after the schedule was saved.
    saved_at = saved_at if saved_at.tzinfo else saved_at.replace(tzinfo=UTC)
    clock = FakeClock(saved_at.replace(hour=12, minute=0) + timedelta(days=3))
    scheduler = Scheduler(store, InlineExecutor(store, publishing_run), clock=clock)
    first = scheduler.tick()
    assert [(r.trigger, r.missed) for r in first.dispatched] == [("missed", 2)]
    assert [r.trigger for r in store.list_runs(district.id)] == ["missed"]
    reported = [e for e in store.list_audit(district.id) if e.action == "schedule.missed_run"]
    assert [e.detail["missed_slots"] for e in reported] == [3]
    assert scheduler.tick().dispatched == []  # once, not once per missed slot
    # A second scheduler (restart) does not run it again.
    again = Scheduler(store, InlineExecutor(store, publishing_run), clock=clock)
    assert again.tick().dispatched == []


def test_an_edited_file_is_the_schedule_at_the_next_tick(
    store: Store, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "watched.yaml"
    _write(path, monkeypatch, DAILY_2AM)
    scheduler = Scheduler(store, InlineExecutor(store, publishing_run), clock=clock, watch=[path])
    scheduler.tick()
    district = store.get_district("Watched ISD")
    key = (district.id, "sis")
    assert scheduler.plan.next_due(key) == datetime(2026, 9, 2, 2, tzinfo=UTC)
    _write(path, monkeypatch, {"every": "daily", "at": "13:00", "timezone": "UTC"})
    assert scheduler.tick().reloaded
    assert scheduler.plan.next_due(key) == datetime(2026, 9, 1, 13, tzinfo=UTC)
    saved = [e for e in store.list_audit(district.id) if e.action == "config.saved_from_file"]
    assert len(saved) == 2
    assert saved[0].detail["path"] == str(path)
    # A broken edit changes nothing and says what is wrong, with the file and the setting.
    path.write_text(
        path.read_text(encoding="utf-8").replace("at: '13:00'", "at: '25:00'"), encoding="utf-8"
    )
    scheduler.tick()
    assert scheduler.plan.next_due(key) == datetime(2026, 9, 1, 13, tzinfo=UTC)
    problem = scheduler.watch.problems[path]
    assert str(path) in problem.message
    assert "sync_schedule.at" in problem.message
    path.unlink()
    scheduler.tick()
    assert "cannot be read" in scheduler.watch.problems[path].message
    assert scheduler.plan.next_due(key) == datetime(2026, 9, 1, 13, tzinfo=UTC)


def test_a_running_worker_picks_up_an_edited_file(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "watched.yaml"
    _write(path, monkeypatch, {"every": "daily", "at": "02:00", "timezone": "UTC"})
    worker = start_scheduler_thread(
        load_settings(), interval=0.2, executor="inprocess", store=store, watch=[path]
    )
    try:
        district_id = _wait(lambda: _district_id(store))
        key = (district_id, "sis")
        _wait(lambda: worker.scheduler.plan.get(key))
        _write(path, monkeypatch, {"every": "weekly", "days": ["sat"], "at": "07:30"})
        schedule = _wait(
            lambda: (s := worker.scheduler.plan.get(key)) and s.schedule.every == "weekly" and s
        )
        assert schedule.schedule.at == "07:30"
    finally:
        worker.stop()


def test_the_overview_says_plainly_when_no_worker_was_seen(store: Store, clock: FakeClock) -> None:
    district = store.create_district("Unwatched")
    store.save_config_version(
        district.id,
        {"district": "Unwatched", "sources": [{"name": "sis"}], "sync_schedule": DAILY_2AM},
    )
    nobody = schedule_overview(store, clock.now).as_dict()["worker"]
    assert nobody["seen"] is False
    assert "no scheduler has been seen recently" in nobody["message"]
    assert "rostersync worker" in nobody["message"]
    scheduler = Scheduler(store, InlineExecutor(store, publishing_run), clock=clock)
    scheduler.tick()
    assert schedule_overview(store, clock.now).as_dict()["worker"]["seen"] is True
    later = schedule_overview(store, clock.now + timedelta(hours=1)).as_dict()["worker"]
    assert later["seen"] is False
    assert later["last_tick"] == clock.now.isoformat()


def _district_id(store: Store) -> int | None:
    try:
        return store.get_district("Watched ISD").id
    except Exception:
        return None


def _wait(probe: Any, seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("the worker did not pick the change up")


def test_watching_a_file_that_is_not_there_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from support.cli import run_main

    missing = tmp_path / "nowhere.yaml"
    code, out, err = run_main(["worker", "--once", "--watch", str(missing)], capsys)
    assert code != 0
    assert "--watch" in out + err
    assert str(missing) in (out + err).replace("\n", "")
    assert "Traceback" not in out + err
