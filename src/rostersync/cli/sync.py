"""`rostersync sync run --config FILE`: extract, build and publish a district's roster now."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

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

from rostersync.cli._app import console, get_settings
from rostersync.config import load_config
from rostersync.connectors import ProgressEvent
from rostersync.store import open_store
from rostersync.sync import SyncOutcome, sync_config


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


def print_outcome(out: Console, outcome: SyncOutcome) -> None:
    """The admin's summary of a run: per-entity counts and what changed in the store."""
    table = Table("entity", "records", title=f"Roster version {outcome.version}")
    for label, count in outcome.summary.items():
        table.add_row(label, f"{count:,}")
    out.print(table)
    if outcome.version_counts:
        changes = ", ".join(
            f"{name} +{c.get('added', 0):,} ~{c.get('updated', 0):,} -{c.get('deleted', 0):,}"
            for name, c in outcome.version_counts.items()
            if c.get("added") or c.get("updated") or c.get("deleted")
        )
        out.print(f"changes (+added ~updated -deleted): {changes or 'none'}")
    extract = outcome.extract
    requests = sum(int(s.get("requests", 0)) for s in extract.values())
    retries = sum(int(s.get("retries", 0)) for s in extract.values())
    seconds = outcome.phases.get("total_seconds", 0)
    out.print(
        f"run {outcome.run_id}: {outcome.status}, roster version {outcome.version}, "
        f"{requests:,} requests ({retries} retried), {seconds:.1f}s"
    )


def run_sync_command(config_path: Path, *, quiet: bool, as_json: bool) -> SyncOutcome:
    """Load the configuration and run one sync, with the display the flags ask for."""
    settings = get_settings()
    quiet_http_logs()
    config = load_config(config_path)
    store = open_store(settings, upgrade=True)
    try:
        if quiet or as_json:
            outcome = sync_config(store, config, settings)
        else:
            with ProgressView(console) as view:
                outcome = sync_config(store, config, settings, progress=view)
    finally:
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
    ) -> None:
        """Extract every source, run the configured rules and publish a new roster version."""
        outcome = run_sync_command(config, quiet=quiet, as_json=as_json)
        if as_json:
            print(json.dumps(outcome.to_dict(), indent=2, default=str))
        elif quiet:
            print(
                f"run {outcome.run_id} {outcome.status}: version {outcome.version} "
                + " ".join(f"{k}={v}" for k, v in outcome.summary.items())
            )
        else:
            print_outcome(console, outcome)
