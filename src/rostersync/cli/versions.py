"""`rostersync versions …`: list, show, diff and roll back a district's roster versions."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from rostersync import manage
from rostersync.cli._app import console, get_actor
from rostersync.cli.db import cli_store
from rostersync.store import RosterVersion

DistrictOpt = Annotated[
    str, typer.Option("--district", "-d", help="District id, name or slug.", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def _counts_table(version: RosterVersion) -> Table:
    table = Table("entity", "total", "added", "updated", "deleted")
    for name, c in version.counts.items():
        table.add_row(name, str(c.total), str(c.added), str(c.updated), str(c.deleted))
    return table


def register(app: typer.Typer) -> None:
    versions = typer.Typer(help="Published roster versions of a district.", no_args_is_help=True)
    app.add_typer(versions, name="versions")

    @versions.command("list")
    def list_(district: DistrictOpt, as_json: JsonOpt = False) -> None:
        """List a district's roster versions, newest first."""
        store = cli_store()
        try:
            rows = manage.list_versions(store, district)
        finally:
            store.dispose()
        if as_json:
            print(json.dumps([v.as_dict() for v in rows], indent=2))
            return
        table = Table("version", "status", "created", "run", "records", "changed", "note")
        for v in rows:
            table.add_row(
                str(v.version),
                v.status,
                v.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                "" if v.run_id is None else str(v.run_id),
                str(sum(c.total for c in v.counts.values())),
                str(v.total_changed),
                v.note or "",
            )
        console.print(table)

    @versions.command("show")
    def show(
        district: DistrictOpt,
        version: Annotated[
            int | None, typer.Argument(help="Version number; default: the current one.")
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Per-entity counts of one version (total, and what changed from the one before)."""
        store = cli_store()
        v = store.get_version(store.get_district(district).id, version)
        store.dispose()
        if as_json:
            print(json.dumps(v.as_dict(), indent=2))
            return
        console.print(f"version {v.version} ({v.status}, {v.created_at:%Y-%m-%d %H:%M:%S} UTC)")
        console.print(_counts_table(v))

    @versions.command("diff")
    def diff(
        district: DistrictOpt,
        a: Annotated[int, typer.Argument(help="The older version.")],
        b: Annotated[int, typer.Argument(help="The newer version.")],
        as_json: JsonOpt = False,
        sample: Annotated[int, typer.Option(help="sourcedIds to show per kind.")] = 5,
    ) -> None:
        """What changed from version A to version B, per entity."""
        store = cli_store()
        try:
            diffs = manage.diff_versions(store, district, a, b)
        finally:
            store.dispose()
        kinds = ("added", "updated", "deleted")
        if as_json:
            out = {name: {k: getattr(d, k).to_list() for k in kinds} for name, d in diffs.items()}
            print(json.dumps(out, indent=2))
            return
        table = Table("entity", *kinds, "examples")
        for name, d in diffs.items():
            examples = "; ".join(
                f"{k}: {', '.join(getattr(d, k).head(sample).to_list())}"
                for k in kinds
                if getattr(d, k).len()
            )
            table.add_row(name, *(str(getattr(d, k).len()) for k in kinds), examples)
        console.print(table)

    @versions.command("rollback")
    def rollback(
        district: DistrictOpt,
        version: Annotated[int, typer.Argument(help="The version to roll back to.")],
    ) -> None:
        """Roll the roster back to version V: its content is published as a NEW version, so
        history is never rewritten and the rollback itself can be undone the same way."""
        store = cli_store()
        try:
            v = manage.rollback_version(store, get_actor(), district, version)
        finally:
            store.dispose()
        console.print(f"rolled back to version {version}: published as version {v.version}")
        console.print(_counts_table(v))
