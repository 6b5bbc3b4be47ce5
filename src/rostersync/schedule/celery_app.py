"""Scale-out: the Celery application whose workers execute sync runs.

Start workers with ``celery -A rostersync.schedule.celery_app worker`` (or ``rostersync worker
--celery``) on any number of machines sharing the broker (``ROSTERSYNC_BROKER_URL``: Redis or
RabbitMQ) and the store (PostgreSQL). The scheduler (``rostersync worker``) sends one task per
due run; a worker runs it with :func:`~rostersync.schedule.runner.execute_run`, the same code
the in-process executor uses. The district run lock keeps a district's runs from overlapping:
a task that finds its district busy is retried later rather than run alongside.

Tasks are acknowledged when received (not "late"): a worker killed mid-run does not get its
task redelivered to run twice; its run lock expires, the scheduler's reaper marks the run
failed, and re-runs it when the schedule says ``retry_interrupted``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import Celery

from rostersync.errors import RunInProgress
from rostersync.logs import get_logger
from rostersync.schedule.executors import RUN_TASK
from rostersync.schedule.locks import DEFAULT_TTL
from rostersync.schedule.runner import RunFunction, execute_run, sync_run_function
from rostersync.settings import load_settings
from rostersync.store import Store, open_store

log = get_logger("schedule.celery")

DEFAULT_QUEUE = "rostersync"
#: A task whose district is busy is retried after this many seconds, this many times at most.
BUSY_RETRY_SECONDS = 30.0
BUSY_MAX_RETRIES = 720


@dataclass
class WorkerOptions:
    """How this worker process runs tasks (tests swap the run function and the timings)."""

    run_function: RunFunction = sync_run_function
    lock_ttl: timedelta = DEFAULT_TTL
    busy_retry_seconds: float = BUSY_RETRY_SECONDS
    store: Store | None = None


options = WorkerOptions()


def configure_worker(
    *,
    run_function: RunFunction | None = None,
    lock_ttl: timedelta | None = None,
    busy_retry_seconds: float | None = None,
) -> None:
    """Change how this process's worker runs tasks."""
    if run_function is not None:
        options.run_function = run_function
    if lock_ttl is not None:
        options.lock_ttl = lock_ttl
    if busy_retry_seconds is not None:
        options.busy_retry_seconds = busy_retry_seconds


def _store() -> Store:
    if options.store is None:
        options.store = open_store(load_settings())
    return options.store


def run_source(
    task: Any, district_id: int, source: str, trigger: str, slot: str | None = None
) -> dict[str, Any]:
    """Celery task body: run one source's sync under its district's lock."""
    try:
        record = execute_run(
            _store(),
            options.run_function,
            district_id=district_id,
            source=source,
            trigger=trigger,
            slot=datetime.fromisoformat(slot) if slot else None,
            ttl=options.lock_ttl,
        )
    except RunInProgress as exc:
        log.info("district busy; retrying later", district_id=district_id, error=str(exc))
        raise task.retry(
            countdown=options.busy_retry_seconds, max_retries=BUSY_MAX_RETRIES
        ) from exc
    return {"run_id": record.id, "status": record.status}


def create_app(broker_url: str | None = None, *, queue: str = DEFAULT_QUEUE) -> Celery:
    """A Celery app for rostersync runs over `broker_url` (default: the setting)."""
    broker = broker_url or load_settings().broker_url
    celery = Celery("rostersync", broker=broker, set_as_current=False)
    celery.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=False,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        task_default_queue=queue,
        task_routes={RUN_TASK: {"queue": queue}},
        timezone="UTC",
    )
    celery.task(name=RUN_TASK, bind=True, max_retries=BUSY_MAX_RETRIES)(run_source)
    return celery


#: The app ``celery -A rostersync.schedule.celery_app worker`` finds.
app = create_app()
