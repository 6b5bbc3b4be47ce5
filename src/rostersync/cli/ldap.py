"""`rostersync ldap …`: test the connection to a directory, list the schools it holds.

LDAP / Active Directory source, from the command line: the same connection test and schools list
the management API gives, for a configuration file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rostersync.cli._app import console
from rostersync.cli._source import call_connector, print_failure
from rostersync.config import DistrictConfig, SourceConfig
from rostersync.connectors.ldap import LdapConnector
from rostersync.errors import ConfigurationError

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The district configuration.")]
SourceOption = Annotated[
    str | None,
    typer.Option("--source", "-s", help="Which LDAP source of the config (default: the first)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def pick_source(config: DistrictConfig, name: str | None) -> tuple[int, SourceConfig]:
    """The configuration's LDAP source named ``name`` (or its first one)."""
    for i, s in enumerate(config.sources):
        if s.app == LdapConnector.app and (name is None or s.name == name):
            return i, s
    what = f" named {name!r}" if name else ""
    raise ConfigurationError(
        f"the configuration has no LDAP source{what}",
        setting="sources",
        hint="add a source with `app: ldap` (see the README's LDAP section)",
    )


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="LDAP / Active Directory: connection test, schools.", no_args_is_help=True
    )
    app.add_typer(group, name="ldap")

    @group.command("test")
    def test(
        config: ConfigOption, source: SourceOption = None, as_json: JsonOption = False
    ) -> None:
        """Test the connection: reach the server, bind, read the first entry of every search."""
        report = call_connector(
            config, source, pick_source, LdapConnector.from_source, LdapConnector.test_connection
        )
        if as_json:
            print(json.dumps(report.to_dict(), indent=2))
        elif report.ok:
            console.print(f"[green]ok[/green] {report.message}")
            for name, found in report.details.get("searches", {}).items():
                lacks = ", ".join(found["first_entry_lacks"]) or "nothing"
                console.print(f"{name}: the first entry lacks {lacks}")
        else:
            print_failure(report)
        if not report.ok:
            raise typer.Exit(3)

    @group.command("schools")
    def schools(
        config: ConfigOption, source: SourceOption = None, as_json: JsonOption = False
    ) -> None:
        """List the schools the directory holds (IDs for schools_mapping)."""
        found = call_connector(
            config, source, pick_source, LdapConnector.from_source, LdapConnector.list_schools
        )
        if as_json:
            print(json.dumps([{"source_id": s.source_id, "name": s.name} for s in found]))
            return
        table = Table("source_id", "name")
        for s in found:
            table.add_row(s.source_id, s.name)
        console.print(table)
