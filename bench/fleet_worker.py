"""Celery app of bench/fleet.py's worker processes: the real run task, a small publishing run.

Started as ``celery -A fleet_worker worker`` with bench/ on PYTHONPATH.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import polars as pl

from rostersync.model import ENTITIES, conform, empty_roster
from rostersync.schedule.celery_app import configure_worker, create_app
from rostersync.schedule.runner import RunRequest
from rostersync.store import Store


def publish_small_roster(store: Store, request: RunRequest) -> None:
    """A small district's run: publish its orgs (a few changed each run) and record it."""
    n = 20
    ids = [f"s{i}" for i in range(n)]
    roster = empty_roster()
    roster["orgs"] = conform(
        ENTITIES["orgs"],
        pl.DataFrame(
            {
                "sourcedId": ids,
                "status": ["active"] * n,
                "source": ["sis"] * n,
                "sourceId": ids,
                "name": [f"School {i} r{request.run_id % 3 if i < 2 else 0}" for i in range(n)],
                "type": ["school"] * n,
            }
        ),
    )
    version = store.publish(request.district_id, roster, run_id=request.run_id)
    store.update_run(
        request.run_id,
        status="published",
        roster_version=version.version,
        finished_at=datetime.now(UTC),
    )


configure_worker(run_function=publish_small_roster, busy_retry_seconds=1.0)
app = create_app(os.environ["ROSTERSYNC_BROKER_URL"], queue=os.environ["FLEET_QUEUE"])
