"""`rostersync sync run --config FILE`: extract, build and publish a district's roster now.

The run takes the district's run lock (a second concurrent run fails with a clear message, or
waits with ``--queue``) and goes through the change flow. Exit codes: 0 published or no changes,
10 held for approval, another non-zero code when the run failed (the error's own code).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from rostersync.cli._app import console, get_actor, get_settings
from rostersync.config import DistrictConfig, load_config
from rostersync.connectors import ProgressCallback, ProgressEvent
from rostersync.errors import FatalError, RunHeld
from rostersync.schedule.runner import RunRequest, execute_run
from rostersync.settings import Settings
from rostersync.store import Store, open_store
from rostersync.sync import SyncOutcome, sync_config
from rostersync.sync.run import ensure_district

#: How long ``--queue`` waits for a running sync of the district by default (seconds).
DEFAULT_QUEUE_WAIT = 3600.0


def failure_json(store: Store | None, exc: BaseException, run_id: int | None) -> dict[str, Any]:
    """What ``sync run --json`` prints for a run that failed (or never started: run_id null)."""
    out: dict[str, Any] = {
        "run_id": run_id,
        "district_id": None,
        "status": "failed",
        "error": str(exc),
        "error_type": type(exc).__name__,
        "exit_code": getattr(exc, "exit_code", FatalError.exit_code),
    }
    if store is not None and run_id is not None:
        run = store.get_run(run_id)
        out.update(
            district_id=run.district_id,
            status=run.status,
            error=run.error or str(exc),
            phases=run.phases,
            changes=run.change_summary,
        )
    return out


class ProgressView:
    """A Rich progress display: one line per entity with its pages and records so far."""

    def __init__(self, out: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<16}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("pages"),
            TextColumn("{task.fields[records]:>9,} records"),
            TimeElapsedColumn(),
            console=out,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressView:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: ProgressEvent) -> None:
        task = self.tasks.get(event.entity)
        if task is None:
            task = self.progress.add_task(event.entity, total=None, records=0)
            self.tasks[event.entity] = task
        total = event.pages_total
        if event.finished:
            total = event.pages_done
        self.progress.update(task, completed=event.pages_done, total=total, records=event.records)


def quiet_http_logs() -> None:
    """httpx logs every request at INFO; a sync makes thousands, the progress shows them."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def change_counts(outcome: SyncOutcome) -> dict[str, dict[str, int]]:
    """Per-entity added/updated/deleted of the run (the change flow's, else the version's)."""
    entities = outcome.changes.get("entities")
    if isinstance(entities, dict) and entities:
        return entities
    return outcome.version_counts


def outcome_line(outcome: SyncOutcome) -> str:
    """One line saying what the run did: published version N / no changes / held."""
    if outcome.status == "held":
        return f"run {outcome.run_id}: held for approval, nothing published"
    if outcome.unchanged:
        return f"run {outcome.run_id}: no changes, roster version {outcome.version} stays current"
    return f"run {outcome.run_id}: published roster version {outcome.version}"


def print_held(out: Console, outcome: SyncOutcome) -> None:
    """Why a run is held (the limits that tripped, preview) and how to act on it."""
    for reason in outcome.hold_reasons or ["held for approval"]:
        out.print(f"  - {reason}", highlight=False, soft_wrap=True)
    out.print(f"  review:  rostersync changes show {outcome.run_id}", highlight=False)
    out.print(f"  approve: rostersync changes approve {outcome.run_id}", highlight=False)
    out.print(
        f"  reject:  rostersync changes reject {outcome.run_id} --reason '...'", highlight=False
    )


def print_outcome(out: Console, outcome: SyncOutcome) -> None:
    """The admin's summary of a run: per-entity counts and what changed in the store."""
    title = f"Roster version {outcome.version}" if outcome.version else "Candidate roster"
    table = Table("entity", "records", title=title)
    for label, count in outcome.summary.items():
        table.add_row(label, f"{count:,}")
    out.print(table)
    counts = change_counts(outcome)
    if counts:
        changes = ", ".join(
            f"{name} +{c.get('added', 0):,} ~{c.get('updated', 0):,} -{c.get('deleted', 0):,}"
            for name, c in counts.items()
            if c.get("added") or c.get("updated") or c.get("deleted")
        )
        out.print(f"changes (+added ~updated -deleted): {changes or 'none'}")
    extract = outcome.extract
    requests = sum(int(s.get("requests", 0)) for s in extract.values())
    retries = sum(int(s.get("retries", 0)) for s in extract.values())
    seconds = outcome.phases.get("total_seconds", 0)
    out.print(
        f"{outcome_line(outcome)} ({requests:,} requests, {retries} retried, {seconds:.1f}s)",
        highlight=False,
    )
    if outcome.status == "held":
        print_held(out, outcome)


def locked_sync(
    store: Store,
    config: DistrictConfig,
    settings: Settings,
    *,
    trigger: str = "manual",
    wait: float = 0.0,
    progress: ProgressCallback | None = None,
    started: list[int] | None = None,
) -> SyncOutcome:
    """One sync of ``config`` under the district's run lock (raises ``RunInProgress`` when
    another sync of the district runs for longer than ``wait`` seconds, or the run's error).
    The run's id is appended to ``started`` as soon as it is recorded."""
    district_id = ensure_district(store, config)
    done: list[SyncOutcome] = []
    failed: list[BaseException] = []
    started = [] if started is None else started

    def run_function(store: Store, request: RunRequest) -> object:
        started.append(request.run_id)
        try:
            done.append(
                sync_config(
                    store,
                    config,
                    settings,
                    trigger=request.trigger,
                    run_id=request.run_id,
                    progress=progress,
                    created_by=get_actor(),  # the configuration version's author
                )
            )
        except Exception as exc:
            failed.append(exc)
            raise
        return done[-1]

    source = ",".join(s.name for s in config.sources)
    execute_run(
        store, run_function, district_id=district_id, source=source, trigger=trigger, wait=wait
    )
    if failed:
        raise failed[0]
    if not done:  # pragma: no cover - execute_run either runs the function or raises
        raise FatalError("the sync did not run")
    return done[0]


def run_sync_command(
    config_path: Path, *, quiet: bool, as_json: bool, wait: float = 0.0
) -> SyncOutcome:
    """Load the configuration and run one sync, with the display the flags ask for."""
    settings = get_settings()
    quiet_http_logs()
    store: Store | None = None
    started: list[int] = []
    try:
        config = load_config(config_path)
        store = open_store(settings, upgrade=True)
        if quiet or as_json:
            outcome = locked_sync(store, config, settings, wait=wait, started=started)
        else:
            with ProgressView(console) as view:
                outcome = locked_sync(
                    store, config, settings, wait=wait, progress=view, started=started
                )
    except Exception as exc:
        if as_json:  # a failed run is a result too: scripts read it from stdout
            run_id = started[0] if started else None
            print(json.dumps(failure_json(store, exc, run_id), indent=2, default=str))
        raise
    finally:
        if store is not None:
            store.dispose()
    return outcome


def register(app: typer.Typer) -> None:
    sync = typer.Typer(help="Sync a district's roster from its sources.", no_args_is_help=True)
    app.add_typer(sync, name="sync")

    @sync.command("run")
    def run(
        config: Annotated[
            Path, typer.Option("--config", "-c", help="The district configuration file (YAML).")
        ],
        quiet: Annotated[
            bool, typer.Option("--quiet", "-q", help="Print only the result.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
        queue: Annotated[
            bool,
            typer.Option(
                "--queue", help="If a sync of the district is running, wait for it to finish."
            ),
        ] = False,
        wait_seconds: Annotated[
            float,
            typer.Option(
                "--wait-seconds", min=0, help="With --queue: give up after this many seconds."
            ),
        ] = DEFAULT_QUEUE_WAIT,
    ) -> None:
        """Extract every source, run the configured rules and the change checks, then publish
        (or hold for approval). Exit code 0 published / no changes, 10 held, other failed."""
        outcome = run_sync_command(
            config, quiet=quiet, as_json=as_json, wait=wait_seconds if queue else 0.0
        )
        if as_json:
            print(json.dumps(outcome.to_dict(), indent=2, default=str))
        elif quiet:
            print(
                f"{outcome_line(outcome)}; "
                + " ".join(f"{k}={v}" for k, v in outcome.summary.items())
            )
            if outcome.status == "held":
                print_held(console, outcome)
        else:
            print_outcome(console, outcome)
        if outcome.status == "held":
            raise typer.Exit(RunHeld.exit_code)
