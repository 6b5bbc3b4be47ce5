"""`rostersync audit …`: read the audit log, filtered by district and time, as a table or CSV."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from rostersync.admin.audit import list_entries, parse_since, to_csv
from rostersync.cli._app import console
from rostersync.cli.db import cli_store


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The audit log: who did what, when.", no_args_is_help=True)
    app.add_typer(group, name="audit")

    @group.command("list")
    def list_(
        district: Annotated[
            str | None, typer.Option("--district", "-d", help="Only this district.")
        ] = None,
        since: Annotated[
            str | None, typer.Option("--since", help="Only entries from this date/time on.")
        ] = None,
        limit: Annotated[int, typer.Option("--limit", help="At most this many entries.")] = 1000,
        as_csv: Annotated[bool, typer.Option("--csv", help="Print as CSV.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """List audit entries, newest first."""
        when = parse_since(since) if since is not None else None
        store = cli_store()
        try:
            district_id = store.get_district(district).id if district is not None else None
            entries = list_entries(store, district_id=district_id, since=when, limit=limit)
        finally:
            store.dispose()
        if as_csv:
            sys.stdout.write(to_csv(entries))
            return
        if as_json:
            print(
                json.dumps(
                    [
                        {
                            "id": e.id,
                            "at": e.at.isoformat(),
                            "actor": e.actor,
                            "action": e.action,
                            "district_id": e.district_id,
                            "detail": e.detail,
                        }
                        for e in entries
                    ],
                    indent=2,
                    default=str,
                )
            )
            return
        table = Table("id", "at", "actor", "action", "district", "detail")
        for e in entries:
            table.add_row(
                str(e.id),
                e.at.strftime("%Y-%m-%d %H:%M:%S"),
                e.actor,
                e.action,
                "" if e.district_id is None else str(e.district_id),
                json.dumps(e.detail, default=str),
            )
        console.print(table)
