"""`rostersync powerschool …`: write the plugin, test the connection, list the schools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rostersync.cli._app import console
from rostersync.cli._source import call_connector, print_failure
from rostersync.config import DistrictConfig, SourceConfig, load_config
from rostersync.connectors.powerschool import ExtractPlan, PowerSchoolConnector, access_fields
from rostersync.connectors.powerschool.plugin import write_plugin
from rostersync.errors import ConfigurationError

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="The district configuration file (YAML).")
]
SourceOption = Annotated[
    str | None,
    typer.Option(
        "--source", "-s", help="Which PowerSchool source of the config (default: the first)."
    ),
]


def pick_source(config: DistrictConfig, name: str | None) -> tuple[int, SourceConfig]:
    """The configuration's PowerSchool source named ``name`` (or its only/first one)."""
    candidates = [
        (i, s)
        for i, s in enumerate(config.sources)
        if s.app == "powerschool" and (name is None or s.name == name)
    ]
    if not candidates:
        what = f"named {name!r} " if name else ""
        raise ConfigurationError(
            f"the configuration has no PowerSchool source {what}".strip(),
            setting="sources",
            hint="add a source with `app: powerschool`",
        )
    return candidates[0]


def register(app: typer.Typer) -> None:
    ps = typer.Typer(help="PowerSchool: plugin, connection test, schools.", no_args_is_help=True)
    app.add_typer(ps, name="powerschool")

    @ps.command("plugin")
    def plugin(
        out: Annotated[Path, typer.Option("--out", "-o", help="Where to write plugin.zip.")],
        config: ConfigOption = None,
        source: SourceOption = None,
        name: Annotated[
            str, typer.Option(help="Plugin name (unique in PowerSchool).")
        ] = "rostersync",
        version: Annotated[str, typer.Option(help="Plugin version (digits and dots).")] = "1.0.0",
        v1_access: Annotated[
            str,
            typer.Option(
                "--v1-access",
                help="accessLevelV1Api for SIS 25.2+: READ, FULL, NONE, or 'omit' for older SIS.",
            ),
        ] = "READ",
    ) -> None:
        """Write the PowerSchool plugin granting exactly what the configuration reads.

        Without --config it grants everything the connector can read (co-teachers, calendar and
        the Contacts module), custom fields excepted.
        """
        if config is None:
            plan = ExtractPlan(contact_module=True, sync_co_teachers=True)
        else:
            _, src = pick_source(load_config(config), source)
            plan = ExtractPlan.from_source(src)
        level = None if v1_access.lower() == "omit" else v1_access.upper()
        path = write_plugin(out, plan, name=name, version=version, v1_access=level)
        granted = access_fields(plan.table_reads())
        fields = sum(len(cols) for cols in granted.values())
        n_tables = len(granted)
        console.print(
            f"wrote {path}: OAuth plugin granting {fields} fields of {n_tables} "
            "tables. Install it in PowerSchool (System > System Settings > Plugin Management "
            "Configuration), enable it, and copy the client ID and secret from its Data Provider "
            "Configuration page."
        )

    @ps.command("test")
    def test(
        config: Annotated[Path, typer.Option("--config", "-c", help="The district configuration.")],
        source: SourceOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """Test the connection: reachability, credentials, plugin access and page sizes."""
        report = call_connector(
            config,
            source,
            pick_source,
            PowerSchoolConnector.from_source,
            PowerSchoolConnector.test_connection,
        )
        if as_json:
            print(json.dumps(report.to_dict(), indent=2))
        elif report.ok:
            sizes = ", ".join(f"{k} {v}" for k, v in report.page_sizes.items())
            console.print(f"[green]ok[/green] {report.message}")
            console.print(f"page sizes: {sizes}")
        else:
            print_failure(report)
        if not report.ok:
            raise typer.Exit(3)

    @ps.command("schools")
    def schools(
        config: Annotated[Path, typer.Option("--config", "-c", help="The district configuration.")],
        source: SourceOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """List the district's schools (IDs for schools_mapping)."""
        found = call_connector(
            config,
            source,
            pick_source,
            PowerSchoolConnector.from_source,
            PowerSchoolConnector.list_schools,
        )
        if as_json:
            print(json.dumps([s.__dict__ for s in found], indent=2))
            return
        table = Table("source_id", "number", "name", "grades")
        for s in found:
            table.add_row(s.source_id, s.number or "", s.name, f"{s.low_grade}–{s.high_grade}")
        console.print(table)
