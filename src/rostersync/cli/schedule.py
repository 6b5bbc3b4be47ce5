"""`rostersync schedule show`: each district's sync schedule, next runs and last run."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from rostersync.cli._app import console
from rostersync.cli.db import cli_store
from rostersync.schedule.service import schedule_overview


def _local(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M %Z")


def register(app: typer.Typer) -> None:
    schedule = typer.Typer(help="Sync schedules: when each source syncs by itself.")
    app.add_typer(schedule, name="schedule", no_args_is_help=True)

    @schedule.command("show")
    def show(
        district: Annotated[
            str | None, typer.Option("--district", "-d", help="Only this district (name or id).")
        ] = None,
        count: Annotated[int, typer.Option(min=1, max=50, help="How many next runs.")] = 3,
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """List each scheduled source's next runs, its last run, and whether a scheduler runs."""
        store = cli_store()
        try:
            district_id = store.get_district(district).id if district else None
            overview = schedule_overview(store, count=count, district_id=district_id)
        finally:
            store.dispose()
        if as_json:
            print(json.dumps(overview.as_dict(), indent=2))
            return
        table = Table("district", "source", "schedule", "next runs (local time)", "last run")
        for view in overview.sources:
            if view.expired:
                upcoming = "[yellow]expired: no more scheduled syncs[/]"
            else:
                upcoming = (
                    "\n".join(
                        _local(at, view.timezone)
                        + (" (first day of school)" if k != "scheduled" else "")
                        for at, k in zip(view.next_runs, view.next_kinds, strict=True)
                    )
                    or "none"
                )
            if view.running_run is not None:
                upcoming = f"[green]running now (run {view.running_run})[/]\n{upcoming}"
            elif view.due_now:
                upcoming = f"[cyan]due now[/]\n{upcoming}"
            last = "never"
            if view.last_slot is not None and view.last_trigger:
                last = f"{_local(view.last_slot, view.timezone)} ({view.last_trigger})"
            table.add_row(view.district, view.source, view.summary, upcoming, last)
        if overview.sources:
            console.print(table)
        else:
            console.print("No district has a sync schedule (see `sync_schedule` in its config).")
        for problem in overview.problems:
            console.print(f"[red]{problem.district}: sync_schedule unreadable: {problem.message}")
        for stale in (s for s in overview.schedulers if not s["running"]):
            console.print(
                f"[red]scheduler {stale['name']} stopped ticking at {stale['last_tick']} "
                "(crashed or lost the store?)"
            )
        running = [s for s in overview.schedulers if s["running"]]
        if running:
            names = ", ".join(f"{s['name']} (last tick {s['last_tick']})" for s in running)
            console.print(f"scheduler running: {names}")
        else:
            console.print(
                "[yellow]no scheduler is running: scheduled syncs will not happen — start "
                "`rostersync worker` (or `rostersync serve --with-scheduler`)"
            )
