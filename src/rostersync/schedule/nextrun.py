"""Next-run computation: a pure function of a Sync Schedule, the last run and the time now.

A slot is one instant (UTC) at which a source should sync. Periodic slots are the schedule's
local time of day `at` on each eligible local date; the first-day-of-school slot is 00:00 local
on the first day of the new school year. No clock is read here: callers pass `now`.

Daylight-saving rules (PEP 495 semantics, the same on every platform):

- a local time that does not exist (02:30 on a spring-forward day) runs once, at the wall-clock
  time it would have had without the jump (03:30 in the new offset);
- a local time that happens twice (01:30 on a fall-back day) runs once, at its first occurrence;
- two local dates that land on the same instant (a zone that skipped a whole day) run once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from rostersync.config import SyncSchedule

SlotKind = Literal["first_day_of_school", "scheduled"]

_DAY = timedelta(days=1)
#: How many local dates to look at when searching for the next or previous periodic slot:
#: a week plus margin for offsets and skipped days.
_WINDOW = 10


@dataclass(frozen=True, order=True)
class Slot:
    """One due instant of a schedule and why it exists."""

    at: datetime
    kind: SlotKind


@dataclass(frozen=True)
class DueSlot:
    """The slot to run now, and how many earlier slots were missed and folded into it."""

    slot: Slot
    missed: int


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime (UTC)")
    return value.astimezone(UTC)


def local_instant(schedule: SyncSchedule, day: date, at: time) -> datetime:
    """The UTC instant of local wall time `at` on `day` in the schedule's zone (fold=0)."""
    return datetime.combine(day, at, tzinfo=schedule.tz).astimezone(UTC)


def _eligible(schedule: SyncSchedule, day: date) -> bool:
    if schedule.starts is not None and day < schedule.starts:
        return False
    return schedule.expires is None or day <= schedule.expires


def _periodic_days(schedule: SyncSchedule, first: date, step: timedelta) -> Iterator[date]:
    weekdays = schedule.weekdays
    day = first
    for _ in range(_WINDOW):
        if day.weekday() in weekdays and _eligible(schedule, day):
            yield day
        day += step


def _next_periodic(schedule: SyncSchedule, after: datetime) -> datetime | None:
    if schedule.every is None:
        return None
    start = after.astimezone(schedule.tz).date() - _DAY
    if schedule.starts is not None and start < schedule.starts:
        start = schedule.starts
    if schedule.expires is not None and start > schedule.expires:
        return None
    at = schedule.time_of_day
    for day in _periodic_days(schedule, start, _DAY):
        instant = local_instant(schedule, day, at)
        if instant > after:
            return instant
    return None


def _prev_periodic(schedule: SyncSchedule, upto: datetime) -> datetime | None:
    if schedule.every is None:
        return None
    start = upto.astimezone(schedule.tz).date() + _DAY
    if schedule.expires is not None and start > schedule.expires:
        start = schedule.expires
    if schedule.starts is not None and start < schedule.starts:
        return None
    at = schedule.time_of_day
    for day in _periodic_days(schedule, start, -_DAY):
        instant = local_instant(schedule, day, at)
        if instant <= upto:
            return instant
    return None


def first_day_slot(schedule: SyncSchedule, first_day: date | None) -> Slot | None:
    """The first-day-of-school slot (00:00 local on `first_day`), if enabled and in range."""
    if not schedule.first_day_of_school or first_day is None:
        return None
    if not _eligible(schedule, first_day):
        return None
    return Slot(local_instant(schedule, first_day, time(0, 0)), "first_day_of_school")


def next_slot(
    schedule: SyncSchedule, after: datetime, *, first_day: date | None = None
) -> Slot | None:
    """The earliest slot strictly after `after`, or None when the schedule has no more runs."""
    after = _utc(after)
    candidates: list[Slot] = []
    periodic = _next_periodic(schedule, after)
    if periodic is not None:
        candidates.append(Slot(periodic, "scheduled"))
    school = first_day_slot(schedule, first_day)
    if school is not None and school.at > after:
        candidates.append(school)
    # At equal instants the first-day slot wins (it sorts first), so one run covers both.
    return min(candidates) if candidates else None


def latest_slot(
    schedule: SyncSchedule, upto: datetime, *, first_day: date | None = None
) -> Slot | None:
    """The latest slot at or before `upto`."""
    upto = _utc(upto)
    candidates: list[Slot] = []
    periodic = _prev_periodic(schedule, upto)
    if periodic is not None:
        candidates.append(Slot(periodic, "scheduled"))
    school = first_day_slot(schedule, first_day)
    if school is not None and school.at <= upto:
        candidates.append(school)
    if not candidates:
        return None
    latest = max(c.at for c in candidates)
    return min(c for c in candidates if c.at == latest)


def slots_between(
    schedule: SyncSchedule,
    start: datetime,
    end: datetime,
    *,
    first_day: date | None = None,
    limit: int = 10_000,
) -> list[Slot]:
    """Every slot in ``(start, end]``, in order (at most `limit`)."""
    out: list[Slot] = []
    end = _utc(end)
    cursor = _utc(start)
    while len(out) < limit:
        slot = next_slot(schedule, cursor, first_day=first_day)
        if slot is None or slot.at > end:
            break
        out.append(slot)
        cursor = slot.at
    return out


def next_run(
    schedule: SyncSchedule,
    last_run: datetime | None,
    now: datetime,
    *,
    first_day: date | None = None,
) -> datetime | None:
    """When the source should next sync (UTC); a value at or before `now` means "due now".

    `last_run` is the slot the source last ran for (None: never, so only future slots count).
    Several missed slots give one run: the result is then `now`, not the oldest missed slot.
    """
    now = _utc(now)
    if last_run is not None:
        due = due_slot(schedule, last_run, now, first_day=first_day, count_missed=False)
        if due is not None:
            return now
    slot = next_slot(schedule, now, first_day=first_day)
    return None if slot is None else slot.at


def due_slot(
    schedule: SyncSchedule,
    last_slot: datetime,
    now: datetime,
    *,
    first_day: date | None = None,
    count_missed: bool = True,
) -> DueSlot | None:
    """The slot to run now: the latest one in ``(last_slot, now]``, or None if nothing is due.

    Slots before it in that interval were missed (the machine was down); they are folded into
    this one run and counted in `missed`, never run one by one.
    """
    last_slot, now = _utc(last_slot), _utc(now)
    latest = latest_slot(schedule, now, first_day=first_day)
    if latest is None or latest.at <= last_slot:
        return None
    missed = 0
    if count_missed:
        missed = len(slots_between(schedule, last_slot, latest.at, first_day=first_day, limit=400))
        missed = max(missed - 1, 0)
    return DueSlot(latest, missed)


def is_expired(schedule: SyncSchedule, now: datetime) -> bool:
    """True when the schedule has an `expires` date and it has passed in the local zone."""
    if schedule.expires is None:
        return False
    return _utc(now).astimezone(schedule.tz).date() > schedule.expires


def upcoming(
    schedule: SyncSchedule, now: datetime, count: int = 3, *, first_day: date | None = None
) -> list[Slot]:
    """The next `count` slots after `now`, for `rostersync schedule show`."""
    out: list[Slot] = []
    cursor = _utc(now)
    while len(out) < count:
        slot = next_slot(schedule, cursor, first_day=first_day)
        if slot is None:
            break
        out.append(slot)
        cursor = slot.at
    return out
