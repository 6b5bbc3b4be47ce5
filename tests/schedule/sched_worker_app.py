"""Celery app of the schedule tests' worker processes: the real app, with a test run function.

Started as ``celery -A sched_worker_app worker`` with this directory on PYTHONPATH.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from sched_helpers import publishing_run

from rostersync.schedule.celery_app import configure_worker, create_app
from rostersync.schedule.runner import RunRequest
from rostersync.store import Store


def run(store: Store, request: RunRequest) -> None:
    """Publish a roster; districts named "Slow…" take long on their first try (to be killed)."""
    if request.district.startswith("Slow") and request.trigger != "retry":
        time.sleep(120)
    store.update_run(request.run_id, report={"worker_pid": os.getpid()})
    publishing_run(store, request)


configure_worker(
    run_function=run,
    lock_ttl=timedelta(seconds=float(os.environ["SCHED_TEST_LOCK_TTL"])),
    busy_retry_seconds=0.5,
)
app = create_app(os.environ["ROSTERSYNC_BROKER_URL"], queue=os.environ["SCHED_TEST_QUEUE"])
