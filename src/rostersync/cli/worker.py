"""`rostersync worker`: the scheduler loop (and, with `--celery`, a Celery worker for runs)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from rostersync.cli._app import console, get_settings
from rostersync.cli.db import cli_store
from rostersync.errors import ConfigurationError
from rostersync.schedule.scheduler import Scheduler
from rostersync.schedule.service import ExecutorKind, make_executor
from rostersync.sync.recovery import recover_interrupted_runs


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker(
        interval: Annotated[
            float, typer.Option(min=1.0, help="Seconds between scheduler ticks.")
        ] = 30.0,
        once: Annotated[
            bool, typer.Option("--once", help="Tick once, wait for in-process runs, exit.")
        ] = False,
        executor: Annotated[
            str,
            typer.Option(
                help="Where runs execute: auto (Celery when ROSTERSYNC_BROKER_URL is set), "
                "inprocess or celery."
            ),
        ] = "auto",
        max_runs: Annotated[
            int, typer.Option(min=1, max=64, help="In-process: runs at the same time.")
        ] = 2,
        celery: Annotated[
            bool,
            typer.Option(
                "--celery", help="Run a Celery worker that executes runs, instead of scheduling."
            ),
        ] = False,
        concurrency: Annotated[
            int, typer.Option(min=1, max=64, help="With --celery: worker processes.")
        ] = 2,
        watch: Annotated[
            list[Path] | None,
            typer.Option(
                "--watch",
                help="A district configuration file (YAML) to watch: each edit is saved as the "
                "district's new configuration at the next tick. Repeat for several files.",
            ),
        ] = None,
    ) -> None:
        """Run the sync scheduler: due syncs start by themselves (in-process or on Celery)."""
        settings = get_settings()
        if celery:
            if not settings.broker_url:
                raise ConfigurationError(
                    "A Celery worker needs a broker",
                    setting="ROSTERSYNC_BROKER_URL",
                    hint="set ROSTERSYNC_BROKER_URL=redis://host:6379/0 or amqp://user@host//",
                )
            from rostersync.schedule.celery_app import app as celery_app

            celery_app.worker_main(
                ["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--without-gossip"]
            )
            return
        if executor not in ("auto", "inprocess", "celery"):
            raise ConfigurationError(
                f"--executor must be auto, inprocess or celery, not {executor!r}"
            )
        for path in watch or []:
            if not path.is_file():
                raise ConfigurationError(
                    f"--watch {path}: no such file",
                    setting="--watch",
                    hint="give the path of a district configuration file (YAML)",
                )
        kind: ExecutorKind = executor  # type: ignore[assignment]
        store = cli_store()
        recover_interrupted_runs(store)  # runs a killed process left running or publishing
        scheduler = Scheduler(
            store, make_executor(settings, store, kind, max_workers=max_runs), watch=watch or ()
        )
        if once:
            result = scheduler.tick()
            scheduler.executor.shutdown(wait=True)
            scheduler.close()
            console.print(
                f"{len(scheduler.plan)} scheduled source(s); dispatched "
                f"{len(result.dispatched)} run(s); reclaimed {len(result.reaped)} dead lock(s)"
            )
            for run in result.dispatched:
                console.print(f"  {run.district} / {run.source}: {run.trigger}")
            store.dispose()
            return
        stop = threading.Event()

        def _stop(*_: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        console.print(f"scheduler running (tick every {interval:g}s); Ctrl-C to stop")
        try:
            scheduler.run_forever(stop, interval)
        finally:
            scheduler.executor.shutdown(wait=True)
            store.dispose()
