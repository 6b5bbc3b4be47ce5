"""Sync Schedule: the ``sync_schedule`` section, declared with the configuration.

The section is validated once by :mod:`rostersync.config`; everything after trusts it. The names
are re-exported here for the scheduler's modules.
"""

from __future__ import annotations

from rostersync.config import WEEKDAYS, SyncSchedule, Weekday

__all__ = ["WEEKDAYS", "SyncSchedule", "Weekday"]
