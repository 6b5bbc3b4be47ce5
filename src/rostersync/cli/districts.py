"""`rostersync districts …`: create and list the districts (tenants) of this installation."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from rostersync.cli._app import console, get_actor
from rostersync.cli.db import cli_store


def register(app: typer.Typer) -> None:
    districts = typer.Typer(help="Districts served by this installation.", no_args_is_help=True)
    app.add_typer(districts, name="districts")

    @districts.command("create")
    def create(name: Annotated[str, typer.Argument(help="The district's name.")]) -> None:
        """Create a district (its slug is derived from the name)."""
        store = cli_store()
        district = store.create_district(name)
        store.audit(get_actor(), "district.create", district.id, name=district.name)
        console.print(f"created district {district.id}: {district.name} (slug {district.slug})")
        store.dispose()

    @districts.command("list")
    def list_(
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """List every district."""
        store = cli_store()
        rows = store.list_districts()
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
