"""Helpers shared by the schedule tests and their Celery worker processes (a plain module)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import polars as pl

from rostersync.model import ENTITIES, conform, empty_roster
from rostersync.schedule.runner import RunRequest
from rostersync.store import Store


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def tiny_roster(district: str, schools: int = 3, tag: str = "") -> dict[str, pl.DataFrame]:
    """A small valid roster: the district org and a few schools."""
    roster = empty_roster()
    ids = ["d0", *[f"s{i}" for i in range(1, schools + 1)]]
    roster["orgs"] = conform(
        ENTITIES["orgs"],
        pl.DataFrame(
            {
                "sourcedId": ids,
                "status": ["active"] * len(ids),
                "source": ["sis"] * len(ids),
                "sourceId": ids,
                "name": [district, *[f"School {i}{tag}" for i in range(1, schools + 1)]],
                "type": ["district", *["school"] * schools],
                "parentSourcedId": [None, *["d0"] * schools],
            }
        ),
    )
    return roster


def publishing_run(store: Store, request: RunRequest) -> None:
    """A real run: publishes a small roster (changed each run) and records the outcome.

    ``SCHED_TEST_RUN_SECONDS`` makes it take that long first (so runs overlap in time).
    """
    pause = float(os.environ.get("SCHED_TEST_RUN_SECONDS", "0"))
    if pause:
        time.sleep(pause)
    roster = tiny_roster(request.district, 3, tag=f" r{request.run_id}")
    version = store.publish(request.district_id, roster, run_id=request.run_id)
    store.update_run(
        request.run_id,
        status="published",
        roster_version=version.version,
        finished_at=datetime.now(UTC),
    )
