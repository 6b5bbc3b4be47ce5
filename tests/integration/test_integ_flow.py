"""The sync run through the change flow, with the PowerSchool simulator and a real webhook:
complete snapshots delete what the SIS stops sending, outages fail, every failure is notified,
and the first day of school announces its new data."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import polars as pl
import pytest
from integ_helpers import DISTRICT, Hook, make_config

from rostersync.errors import ConfigurationError, SourceHealthError, SourceUnreachable
from rostersync.schedule.runner import execute_run, sync_run_function
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import RunningSimulator
from rostersync.store import Store
from rostersync.sync import sync_config
from rostersync.sync.run import ensure_district, save_config
from rostersync.sync.wiring import options_for


def _students(frame: pl.DataFrame) -> set[str]:
    return set(frame.filter(pl.col("role") == "student")["sourcedId"].to_list())


def test_powerschool_is_a_complete_snapshot(
    sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert options_for(make_config(sim.url, monkeypatch)).bulk_upload is True


def test_withdrawn_student_is_deleted_and_an_outage_fails(
    sim: RunningSimulator, store: Store, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(sim.url, monkeypatch, hook_url=hook.url, bulk_upload=False)
    first = sync_config(store, config, load_settings())
    assert (first.status, first.version, first.unchanged) == ("succeeded", 1, False)
    district = store.get_district(DISTRICT).id
    before = _students(store.read_version(district)["users"])

    sim.set_day(1)
    truth = sim.district.changes_since(0)
    withdrawn = {
        f"student-{k}"
        for k in truth.filter((pl.col("table") == "students") & (pl.col("what") == "withdrawn"))[
            "key"
        ].to_list()
    }
    assert withdrawn
    assert withdrawn <= before
    second = sync_config(store, config, load_settings())
    assert (second.status, second.version) == ("succeeded", 2)
    assert second.changes["entities"]["users"]["deleted"] >= len(withdrawn)
    after = _students(store.read_version(district)["users"])
    assert not withdrawn & after  # bulk_upload is off: absence from the snapshot deleted them

    sim.config.faults = dataclasses.replace(sim.config.faults, outage=True)
    with pytest.raises(SourceHealthError, match="no records"):
        sync_config(store, config, load_settings())
    assert store.current_version(district) == 2
    assert hook.kinds() == ["published", "published", "failed"]
    assert store.list_runs(district)[0].status == "failed"


def test_extract_failure_sends_the_failed_notification(
    store: Store, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config("http://127.0.0.1:9", monkeypatch, hook_url=hook.url)
    with pytest.raises(SourceUnreachable):
        sync_config(store, config, load_settings())
    assert hook.kinds() == ["failed"]
    event = hook.events[0]
    assert event["district"] == DISTRICT
    assert event["reasons"][0].startswith("extract: ")
    run = store.get_run(event["run_id"])
    assert run.status == "failed"
    assert store.current_version(run.district_id) is None


def test_configuration_failure_sends_the_failed_notification(
    sim: RunningSimulator, store: Store, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(sim.url, monkeypatch, hook_url=hook.url)
    monkeypatch.delenv("PS_CLIENT_SECRET")  # the secret reference points nowhere now
    with pytest.raises(ConfigurationError, match="PS_CLIENT_SECRET"):
        sync_config(store, config, load_settings())
    assert hook.kinds() == ["failed"]
    assert "PS_CLIENT_SECRET" in hook.events[0]["reasons"][0]


def test_first_day_of_school_run_announces_new_data(
    sim: RunningSimulator, store: Store, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(sim.url, monkeypatch, hook_url=hook.url)
    district = ensure_district(store, config)
    save_config(store, district, config, "test")
    record = execute_run(
        store,
        sync_run_function,
        district_id=district,
        source="sis",
        trigger="first_day_of_school",
        ttl=timedelta(seconds=30),
    )
    assert (record.status, record.roster_version, record.trigger) == (
        "succeeded",
        1,
        "first_day_of_school",
    )
    assert hook.kinds() == ["published"]
    assert hook.events[0]["first_day_of_school"] is True
    assert hook.events[0]["trigger"] == "first_day_of_school"

    # A manual run that publishes is plain "new data", not the first day's.
    sim.set_day(1)
    sync_config(store, config, load_settings(), trigger="manual")
    assert hook.kinds() == ["published", "published"]
    assert hook.events[1]["first_day_of_school"] is False


def test_first_day_email_subject_says_so() -> None:
    from rostersync.notify import Event

    first = Event("published", DISTRICT, 4, 2, trigger="first_day_of_school")
    assert "first day of school, new data available (roster version 2)" in first.subject
    assert first.text().startswith(f"{DISTRICT}: first day of school")
    plain = Event("published", DISTRICT, 5, 3, trigger="scheduled")
    assert "first day" not in plain.subject
    assert Event("failed", DISTRICT, 6, trigger="first_day_of_school").first_day is False
