"""`rostersync secrets …`: the encrypted secret store behind ``store:NAME`` references.

A value is read from standard input (or a hidden prompt on a terminal), never from the command
line, where it would be seen in the process list and the shell history. Values are never shown.
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from rostersync.admin.secrets import SecretStore, check_name
from rostersync.cli._app import console, get_actor, get_settings
from rostersync.cli.db import cli_store
from rostersync.errors import ConfigurationError

DistrictOpt = Annotated[
    str, typer.Option("--district", "-d", help="District id, name or slug.", show_default=False)
]


def read_value(label: str) -> str:
    """A secret from a hidden prompt on a terminal, else the whole of standard input."""
    if sys.stdin.isatty():
        value = getpass.getpass(f"{label}: ")
        if getpass.getpass(f"{label} (again): ") != value:
            raise ConfigurationError(f"{label}: the two entries differ", hint="try again")
    else:
        value = sys.stdin.read()
        # One trailing newline comes from `echo` or a file's last line; it is not the value's.
        value = value.removesuffix("\n").removesuffix("\r")
    if not value:
        raise ConfigurationError(
            f"{label}: nothing was given",
            hint="pipe the value on standard input, e.g. `rostersync secrets set … < file`",
        )
    return value


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Encrypted secrets of a district, referenced as store:NAME in its configuration.",
        no_args_is_help=True,
    )
    app.add_typer(group, name="secrets")

    @group.command("set")
    def set_(
        name: Annotated[str, typer.Argument(help="The secret's name (store:NAME).")],
        district: DistrictOpt,
    ) -> None:
        """Store a secret, read from standard input or a hidden prompt (never the command line)."""
        check_name(name)
        store = cli_store()
        try:
            the_district = store.get_district(district)
            value = read_value(f"value of {name}")
            replaced = SecretStore(store, get_settings()).put(
                the_district.id, name, value, actor=get_actor()
            )
        finally:
            store.dispose()
        verb = "replaced" if replaced else "stored"
        console.print(f"{verb} secret {name} of district {the_district.name}")

    @group.command("list")
    def list_(
        district: Annotated[
            str | None,
            typer.Option("--district", "-d", help="Only this district (id, name or slug)."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """List the stored secrets' names and dates (values are never shown)."""
        store = cli_store()
        try:
            names = {d.id: d.name for d in store.list_districts()}
            district_id = store.get_district(district).id if district is not None else None
            secrets = SecretStore(store, get_settings())
            secrets.finish_pending_rotation()
            rows = secrets.list_secrets(district_id)
        finally:
            store.dispose()
        if as_json:
            print(
                json.dumps(
                    [
                        {
                            "district": names.get(r.district_id),
                            "district_id": r.district_id,
                            "name": r.name,
                            "created_at": r.created_at.isoformat(),
                            "updated_at": r.updated_at.isoformat(),
                            "key_id": r.key_id,
                        }
                        for r in rows
                    ],
                    indent=2,
                )
            )
            return
        table = Table("district", "name", "created", "updated", "key")
        for r in rows:
            table.add_row(
                names.get(r.district_id, str(r.district_id)),
                r.name,
                r.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                r.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
                r.key_id,
            )
        console.print(table)

    @group.command("delete")
    def delete(
        name: Annotated[str, typer.Argument(help="The secret's name.")],
        district: DistrictOpt,
    ) -> None:
        """Delete a stored secret."""
        store = cli_store()
        try:
            the_district = store.get_district(district)
            gone = SecretStore(store, get_settings()).delete(
                the_district.id, name, actor=get_actor()
            )
        finally:
            store.dispose()
        if not gone:
            raise ConfigurationError(
                f"District {the_district.name} has no secret named {name!r}",
                hint="see `rostersync secrets list`",
            )
        console.print(f"deleted secret {name} of district {the_district.name}")

    @group.command("rotate-key")
    def rotate_key() -> None:
        """Re-encrypt every stored secret under a new key (one transaction), then replace the
        key file. Back up the new key file afterwards."""
        store = cli_store()
        try:
            count = SecretStore(store, get_settings()).rotate_key(actor=get_actor())
        finally:
            store.dispose()
        path = get_settings().resolved_secrets_key_file
        console.print(f"re-encrypted {count} secret(s); the new key is in {path}")
