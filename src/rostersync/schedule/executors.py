"""Executors: where due runs execute — in this process (the default) or on Celery workers.

Both end in :func:`rostersync.schedule.runner.execute_run`, so a run behaves the same either
way. An executor only starts runs; the run lock (not the executor) keeps a district's runs
from overlapping, so several schedulers or workers may share one store safely.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any, Protocol

from rostersync.errors import RunInProgress
from rostersync.logs import get_logger
from rostersync.schedule.locks import DEFAULT_TTL
from rostersync.schedule.plan import DueRun
from rostersync.schedule.runner import RunFunction, execute_run
from rostersync.store import RunRecord, Store

log = get_logger("schedule.executors")

#: How long a scheduled run waits for a running sync of the same district before giving up.
DEFAULT_LOCK_WAIT = 6 * 3600.0
#: Name of the Celery task that runs one source's sync.
RUN_TASK = "rostersync.run_source"


class Executor(Protocol):
    """Starts due runs somewhere."""

    def submit(self, due: DueRun) -> None: ...

    def shutdown(self, wait: bool = True) -> None: ...


class InlineExecutor:
    """Runs each sync to completion inside `submit` (for `--once` runs and tests)."""

    def __init__(
        self, store: Store, run_function: RunFunction, *, lock_ttl: timedelta = DEFAULT_TTL
    ) -> None:
        self.store = store
        self.run_function = run_function
        self.lock_ttl = lock_ttl
        self.records: list[RunRecord] = []

    def submit(self, due: DueRun) -> None:
        try:
            self.records.append(
                execute_run(
                    self.store,
                    self.run_function,
                    district_id=due.district_id,
                    source=due.source,
                    trigger=due.trigger,
                    slot=due.slot,
                    ttl=self.lock_ttl,
                )
            )
        except RunInProgress as exc:
            log.warning("run skipped: district busy", district=due.district, error=str(exc))

    def shutdown(self, wait: bool = True) -> None:
        return None


class InProcessExecutor:
    """Runs syncs on a small thread pool inside this process (the embedded default)."""

    def __init__(
        self,
        store: Store,
        run_function: RunFunction,
        *,
        max_workers: int = 2,
        lock_wait: float = DEFAULT_LOCK_WAIT,
        lock_ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self.store = store
        self.run_function = run_function
        self.lock_wait = lock_wait
        self.lock_ttl = lock_ttl
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="rs-run")
        self._futures: set[Future[RunRecord | None]] = set()
        self._guard = threading.Lock()

    def _run(self, due: DueRun) -> RunRecord | None:
        try:
            return execute_run(
                self.store,
                self.run_function,
                district_id=due.district_id,
                source=due.source,
                trigger=due.trigger,
                slot=due.slot,
                wait=self.lock_wait,
                ttl=self.lock_ttl,
            )
        except RunInProgress as exc:
            log.warning("run skipped: district busy", district=due.district, error=str(exc))
        except Exception:
            log.exception("run could not start", district=due.district, source=due.source)
        return None

    def submit(self, due: DueRun) -> None:
        future = self._pool.submit(self._run, due)
        with self._guard:
            self._futures.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[RunRecord | None]) -> None:
        with self._guard:
            self._futures.discard(future)

    @property
    def active(self) -> int:
        with self._guard:
            return len(self._futures)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)


class CeleryExecutor:
    """Sends each due run to the Celery workers (task ``rostersync.run_source``)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def submit(self, due: DueRun) -> None:
        self.app.send_task(RUN_TASK, kwargs=due_to_task_kwargs(due))

    def shutdown(self, wait: bool = True) -> None:
        return None


def due_to_task_kwargs(due: DueRun) -> dict[str, Any]:
    """The JSON-serialisable arguments of the Celery task for a due run."""
    return {
        "district_id": due.district_id,
        "source": due.source,
        "trigger": due.trigger,
        "slot": due.slot.isoformat(),
    }
