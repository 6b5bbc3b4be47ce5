"""`rostersync runs …`: every run of a district — trigger, status, phases, counts, outcome."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.table import Table

from rostersync import manage
from rostersync.cli._app import console
from rostersync.cli.db import cli_store
from rostersync.store import RunRecord


def _changes(summary: dict[str, Any]) -> str:
    ents = summary.get("entities", {}).values()
    if not ents:
        return ""
    a, u, d = (sum(int(e.get(k, 0)) for e in ents) for k in ("added", "updated", "deleted"))
    return f"+{a} ~{u} -{d}"


def _duration(run: RunRecord) -> str:
    start = run.started_at or run.created_at
    if run.finished_at is None:
        return ""
    return f"{(run.finished_at - start).total_seconds():.1f}s"


def _as_dict(run: RunRecord) -> dict[str, Any]:
    out = asdict(run)
    for key in ("created_at", "started_at", "finished_at", "heartbeat_at"):
        out[key] = out[key].isoformat() if out[key] else None
    return out


def register(app: typer.Typer) -> None:
    runs = typer.Typer(help="Sync runs of a district and their outcome.", no_args_is_help=True)
    app.add_typer(runs, name="runs")

    @runs.command("list")
    def list_(
        district: Annotated[
            str, typer.Option("--district", "-d", help="District id, name or slug.")
        ],
        limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """A district's runs, newest first."""
        store = cli_store()
        try:
            rows = manage.list_runs(store, district, limit=limit)
        finally:
            store.dispose()
        if as_json:
            print(json.dumps([_as_dict(r) for r in rows], indent=2, default=str))
            return
        table = Table(
            "run", "created", "trigger", "source", "status", "took", "version", "changes", "reason"
        )
        for r in rows:
            table.add_row(
                str(r.id),
                r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                r.trigger,
                r.source or "",
                r.status,
                _duration(r),
                "" if r.roster_version is None else str(r.roster_version),
                _changes(r.change_summary),
                (r.error or "; ".join(r.change_summary.get("hold_reasons", [])))[:80],
            )
        console.print(table)

    @runs.command("show")
    def show(
        run: Annotated[int, typer.Argument(help="The run's id.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """Everything recorded about one run."""
        store = cli_store()
        r = manage.show_run(store, run)
        store.dispose()
        if as_json:
            print(json.dumps(_as_dict(r), indent=2, default=str))
            return
        console.print(f"run {r.id} — {r.status} (trigger {r.trigger}, source {r.source or '-'})")
        console.print(f"created {r.created_at:%Y-%m-%d %H:%M:%S} UTC, took {_duration(r) or '-'}")
        if r.roster_version is not None:
            console.print(f"published roster version {r.roster_version}")
        if r.error:
            console.print(f"reason: {r.error}")
        for reason in r.change_summary.get("hold_reasons", []):
            console.print(f"held: {reason}")
        if r.phases:
            table = Table("phase", "seconds")
            for name, p in r.phases.items():
                secs = p.get("seconds", "") if isinstance(p, dict) else p
                table.add_row(name, str(secs))
            console.print(table)
        entities = r.change_summary.get("entities", {})
        if entities:
            table = Table("entity", "base", "added", "updated", "deleted")
            for name, c in entities.items():
                table.add_row(
                    name, *(str(c.get(k, 0)) for k in ("base", "added", "updated", "deleted"))
                )
            console.print(table)
        if r.counts:
            console.print("counts: " + json.dumps(r.counts, default=str))
        if r.report:
            console.print("report: " + json.dumps(r.report, default=str)[:2000])
        if r.status == "held":
            console.print(
                f"review with `rostersync changes show {r.id}`, then "
                f"`rostersync changes approve {r.id}` or `reject {r.id} --reason …`"
            )

    @runs.command("events")
    def events(
        run: Annotated[int, typer.Argument(help="The run's id.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON lines.")] = False,
    ) -> None:
        """A run's events in order: phases, progress, warnings and the decision (where an
        interrupted run stopped)."""
        from rostersync.sync.events import read_events

        store = cli_store()
        store.get_run(run)  # a clear error for an unknown run
        found = read_events(store.engine, run)
        store.dispose()
        if as_json:
            for event in found:
                print(json.dumps(event.to_dict(), default=str))
            return
        if not found:
            console.print(f"run {run}: no events recorded")
            return
        table = Table("at (UTC)", "kind", "phase", "event")
        for e in found:
            table.add_row(f"{e.at:%H:%M:%S.%f}"[:-3], e.kind, e.phase or "", e.message)
        console.print(table)
