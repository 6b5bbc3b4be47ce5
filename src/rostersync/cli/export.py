"""`rostersync export oneroster-csv`: a district's published roster as a OneRoster CSV package."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from rostersync.cli._app import console, get_actor, get_settings
from rostersync.cli.db import cli_store
from rostersync.errors import ConfigurationError
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.csv_export import write_package


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Export the published roster.", no_args_is_help=True)
    app.add_typer(group, name="export")

    @group.command("oneroster-csv")
    def oneroster_csv(
        out: Annotated[Path, typer.Option("--out", help="FILE.zip, or a directory.")],
        district: Annotated[
            str | None,
            typer.Option("--district", help="District id, name or slug (default: the only one)."),
        ] = None,
        version: Annotated[str, typer.Option("--version", help="OneRoster 1.1 or 1.2.")] = "1.2",
        delta_since: Annotated[
            int | None,
            typer.Option("--delta-since", help="Only changes since this roster version (delta)."),
        ] = None,
        roster_version: Annotated[
            int | None,
            typer.Option("--roster-version", help="Export this roster version (default: current)."),
        ] = None,
        client: Annotated[
            str | None,
            typer.Option("--client", help="Limit to this API client's sharing rules (name or id)."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """Write manifest.csv and every file with data, bulk or delta, 1.1 or 1.2."""
        if version not in ("1.1", "1.2"):
            raise ConfigurationError(
                f"--version: unknown OneRoster version {version!r}",
                setting="--version",
                hint="use 1.1 or 1.2",
            )
        store = cli_store()
        try:
            if district is None:
                districts = store.list_districts()
                if len(districts) != 1:
                    raise ConfigurationError(
                        "--district: name the district to export",
                        setting="--district",
                        hint="see `rostersync districts list`",
                    )
                the_district = districts[0]
            else:
                the_district = store.get_district(district)
            roster = store.read_version(the_district.id, roster_version)
            previous = (
                store.read_version(the_district.id, delta_since)
                if delta_since is not None
                else None
            )
            if client is not None:
                rules = (
                    ApiClients(store.engine, get_settings().get_secret_key())
                    .find(the_district.id, client)
                    .sharing
                )
                roster = rules.apply(roster)
                previous = rules.apply(previous) if previous is not None else None
            # A record gone since --delta-since was deleted by the exported version at the
            # latest: its publish time (exactly REST's tombstone time for a one-version delta).
            deleted_at = store.get_version(the_district.id, roster_version).created_at
            result = write_package(
                out,
                roster,
                version,
                previous=previous,
                now=deleted_at,
                system_code=the_district.slug,
            )
            store.audit(
                get_actor(),
                "export.oneroster_csv",
                the_district.id,
                version=version,
                mode=result.mode,
                delta_since=delta_since,
                client=client,
                files=result.files,
            )
        finally:
            store.dispose()
        if as_json:
            print(
                json.dumps(
                    {
                        "path": str(result.path),
                        "version": version,
                        "mode": result.mode,
                        "files": result.files,
                    }
                )
            )
            return
        console.print(f"wrote OneRoster {version} {result.mode} package to {result.path}")
        for name, count in sorted(result.files.items()):
            console.print(f"  {name}.csv: {count} rows")
