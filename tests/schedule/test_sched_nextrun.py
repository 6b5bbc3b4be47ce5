"""Next-run computation: daily, weekly, DST, starts/expires, missed runs, first day of school."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rostersync.config import WEEKDAYS, ConfigDeprecationWarning, SyncSchedule
from rostersync.model import ENTITIES, conform
from rostersync.schedule.nextrun import (
    due_slot,
    is_expired,
    latest_slot,
    next_run,
    next_slot,
    slots_between,
    upcoming,
)
from rostersync.schedule.school_year import first_day_of_school

ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
DST_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Anchorage",
    "Europe/Berlin",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def daily(at: str = "02:30", tz: str = "America/New_York", **kw: object) -> SyncSchedule:
    return SyncSchedule.model_validate({"every": "daily", "at": at, "timezone": tz, **kw})


# --- examples a district admin would recognise ------------------------------------------------


def test_daily_runs_at_local_time_every_day() -> None:
    s = daily("18:00", "America/Chicago")
    slots = slots_between(s, utc(2026, 1, 4, 12), utc(2026, 1, 7, 12))
    # 18:00 CST is 00:00 UTC the next day; the interval is open at the start, closed at the end
    assert [x.at for x in slots] == [utc(2026, 1, 5, 0), utc(2026, 1, 6, 0), utc(2026, 1, 7, 0)]
    assert slots_between(s, utc(2026, 1, 5, 0), utc(2026, 1, 8, 0))[0].at == utc(2026, 1, 6, 0)


def test_spring_forward_02_30_runs_once_at_03_30_daylight_time() -> None:
    s = daily("02:30", "America/New_York")
    slots = slots_between(s, utc(2026, 3, 7, 12), utc(2026, 3, 9, 12))
    assert [x.at for x in slots] == [utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)]
    local = slots[0].at.astimezone(ZoneInfo("America/New_York"))
    assert (local.date(), local.time()) == (date(2026, 3, 8), time(3, 30))


def test_fall_back_01_30_runs_once_at_first_occurrence() -> None:
    s = daily("01:30", "America/New_York")
    slots = slots_between(s, utc(2026, 10, 31, 12), utc(2026, 11, 2, 12))
    # 01:30 EDT (05:30 UTC) happens; 01:30 EST (06:30 UTC) the same night does not run again.
    assert [x.at for x in slots] == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


def test_weekly_on_given_days_only() -> None:
    s = SyncSchedule(every="weekly", days=("mon", "thu"), at="06:00", timezone="Europe/Berlin")
    slots = slots_between(s, utc(2026, 6, 1, 0), utc(2026, 6, 15, 0))  # Mon 1 June .. Mon 15
    days = [x.at.astimezone(s.tz).strftime("%a %d") for x in slots]
    assert days == ["Mon 01", "Thu 04", "Mon 08", "Thu 11"]
    assert all(x.at.astimezone(s.tz).time() == time(6, 0) for x in slots)


def test_weekly_accepts_full_day_names_and_strings() -> None:
    s = SyncSchedule.model_validate({"every": "weekly", "days": "Monday, friday", "at": "7:05"})
    assert s.days == ("mon", "fri")
    assert s.at == "07:05"


def test_starts_and_expires_bound_the_runs_and_expiry_is_reported() -> None:
    s = daily("03:00", "UTC", starts="2026-02-10", expires="2026-02-12")
    slots = slots_between(s, utc(2026, 2, 1), utc(2026, 3, 1))
    assert [x.at for x in slots] == [utc(2026, 2, d, 3) for d in (10, 11, 12)]
    assert next_slot(s, utc(2026, 2, 12, 3)) is None
    assert not is_expired(s, utc(2026, 2, 12, 23, 59))
    assert is_expired(s, utc(2026, 2, 13, 0, 0))
    assert next_run(s, utc(2026, 2, 12, 3), utc(2026, 2, 20)) is None


def test_missed_runs_run_once_not_once_per_slot() -> None:
    s = daily("02:00", "UTC")
    due = due_slot(s, utc(2026, 4, 1, 2), utc(2026, 4, 5, 9))
    assert due is not None
    assert due.slot.at == utc(2026, 4, 5, 2)
    assert due.missed == 3  # the 2nd, 3rd and 4th were missed and folded into this run
    assert next_run(s, utc(2026, 4, 1, 2), utc(2026, 4, 5, 9)) == utc(2026, 4, 5, 9)
    # after running for the latest slot nothing else is due until tomorrow
    assert due_slot(s, due.slot.at, utc(2026, 4, 5, 9)) is None
    assert next_run(s, due.slot.at, utc(2026, 4, 5, 9)) == utc(2026, 4, 6, 2)


def test_first_day_of_school_runs_at_local_midnight() -> None:
    s = SyncSchedule(first_day_of_school=True, timezone="America/Los_Angeles")
    first = date(2026, 8, 19)
    slot = next_slot(s, utc(2026, 8, 1), first_day=first)
    assert slot is not None
    assert slot.kind == "first_day_of_school"
    assert slot.at == utc(2026, 8, 19, 7)  # 00:00 PDT
    assert next_slot(s, slot.at, first_day=first) is None
    assert next_slot(s, utc(2026, 8, 1)) is None  # no calendar, no run


def test_first_day_and_daily_at_midnight_coincide_into_one_run() -> None:
    s = daily("00:00", "UTC", first_day_of_school=True)
    first = date(2026, 8, 19)
    slots = slots_between(s, utc(2026, 8, 18, 12), utc(2026, 8, 20, 12), first_day=first)
    assert [(x.at, x.kind) for x in slots] == [
        (utc(2026, 8, 19), "first_day_of_school"),
        (utc(2026, 8, 20), "scheduled"),
    ]
    latest = latest_slot(s, utc(2026, 8, 19, 5), first_day=date(2026, 8, 19))
    assert latest is not None
    assert latest.kind == "first_day_of_school"


def test_first_day_of_school_comes_from_the_reported_calendar() -> None:
    sessions = conform(
        ENTITIES["academicSessions"],
        pl.DataFrame(
            {
                "sourcedId": ["y25", "y26", "t1", "y27", "other"],
                "status": ["active"] * 5,
                "source": ["sis", "sis", "sis", "sis", "ad"],
                "sourceId": ["1", "2", "3", "4", "5"],
                "title": ["2025-26", "2026-27", "S1", "2027-28", "x"],
                "type": ["schoolYear", "schoolYear", "semester", "schoolYear", "schoolYear"],
                "startDate": [
                    date(2025, 8, 20),
                    date(2026, 8, 19),
                    date(2026, 1, 5),
                    date(2027, 8, 18),
                    date(2026, 7, 1),
                ],
                "endDate": [date(2026, 6, 1)] * 5,
                "schoolYear": ["2026", "2027", "2026", "2028", "2027"],
            }
        ),
    )
    assert first_day_of_school(sessions, date(2026, 3, 1), source="sis") == date(2026, 8, 19)
    assert first_day_of_school(sessions, date(2026, 3, 1)) == date(2026, 7, 1)
    assert first_day_of_school(sessions, date(2026, 8, 19), source="sis") == date(2026, 8, 19)
    assert first_day_of_school(sessions, date(2028, 1, 1)) is None
    assert first_day_of_school(ENTITIES["academicSessions"].empty(), date(2026, 1, 1)) is None


def test_upcoming_lists_the_next_runs() -> None:
    s = daily("05:00", "UTC")
    assert [x.at for x in upcoming(s, utc(2026, 1, 1, 6), 2)] == [
        utc(2026, 1, 2, 5),
        utc(2026, 1, 3, 5),
    ]
    assert upcoming(SyncSchedule(), utc(2026, 1, 1), 3) == []


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"every": "weekly"}, "needs `days`"),
        ({"every": "daily", "days": ["mon"]}, "only applies"),
        ({"every": "daily", "at": "25:00"}, "HH:MM"),
        ({"every": "daily", "timezone": "America/Chicgo"}, "IANA"),
        ({"every": "daily", "timezone": "chicago"}, "America/Chicago"),
        ({"every": "daily", "starts": "2026-05-01", "expires": "2026-04-01"}, "before"),
        ({"every": "hourly"}, "daily"),
        ({"every": "daily", "cron": "* * *"}, "cron"),
    ],
)
def test_invalid_schedules_say_what_is_wrong(body: dict[str, object], needle: str) -> None:
    with pytest.raises(ValidationError) as info:
        SyncSchedule.model_validate(body)
    assert needle in str(info.value)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_slot(daily(), datetime(2026, 1, 1))


# --- laws, over time zones and DST dates ------------------------------------------------------

zones = st.sampled_from(ZONES)
dst_zones = st.sampled_from(DST_ZONES)
times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
instants = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2036, 12, 1), timezones=st.just(UTC)
)


def _schedule(tz: str, at: time, weekly: frozenset[int] | None = None) -> SyncSchedule:
    if weekly:
        days = tuple(WEEKDAYS[d] for d in sorted(weekly))
        return SyncSchedule(every="weekly", days=days, at=at.strftime("%H:%M"), timezone=tz)
    return SyncSchedule(every="daily", at=at.strftime("%H:%M"), timezone=tz)


@settings(max_examples=150, deadline=None)
@given(tz=st.one_of(zones, dst_zones), at=times, start=instants)
def test_daily_runs_exactly_once_per_local_day(tz: str, at: time, start: datetime) -> None:
    s = _schedule(tz, at)
    slots = slots_between(s, start, start + timedelta(days=40))
    instants_ = [x.at for x in slots]
    assert instants_ == sorted(set(instants_)), "strictly increasing, no duplicates"
    # consecutive runs are about a day apart: never two in one night, never a day skipped
    for a, b in itertools.pairwise(instants_):
        assert timedelta(hours=20) <= b - a <= timedelta(hours=28)
    assert 38 <= len(slots) <= 41
    zone = ZoneInfo(tz)
    for slot in slots:
        local = slot.at.astimezone(zone).replace(tzinfo=None)
        wall = datetime.combine(local.date(), at)
        if wall > local:
            wall -= timedelta(days=1)
        # exactly `at`, or later by the length of a spring-forward gap
        assert timedelta(0) <= local - wall <= timedelta(hours=3)


@settings(max_examples=150, deadline=None)
@given(tz=dst_zones, at=times, year=st.integers(2005, 2035))
def test_dst_transition_days_run_exactly_once(tz: str, at: time, year: int) -> None:
    s = _schedule(tz, at)
    zone = ZoneInfo(tz)
    # find this year's offset changes, and check the day of each has one run
    day = date(year, 1, 1)
    offsets = {}
    while day.year == year:
        offsets[day] = datetime.combine(day, time(12), tzinfo=zone).utcoffset()
        day += timedelta(days=1)
    days = sorted(offsets)
    changes = [b for a, b in itertools.pairwise(days) if offsets[a] != offsets[b]]
    for change in changes:
        for d in (change - timedelta(days=1), change):
            begin = datetime.combine(d, time(0), tzinfo=zone).astimezone(UTC)
            end = datetime.combine(d + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
            runs = slots_between(s, begin - timedelta(seconds=1), end - timedelta(seconds=1))
            on_day = [x for x in runs if x.at.astimezone(zone).date() == d]
            assert len(runs) == 1 or len(on_day) == 1


@settings(max_examples=150, deadline=None)
@given(
    tz=st.one_of(zones, dst_zones),
    at=times,
    days=st.frozensets(st.integers(0, 6), min_size=1),
    start=instants,
)
def test_next_slot_chain_equals_enumeration_and_respects_days(
    tz: str, at: time, days: frozenset[int], start: datetime
) -> None:
    s = _schedule(tz, at, days)
    slots = slots_between(s, start, start + timedelta(days=30))
    assert len(slots) >= 3 * len(days)
    for slot in slots:
        wall_day = slot.at.astimezone(s.tz)
        # a gap can push a run past midnight: then it belongs to the day before
        assert wall_day.weekday() in days or (wall_day - timedelta(hours=3)).weekday() in days
    # every instant between two slots has the later one as its next slot
    for a, b in itertools.pairwise(slots):
        mid = a.at + (b.at - a.at) / 2
        assert next_slot(s, mid) == b
        assert latest_slot(s, mid) == a


@settings(max_examples=150, deadline=None)
@given(
    tz=st.one_of(zones, dst_zones),
    at=times,
    last=instants,
    down=st.integers(0, 60 * 24 * 20),
)
def test_missed_slots_fold_into_one_run(tz: str, at: time, last: datetime, down: int) -> None:
    s = _schedule(tz, at)
    now = last + timedelta(minutes=down)
    between = slots_between(s, last, now)
    due = due_slot(s, last, now)
    if not between:
        assert due is None
        assert next_run(s, last, now) == (next_slot(s, now).at)  # type: ignore[union-attr]
        return
    assert due is not None
    assert due.slot == between[-1]
    assert due.missed == len(between) - 1
    assert due_slot(s, due.slot.at, now) is None, "after the run, nothing is due again"
    assert next_run(s, last, now) == now


@settings(max_examples=100, deadline=None)
@given(
    tz=st.one_of(zones, dst_zones),
    at=times,
    start=instants,
    span=st.integers(1, 30),
    length=st.integers(0, 20),
)
def test_no_run_before_starts_or_after_expires(
    tz: str, at: time, start: datetime, span: int, length: int
) -> None:
    zone = ZoneInfo(tz)
    starts = start.astimezone(zone).date() + timedelta(days=span)
    expires = starts + timedelta(days=length)
    s = SyncSchedule(
        every="daily", at=at.strftime("%H:%M"), timezone=tz, starts=starts, expires=expires
    )
    slots = slots_between(s, start, start + timedelta(days=80))
    assert 0 < len(slots) <= length + 1
    first_allowed = datetime.combine(starts, time(0), tzinfo=zone).astimezone(UTC)
    last_allowed = datetime.combine(expires + timedelta(days=1), time(3), tzinfo=zone)
    assert all(first_allowed <= x.at <= last_allowed for x in slots)
    after = slots[-1].at
    assert next_slot(s, after) is None
    assert is_expired(s, last_allowed + timedelta(days=1))


def test_earlier_template_spellings_are_accepted() -> None:
    with pytest.warns(ConfigDeprecationWarning):
        s = SyncSchedule.model_validate(
            {
                "frequency": "weekly",
                "time": "06:15",
                "weekdays": ["mon"],
                "timezone": "America/Chicago",
                "until": "2027-06-30",
                "first_day_sync": True,
            }
        )
    assert (s.every, s.at, s.days, s.expires, s.first_day_of_school) == (
        "weekly",
        "06:15",
        ("mon",),
        date(2027, 6, 30),
        True,
    )
    with pytest.warns(ConfigDeprecationWarning):
        assert SyncSchedule.model_validate({"frequency": "manual"}).every is None
    with pytest.raises(ValidationError, match="repeats"), pytest.warns(ConfigDeprecationWarning):
        SyncSchedule.model_validate({"time": "01:00", "at": "02:00"})
