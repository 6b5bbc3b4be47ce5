"""`rostersync districts …`: create, list, show and delete the districts (tenants)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from rostersync import manage
from rostersync.cli._app import console, err_console, get_actor, get_settings
from rostersync.cli.db import cli_store
from rostersync.errors import ConfigurationError


def register(app: typer.Typer) -> None:
    districts = typer.Typer(help="Districts served by this installation.", no_args_is_help=True)
    app.add_typer(districts, name="districts")

    @districts.command("create")
    def create(name: Annotated[str, typer.Argument(help="The district's name.")]) -> None:
        """Create a district (its slug is derived from the name)."""
        store = cli_store()
        try:
            district = manage.create_district(store, get_actor(), name)
        finally:
            store.dispose()
        console.print(f"created district {district.id}: {district.name} (slug {district.slug})")

    @districts.command("list")
    def list_(
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """List every district."""
        store = cli_store()
        try:
            rows = manage.list_districts(store)
        finally:
            store.dispose()
        if as_json:
            print(
                json.dumps(
                    [
                        {
                            "id": d.id,
                            "name": d.name,
                            "slug": d.slug,
                            "created_at": d.created_at.isoformat(),
                        }
                        for d in rows
                    ],
                    indent=2,
                )
            )
            return
        table = Table("id", "name", "slug", "created")
        for d in rows:
            table.add_row(str(d.id), d.name, d.slug, d.created_at.strftime("%Y-%m-%d %H:%M UTC"))
        console.print(table)

    @districts.command("show")
    def show(
        district: Annotated[str, typer.Argument(help="District id, name or slug.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """Show a district: its current roster version, and how many versions, runs, API
        clients and configuration versions it holds."""
        store = cli_store()
        try:
            summary = manage.show_district(store, district)
        finally:
            store.dispose()
        if as_json:
            print(json.dumps(summary.as_dict(), indent=2))
            return
        for key, value in summary.as_dict().items():
            console.print(f"{key + ':':17} {'' if value is None else value}")

    @districts.command("delete")
    def delete(
        district: Annotated[str, typer.Argument(help="District id, name or slug.")],
        yes: Annotated[
            bool, typer.Option("--yes", help="Confirm: delete it and everything it holds.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """Delete a district and purge its roster versions, runs (with their events, change
        sets and reports), configuration versions, API clients and schedules. The audit log
        keeps its entries. Refused while a sync of the district is running."""
        store = cli_store()
        try:
            found = store.get_district(district)
            if not yes:
                raise ConfigurationError(
                    f"deleting district {found.name!r} removes everything it holds and cannot "
                    "be undone",
                    setting="--yes",
                    hint=f"run `rostersync districts delete {found.slug} --yes` to confirm",
                )
            deleted = manage.delete_district(
                store, get_actor(), found.id, reports_dir=get_settings().data_dir / "reports"
            )
        finally:
            store.dispose()
        if as_json:
            print(json.dumps(deleted.as_dict(), indent=2))
            return
        total = sum(deleted.rows.values())
        console.print(
            f"deleted district {found.id}: {found.name} — {total} rows in "
            f"{len(deleted.rows)} tables, {len(deleted.reports_removed)} report directories"
        )
        for left in deleted.reports_left:
            err_console.print(f"warning: report directory not removed, delete it by hand: {left}")
