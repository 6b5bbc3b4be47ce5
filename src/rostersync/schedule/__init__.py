"""Sync schedule: when each source syncs by itself, the run lock, and the executors.

Public API: :class:`SyncSchedule` (the `sync_schedule` config section), the pure next-run
functions, and (in submodules) the run lock, the scheduler tick and the executors.
"""

from __future__ import annotations

from rostersync.config import SyncSchedule
from rostersync.schedule.nextrun import DueSlot, Slot, due_slot, next_run, next_slot, upcoming

__all__ = ["DueSlot", "Slot", "SyncSchedule", "due_slot", "next_run", "next_slot", "upcoming"]
