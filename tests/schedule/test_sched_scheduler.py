"""The scheduler loop against a real store with a fake clock: daily, weekly, DST, expiry,
missed runs after downtime, first day of school, two schedulers, interrupted runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
from sched_helpers import FakeClock, publishing_run, tiny_roster

from rostersync.model import ENTITIES, conform
from rostersync.schedule.executors import InlineExecutor
from rostersync.schedule.locks import RunLocks
from rostersync.schedule.scheduler import Scheduler
from rostersync.store import Store


def configure(store: Store, name: str, schedule: dict[str, Any], *sources: str) -> int:
    district = store.create_district(name)
    body = {
        "district": name,
        "sources": [{"name": s, "app": "powerschool"} for s in sources or ("sis",)],
        "sync_schedule": schedule,
    }
    store.save_config_version(district.id, body)
    return district.id


def make(store: Store, clock: FakeClock, **kw: Any) -> tuple[Scheduler, InlineExecutor]:
    executor = InlineExecutor(store, publishing_run)
    return Scheduler(store, executor, clock=clock, **kw), executor


def tick_until(scheduler: Scheduler, clock: FakeClock, end: datetime, step: timedelta) -> None:
    while clock.now < end:
        clock.advance(seconds=step.total_seconds())
        scheduler.tick()


def runs_of(store: Store, district_id: int) -> list[tuple[str, str, str | None]]:
    return [(r.trigger, r.status, r.source) for r in reversed(store.list_runs(district_id))]


def test_daily_schedule_runs_once_a_day_at_local_time(store: Store, clock: FakeClock) -> None:
    d = configure(store, "Springfield", {"every": "daily", "at": "02:00", "timezone": "UTC"})
    scheduler, executor = make(store, clock)
    assert scheduler.tick().dispatched == []  # a new schedule never fires old slots
    tick_until(scheduler, clock, datetime(2026, 9, 4, 12, tzinfo=UTC), timedelta(minutes=30))
    runs = store.list_runs(d)
    assert [r.trigger for r in runs] == ["scheduled"] * 3
    assert all(r.status == "published" for r in runs)
    assert len(executor.records) == 3
    assert scheduler.plan.next_due((d, "sis")) == datetime(2026, 9, 5, 2, tzinfo=UTC)
    assert store.current_version(d) == 3


def test_spring_forward_night_runs_once(store: Store) -> None:
    clock = FakeClock(datetime(2026, 3, 7, 12, tzinfo=UTC))
    d = configure(
        store, "Eastern", {"every": "daily", "at": "02:30", "timezone": "America/New_York"}
    )
    scheduler, _ = make(store, clock)
    scheduler.tick()
    tick_until(scheduler, clock, datetime(2026, 3, 8, 16, tzinfo=UTC), timedelta(minutes=10))
    runs = store.list_runs(d)
    assert len(runs) == 1
    assert runs[0].trigger == "scheduled"


def test_fall_back_night_runs_once(store: Store) -> None:
    clock = FakeClock(datetime(2026, 10, 31, 12, tzinfo=UTC))
    d = configure(
        store, "Eastern", {"every": "daily", "at": "01:30", "timezone": "America/New_York"}
    )
    scheduler, _ = make(store, clock)
    scheduler.tick()
    tick_until(scheduler, clock, datetime(2026, 11, 1, 16, tzinfo=UTC), timedelta(minutes=10))
    assert len(store.list_runs(d)) == 1


def test_weekly_schedule_and_expiry_notice(store: Store, clock: FakeClock) -> None:
    # 2026-09-01 is a Tuesday; runs on Thursdays until 2026-09-20
    schedule = {
        "every": "weekly",
        "days": ["thu"],
        "at": "06:00",
        "timezone": "America/Chicago",
        "expires": "2026-09-20",
    }
    d = configure(store, "Weekly", schedule)
    scheduler, _ = make(store, clock)
    scheduler.tick()
    tick_until(scheduler, clock, datetime(2026, 10, 10, tzinfo=UTC), timedelta(hours=6))
    starts = sorted(r.started_at for r in store.list_runs(d) if r.started_at)
    assert len(starts) == 3  # Sept 3, 10 and 17; none after expiry
    expired = [a for a in store.list_audit(d) if a.action == "schedule.expired"]
    assert len(expired) == 1, "the admin is told once that the schedule has expired"
    assert expired[0].detail["expires"] == "2026-09-20"


def test_missed_runs_run_once_after_downtime(store: Store, clock: FakeClock) -> None:
    d = configure(store, "Downtime", {"every": "daily", "at": "02:00", "timezone": "UTC"})
    scheduler, _ = make(store, clock)
    scheduler.tick()
    tick_until(scheduler, clock, datetime(2026, 9, 2, 3, tzinfo=UTC), timedelta(minutes=30))
    assert runs_of(store, d) == [("scheduled", "published", "sis")]
    # the machine is down for four days; a NEW scheduler process starts up
    clock.now = datetime(2026, 9, 6, 9, 17, tzinfo=UTC)
    restarted, _ = make(store, clock)
    result = restarted.tick()
    assert [(r.trigger, r.missed) for r in result.dispatched] == [("missed", 3)]
    assert runs_of(store, d) == [("scheduled", "published", "sis"), ("missed", "published", "sis")]
    assert restarted.tick().dispatched == []
    tick_until(restarted, clock, datetime(2026, 9, 7, 3, tzinfo=UTC), timedelta(minutes=5))
    assert [t for t, _, _ in runs_of(store, d)] == ["scheduled", "missed", "scheduled"]


def test_first_day_of_school_sync_at_local_midnight(store: Store) -> None:
    clock = FakeClock(datetime(2026, 9, 6, 12, tzinfo=UTC))
    d = configure(store, "School", {"first_day_of_school": True, "timezone": "America/New_York"})
    roster = tiny_roster("School")
    roster["academicSessions"] = conform(
        ENTITIES["academicSessions"],
        pl.DataFrame(
            {
                "sourcedId": ["y1", "y2"],
                "status": ["active", "active"],
                "source": ["sis", "sis"],
                "sourceId": ["1", "2"],
                "title": ["2025-2026", "2026-2027"],
                "type": ["schoolYear", "schoolYear"],
                "startDate": [date(2025, 9, 2), date(2026, 9, 8)],
                "endDate": [date(2026, 6, 20), date(2027, 6, 18)],
                "schoolYear": ["2026", "2027"],
            }
        ),
    )
    store.publish(d, roster)
    scheduler, _ = make(store, clock)
    scheduler.tick()
    assert scheduler.plan.next_due((d, "sis")) == datetime(2026, 9, 8, 4, tzinfo=UTC)
    tick_until(scheduler, clock, datetime(2026, 9, 8, 3, 0, tzinfo=UTC), timedelta(hours=1))
    assert clock.now == datetime(2026, 9, 8, 3, 0, tzinfo=UTC)
    assert store.list_runs(d) == []
    clock.advance(minutes=65)
    result = scheduler.tick()
    assert [r.trigger for r in result.dispatched] == ["first_day_of_school"]
    tick_until(scheduler, clock, datetime(2026, 9, 12, tzinfo=UTC), timedelta(hours=3))
    assert [r.trigger for r in store.list_runs(d)] == ["first_day_of_school"]


def test_two_schedulers_sharing_a_store_dispatch_each_slot_once(
    store: Store, clock: FakeClock
) -> None:
    ids = [
        configure(store, f"District {i}", {"every": "daily", "at": "02:00", "timezone": "UTC"})
        for i in range(5)
    ]
    # long reload interval: b does not re-read the state, so only the claim protects the slot
    a, _ = make(store, clock, name="a", reload_every=timedelta(days=7))
    b, _ = make(store, clock, name="b", reload_every=timedelta(days=7))
    a.tick()
    b.tick()
    clock.now = datetime(2026, 9, 2, 2, 1, tzinfo=UTC)
    first, second = a.tick(), b.tick()
    assert (len(first.dispatched), len(second.dispatched), len(second.skipped)) == (5, 0, 5)
    for d in ids:
        assert len(store.list_runs(d)) == 1


def test_a_district_with_two_sources_syncs_once_per_slot(store: Store, clock: FakeClock) -> None:
    # a sync extracts every source of the district, so one run per slot covers both
    d = configure(store, "Two", {"every": "daily", "at": "02:00", "timezone": "UTC"}, "sis", "ad")
    scheduler, _ = make(store, clock)
    scheduler.tick()
    assert scheduler.plan.get((d, "sis")) is not None
    assert scheduler.plan.get((d, "sis")).sources == ("sis", "ad")  # type: ignore[union-attr]
    clock.now = datetime(2026, 9, 2, 2, 1, tzinfo=UTC)
    result = scheduler.tick()
    assert [r.source for r in result.dispatched] == ["sis"]
    assert runs_of(store, d) == [("scheduled", "published", "sis")]


def test_interrupted_run_is_marked_failed_and_retried_when_configured(
    store: Store, clock: FakeClock
) -> None:
    schedule = {"every": "daily", "at": "02:00", "timezone": "UTC", "retry_interrupted": True}
    d = configure(store, "Retry", schedule)
    other = configure(store, "NoRetry", {"every": "daily", "at": "02:00", "timezone": "UTC"})
    scheduler, _ = make(store, clock, lock_ttl=timedelta(minutes=2))
    scheduler.tick()
    # two workers died mid-run: their locks stay until they expire
    dead = RunLocks(store.engine, ttl=timedelta(minutes=2), clock=clock)
    dead_runs = {}
    for district in (d, other):
        run_id = store.create_run(district, trigger="scheduled", source="sis")
        store.update_run(run_id, status="running")
        dead.try_acquire(district, "sis", trigger="scheduled", run_id=run_id)
        dead_runs[district] = run_id
    clock.advance(minutes=1)
    assert scheduler.tick().reaped == []
    clock.advance(minutes=2)
    result = scheduler.tick()
    assert sorted(i.district_id for i in result.reaped) == sorted((d, other))
    assert [(r.district_id, r.trigger) for r in result.retried] == [(d, "retry")]
    for run_id in dead_runs.values():
        assert store.get_run(run_id).status == "failed"
    assert runs_of(store, d)[-1] == ("retry", "published", "sis")
    assert len(store.list_runs(other)) == 1
    # the next schedule proceeds as usual
    tick_until(scheduler, clock, datetime(2026, 9, 2, 2, 30, tzinfo=UTC), timedelta(minutes=20))
    assert runs_of(store, other)[-1] == ("scheduled", "published", "sis")


def test_an_unreadable_schedule_is_reported_not_fatal(store: Store, clock: FakeClock) -> None:
    good = configure(store, "Good", {"every": "daily", "at": "02:00", "timezone": "UTC"})
    configure(store, "Bad", {"every": "daily", "at": "2 am", "timezone": "UTC"})
    scheduler, _ = make(store, clock)
    scheduler.tick()
    assert [(p.district, "HH:MM" in p.message) for p in scheduler.problems] == [("Bad", True)]
    clock.now = datetime(2026, 9, 2, 2, 1, tzinfo=UTC)
    assert [r.district_id for r in scheduler.tick().dispatched] == [good]


def test_a_changed_configuration_is_picked_up(store: Store, clock: FakeClock) -> None:
    d = configure(store, "Changing", {"every": "daily", "at": "02:00", "timezone": "UTC"})
    scheduler, _ = make(store, clock)
    scheduler.tick()
    assert scheduler.plan.next_due((d, "sis")) == datetime(2026, 9, 2, 2, tzinfo=UTC)
    body = {
        "district": "Changing",
        "sources": [{"name": "sis"}],
        "sync_schedule": {"every": "daily", "at": "13:00", "timezone": "UTC"},
    }
    store.save_config_version(d, body)
    assert scheduler.tick().reloaded
    assert scheduler.plan.next_due((d, "sis")) == datetime(2026, 9, 1, 13, tzinfo=UTC)
    assert not scheduler.tick().reloaded
