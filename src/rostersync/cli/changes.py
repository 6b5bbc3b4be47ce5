"""`rostersync changes …`: review a run's change set, approve or reject a held run, and grant,
list or revoke a time-boxed over-threshold override for planned mass changes (rollover)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.table import Table

from rostersync.admin.secrets import lookup_for
from rostersync.changes.overrides import override_state
from rostersync.changes.report import change_rows, write_csv
from rostersync.cli._app import console, err_console, get_actor, get_settings
from rostersync.cli.db import cli_store
from rostersync.clock import utcnow
from rostersync.errors import ConfigurationError, ConfigValidationError, VersionNotFound
from rostersync.model import ENTITIES
from rostersync.notify import Notifier, build_notifier
from rostersync.store import Store
from rostersync.sync import changesets as _frames
from rostersync.sync.approval import approve, reject
from rostersync.sync.wiring import delivery_log

RunArg = Annotated[int, typer.Argument(help="The run's id (see `rostersync runs list`).")]
KINDS = ("added", "updated", "deleted")


def actor() -> str:
    """Who is acting from this command line, for the audit log (``--as``, ``ROSTERSYNC_ACTOR``
    or the OS user)."""
    return get_actor()


def district_notifier(store: Store, district_id: int) -> Notifier | None:
    """A notifier under the district's saved configuration (None when it has none)."""
    try:
        _, body = store.get_config_version(district_id)
    except VersionNotFound:
        return None
    try:
        return build_notifier(
            get_settings(),
            body.get("notifications"),
            district_id=district_id,
            delivery_log=delivery_log(store),
            store_lookup=lookup_for(store, get_settings(), district_id),
        )
    except ConfigValidationError as exc:
        err_console.print(f"notifications not sent: the configuration's section is invalid ({exc})")
        return None


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

    override = typer.Typer(
        help=(
            "Hold overrides for planned mass changes: grant one (the options below), "
            "`list` them or `revoke` the one in force. The latest grant wins."
        ),
        invoke_without_command=True,
    )
    changes.add_typer(override, name="override")

    @override.callback()
    def override_grant(
        ctx: typer.Context,
        district: Annotated[
            str | None, typer.Option("--district", "-d", help="District id, name or slug.")
        ] = None,
        until: Annotated[
            str | None,
            typer.Option(
                "--allow-over-threshold-until",
                help="Runs up to this date (YYYY-MM-DD, inclusive) are not held for the "
                "threshold. Replaces any earlier override, even a longer one.",
            ),
        ] = None,
        reason: Annotated[str | None, typer.Option(help="Why, for the audit log.")] = None,
    ) -> None:
        """Allow a planned mass change (e.g. rollover) through the hold threshold until a date."""
        if ctx.invoked_subcommand is not None:
            return
        if district is None or until is None:
            raise ConfigurationError(
                "changes override: give --district and --allow-over-threshold-until",
                hint="or `changes override list -d DISTRICT` / "
                "`changes override revoke -d DISTRICT --reason WHY`",
            )
        try:
            day = date.fromisoformat(until)
        except ValueError as exc:
            raise ConfigurationError(
                f"--allow-over-threshold-until: {until!r} is not a date", hint="write YYYY-MM-DD"
            ) from exc
        store = cli_store()
        d = store.get_district(district)
        today = district_today(store, d.id)
        previous = _frames.active_override(store, d.id, today=today)
        _frames.grant_override(store, d.id, day, actor=actor(), reason=reason)
        store.dispose()
        if day < today:
            console.print(
                f"{d.name}: override until {day.isoformat()} recorded; that day has passed, so "
                "no override is in force (runs are held by the threshold)"
            )
        else:
            console.print(f"{d.name}: runs until {day.isoformat()} may go over the hold threshold")
        if previous is not None and previous.until != day:
            console.print(f"  (replaces the override until {previous.until.isoformat()})")

    @override.command("list")
    def override_list(
        district: Annotated[
            str, typer.Option("--district", "-d", help="District id, name or slug.")
        ],
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """Every hold override of a district, with its state and who/when/until/why.

        States: active, ended, superseded (a later grant replaced it), revoked.
        """
        store = cli_store()
        d = store.get_district(district)
        today = district_today(store, d.id)
        grants = _frames.list_overrides(store, d.id)
        store.dispose()
        now = utcnow()
        rows = [{**g.to_dict(), "state": override_state(g, grants, now, today)} for g in grants]
        if as_json:
            print(json.dumps({"district": d.name, "today": today.isoformat(), "overrides": rows}))
            return
        if not rows:
            console.print(f"{d.name}: no hold overrides")
            return
        table = Table("id", "state", "until", "granted by", "granted at", "reason", "revoked")
        for r in rows:
            revoked = (
                f"{r['revoked_at']} by {r['revoked_by']}: {r['revoke_reason']}"
                if r["revoked_at"]
                else ""
            )
            table.add_row(
                str(r["id"]),
                str(r["state"]),
                str(r["until"]),
                str(r["created_by"]),
                str(r["created_at"]),
                str(r["reason"] or ""),
                revoked,
            )
        console.print(table)

    @override.command("revoke")
    def override_revoke(
        district: Annotated[
            str, typer.Option("--district", "-d", help="District id, name or slug.")
        ],
        reason: Annotated[str, typer.Option("--reason", help="Why, for the audit log.")],
        override_id: Annotated[
            int | None,
            typer.Option("--id", help="The override to revoke (default: the one in force)."),
        ] = None,
    ) -> None:
        """End the district's hold override now: the next runs are held by the threshold."""
        store = cli_store()
        d = store.get_district(district)
        today = district_today(store, d.id)
        ended = _frames.revoke_override(
            store, d.id, actor=actor(), reason=reason, today=today, override_id=override_id
        )
        store.dispose()
        console.print(
            f"{d.name}: override {ended.id} (until {ended.until.isoformat()}) revoked; "
            "runs are held by the threshold again"
        )


def district_today(store: Store, district_id: int) -> date:
    """Today in the district's time zone (its saved configuration's), else in UTC."""
    try:
        _, body = store.get_config_version(district_id)
        tz = ZoneInfo(str((body.get("sync_schedule") or {}).get("timezone") or "UTC"))
    except (VersionNotFound, ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    return datetime.now(tz).date()
