"""`rostersync notifications show|test`: a district's notification recipients, and *send test*.

The same service functions as ``/api/v1/districts/{district}/notifications`` (the recipients
are set in the district's configuration, or through the API's PUT).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from rostersync.admin.secrets import lookup_for
from rostersync.cli._app import console, get_actor, get_settings
from rostersync.cli.db import cli_store
from rostersync.manage.notifications import get_notifications, send_test

DistrictOpt = Annotated[
    str, typer.Option("--district", "-d", help="District id, name or slug.", show_default=False)
]


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Notifications: who is told about runs; send a test message.")
    app.add_typer(group, name="notifications", no_args_is_help=True)

    @group.command("show")
    def show(district: DistrictOpt) -> None:
        """Print the district's notifications section (secrets as references only)."""
        store = cli_store()
        try:
            section = get_notifications(store, store.get_district(district).id)
        finally:
            store.dispose()
        print(json.dumps(section, indent=2))

    @group.command("test")
    def test(district: DistrictOpt) -> None:
        """Send a test message to every recipient now and say how each delivery went."""
        store = cli_store()
        settings = get_settings()
        try:
            d = store.get_district(district)
            deliveries = send_test(
                store, settings, get_actor(), d.id, store_lookup=lookup_for(store, settings, d.id)
            )
        finally:
            store.dispose()
        table = Table("channel", "target", "outcome", "error")
        for x in deliveries:
            table.add_row(x.channel, x.target, x.status, x.error or "")
        console.print(table)
        if any(x.status != "delivered" for x in deliveries):
            raise typer.Exit(1)
