"""The scheduler's in-memory plan: each configured source's last slot and next due instant.

A tick must stay cheap with thousands of sources, so the plan keeps a heap ordered by the next
due instant: a tick looks only at the sources that are due, and computes the next slot of just
those. Next slots are recomputed for every source only when the plan is (re)loaded, and then
only for sources whose schedule, calendar or last slot changed. Pure: no clock, no database.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rostersync.config import SyncSchedule
from rostersync.schedule.nextrun import due_slot, next_slot

SourceKey = tuple[int, str]

#: A run starting later than this after its slot is recorded with the trigger ``missed``.
DEFAULT_MISFIRE_GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class ScheduledSource:
    """A district's sync schedule and the source that requests its runs.

    A sync extracts every source of the district (the published roster merges them), so a
    district is scheduled once: `source` is its first configured source, recorded on each run,
    and `sources` lists all of them for display.
    """

    district_id: int
    district: str
    source: str
    schedule: SyncSchedule
    first_day: date | None = None
    sources: tuple[str, ...] = ()
    #: When the configuration carrying this schedule was saved: a scheduler that first sees
    #: the source later still owes it the slots since then (run once, as ``missed``).
    configured_at: datetime | None = None

    @property
    def key(self) -> SourceKey:
        return (self.district_id, self.source)


@dataclass(frozen=True)
class DueRun:
    """A run the scheduler decided to start now."""

    district_id: int
    district: str
    source: str
    trigger: str
    slot: datetime
    kind: str
    missed: int = 0
    previous_slot: datetime | None = None


@dataclass
class _Entry:
    source: ScheduledSource
    last_slot: datetime
    next_at: datetime | None
    generation: int = 0


class SchedulePlan:
    """Which sources are due when, kept current across ticks."""

    def __init__(self, *, misfire_grace: timedelta = DEFAULT_MISFIRE_GRACE) -> None:
        self.misfire_grace = misfire_grace
        self._entries: dict[SourceKey, _Entry] = {}
        self._heap: list[tuple[datetime, int, SourceKey]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def sources(self) -> list[ScheduledSource]:
        return [e.source for e in self._entries.values()]

    def get(self, key: SourceKey) -> ScheduledSource | None:
        entry = self._entries.get(key)
        return None if entry is None else entry.source

    def last_slot(self, key: SourceKey) -> datetime | None:
        entry = self._entries.get(key)
        return None if entry is None else entry.last_slot

    def next_due(self, key: SourceKey) -> datetime | None:
        """When the source is next due (None: never again)."""
        entry = self._entries.get(key)
        return None if entry is None else entry.next_at

    def _schedule(self, key: SourceKey, entry: _Entry) -> None:
        entry.generation += 1
        slot = next_slot(entry.source.schedule, entry.last_slot, first_day=entry.source.first_day)
        entry.next_at = None if slot is None else slot.at
        if entry.next_at is not None:
            heapq.heappush(self._heap, (entry.next_at, entry.generation, key))

    def load(
        self,
        sources: Iterable[ScheduledSource],
        last_slots: Mapping[SourceKey, datetime | None],
        now: datetime,
    ) -> list[SourceKey]:
        """Replace the configured sources; returns the keys that are new to the store's state.

        A source without a recorded last slot starts when its schedule was configured (or
        "now" when that is unknown or later): a slot that passed while no scheduler was up to
        see the new schedule runs once, as ``missed``, and older slots never fire.
        """
        fresh: list[SourceKey] = []
        entries: dict[SourceKey, _Entry] = {}
        rebuild = False
        for src in sources:
            key = src.key
            last = last_slots.get(key)
            if last is None:
                fresh.append(key)
                last = now
                if src.configured_at is not None and src.configured_at < now:
                    last = src.configured_at
            old = self._entries.get(key)
            if old is not None and old.source == src and old.last_slot == last:
                entries[key] = old
                continue
            entry = _Entry(src, last, None)
            entries[key] = entry
            self._schedule(key, entry)
            rebuild = rebuild or old is not None
        removed = self._entries.keys() - entries.keys()
        self._entries = entries
        if removed or rebuild:
            # drop heap items of removed or replaced entries (lazy deletion would also work,
            # but a reload is rare and this keeps the heap small)
            self._heap = [
                item
                for item in self._heap
                if item[2] in entries and entries[item[2]].generation == item[1]
            ]
            heapq.heapify(self._heap)
        return fresh

    def tick(self, now: datetime) -> list[DueRun]:
        """The runs due at `now` (at most one per source); advances those sources."""
        out: list[DueRun] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, generation, key = heapq.heappop(heap)
            entry = self._entries.get(key)
            if entry is None or entry.generation != generation:
                continue  # stale heap item
            src = entry.source
            due = due_slot(src.schedule, entry.last_slot, now, first_day=src.first_day)
            if due is not None:
                late = now - due.slot.at > self.misfire_grace
                trigger = "missed" if late or due.missed else due.slot.kind
                out.append(
                    DueRun(
                        src.district_id,
                        src.district,
                        src.source,
                        trigger,
                        due.slot.at,
                        due.slot.kind,
                        due.missed,
                        entry.last_slot,
                    )
                )
                entry.last_slot = due.slot.at
            self._schedule(key, entry)
        return out

    def set_last_slot(self, key: SourceKey, last_slot: datetime) -> None:
        """Another scheduler dispatched this source: adopt its last slot."""
        entry = self._entries.get(key)
        if entry is not None and last_slot > entry.last_slot:
            entry.last_slot = last_slot
            self._schedule(key, entry)
