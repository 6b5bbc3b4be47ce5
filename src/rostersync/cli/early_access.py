"""`rostersync early-access show|on|off`: publish a school year before it begins, or not."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from rostersync.cli._app import console, get_actor
from rostersync.cli.db import cli_store
from rostersync.sync.early_access import EarlyAccess, early_access_of, set_early_access

DistrictOpt = Annotated[
    str, typer.Option("--district", "-d", help="District id, name or slug.", show_default=False)
]
NoteOpt = Annotated[str | None, typer.Option("--note", help="Why (kept in the audit log).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def _print(name: str, access: EarlyAccess, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"district": name, **access.as_dict()}, indent=2))
        return
    if access.opted_in:
        console.print(
            f"{name}: early access ON — next school year's data publishes as soon as the SIS "
            f"has it (opted in by {access.changed_by} at {access.changed_at:%Y-%m-%d %H:%M} UTC)"
        )
    else:
        console.print(
            f"{name}: early access off — data of a school year that has not begun is held back "
            "until `rostersync early-access on`"
        )


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Early access: publish a school year's data before the year begins (opt-in).",
        no_args_is_help=True,
    )
    app.add_typer(group, name="early-access")

    def _set(district: str, on: bool, note: str | None, as_json: bool) -> None:
        store = cli_store()
        try:
            found = store.get_district(district)
            access = set_early_access(store, found.id, on, actor=get_actor(), note=note)
        finally:
            store.dispose()
        _print(found.name, access, as_json)

    @group.command("show")
    def show(district: DistrictOpt, as_json: JsonOpt = False) -> None:
        """Whether the district publishes next year's data before the year begins."""
        store = cli_store()
        try:
            found = store.get_district(district)
            access = early_access_of(store, found.id)
        finally:
            store.dispose()
        _print(found.name, access, as_json)

    @group.command("on")
    def on(district: DistrictOpt, note: NoteOpt = None, as_json: JsonOpt = False) -> None:
        """Opt in: the next sync publishes next year's data (audited)."""
        _set(district, True, note, as_json)

    @group.command("off")
    def off(district: DistrictOpt, note: NoteOpt = None, as_json: JsonOpt = False) -> None:
        """Opt out: next year's data is held back again from the next sync (audited)."""
        _set(district, False, note, as_json)
