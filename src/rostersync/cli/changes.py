"""`rostersync changes …`: review a run's change set, approve or reject a held run, and grant a
time-boxed over-threshold override for planned mass changes (rollover)."""

from __future__ import annotations

import getpass
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from rostersync.changes import _frames
from rostersync.changes.flow import approve, reject
from rostersync.changes.report import change_rows, write_csv
from rostersync.cli._app import console, err_console, get_settings
from rostersync.cli.db import cli_store
from rostersync.errors import ConfigurationError, VersionNotFound
from rostersync.model import ENTITIES
from rostersync.notify import NotificationsConfig, Notifier
from rostersync.notify.log import DeliveryLog
from rostersync.store import Store

RunArg = Annotated[int, typer.Argument(help="The run's id (see `rostersync runs list`).")]
KINDS = ("added", "updated", "deleted")


def actor() -> str:
    """Who is acting from this command line, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def district_notifier(store: Store, district_id: int) -> Notifier | None:
    """A notifier under the district's saved configuration (None when it has none)."""
    try:
        _, body = store.get_config_version(district_id)
    except VersionNotFound:
        return None
    section = body.get("notifications") or {}
    try:
        config = NotificationsConfig.model_validate(section)
    except ValidationError as exc:
        err_console.print(f"notifications not sent: the configuration's section is invalid ({exc})")
        return None
    log = DeliveryLog(store.engine)
    return Notifier(get_settings(), config, district_id=district_id, record=log.record)


def _counts_table(summary: dict[str, Any]) -> Table:
    table = Table("entity", "base", "added", "updated", "deleted", "deactivated")
    for name, c in summary.get("entities", {}).items():
        if any(c.get(k) for k in ("added", "updated", "deleted")):
            table.add_row(name, *(str(c.get(k, 0)) for k in ("base", *KINDS, "deactivated")))
    return table


def register(app: typer.Typer) -> None:
    changes = typer.Typer(
        help="A run's change set: review it, approve or reject a held run.", no_args_is_help=True
    )
    app.add_typer(changes, name="changes")

    @changes.command("show")
    def show(
        run: RunArg,
        entity: Annotated[
            str | None, typer.Option("--entity", "-e", help="Only this entity (e.g. users).")
        ] = None,
        csv: Annotated[
            Path | None, typer.Option("--csv", help="Write one CSV per entity into this folder.")
        ] = None,
        limit: Annotated[int, typer.Option(help="Rows to print per entity.")] = 50,
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """Counts of a run's changes, then its rows with before/after."""
        if entity is not None and entity not in ENTITIES:
            raise ConfigurationError(
                f"Unknown entity {entity!r}", hint=f"one of: {', '.join(ENTITIES)}"
            )
        store = cli_store()
        record = store.get_run(run)
        cs = _frames.load_changes(store, run, record.change_summary.get("base_version"))
        store.dispose()
        wanted = [entity] if entity else list(ENTITIES)
        if csv is not None:
            for path in write_csv(cs, csv, wanted):
                console.print(f"wrote {path}")
            return
        if as_json:
            out = {
                "run": run,
                "status": record.status,
                "summary": record.change_summary,
                "rows": {
                    name: change_rows(cs.entities[name]).head(limit).to_dicts()
                    for name in wanted
                    if cs.entities[name].total
                },
            }
            print(json.dumps(out, indent=2, default=str))
            return
        summary = record.change_summary
        console.print(
            f"run {run}: {record.status}, {summary.get('total', 0)} changes against version "
            f"{summary.get('base_version')}"
        )
        for reason in summary.get("hold_reasons", []):
            console.print(f"  held: {reason}")
        console.print(_counts_table(summary))
        for name in wanted:
            ch = cs.entities[name]
            if not ch.total:
                continue
            rows = change_rows(ch)
            table = Table(*rows.columns, title=f"{name} ({ch.total} records changed)")
            for r in rows.head(limit).iter_rows():
                table.add_row(*("" if v is None else str(v) for v in r))
            console.print(table)
            if rows.height > limit:
                console.print(f"… {rows.height - limit} more rows (use --csv DIR for all)")

    @changes.command("approve")
    def approve_(run: RunArg) -> None:
        """Publish a held run's changes as the district's next roster version."""
        store = cli_store()
        district_id = store.get_run(run).district_id
        version = approve(store, run, actor=actor(), notifier=district_notifier(store, district_id))
        store.dispose()
        console.print(f"run {run} approved: published as roster version {version.version}")

    @changes.command("reject")
    def reject_(
        run: RunArg,
        reason: Annotated[str, typer.Option("--reason", help="Why (kept in the run's history).")],
    ) -> None:
        """Discard a held run's changes; nothing is published."""
        store = cli_store()
        reject(store, run, reason=reason, actor=actor())
        store.dispose()
        console.print(f"run {run} rejected: nothing published")

    @changes.command("override")
    def override(
        district: Annotated[
            str, typer.Option("--district", "-d", help="District id, name or slug.")
        ],
        until: Annotated[
            str,
            typer.Option(
                "--allow-over-threshold-until",
                help="Runs up to this date (YYYY-MM-DD, inclusive) are not held for the threshold.",
            ),
        ],
        reason: Annotated[str | None, typer.Option(help="Why, for the audit log.")] = None,
    ) -> None:
        """Allow a planned mass change (e.g. rollover) through the hold threshold until a date."""
        try:
            day = date.fromisoformat(until)
        except ValueError as exc:
            raise ConfigurationError(
                f"--allow-over-threshold-until: {until!r} is not a date", hint="write YYYY-MM-DD"
            ) from exc
        store = cli_store()
        d = store.get_district(district)
        _frames.grant_override(store, d.id, day, actor=actor(), reason=reason)
        store.dispose()
        console.print(f"{d.name}: runs until {day.isoformat()} may go over the hold threshold")
