"""`rostersync matches …`: list, link and unlink records (manual match / unmatch, re-links)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from rostersync import manage
from rostersync.cli._app import console, get_actor
from rostersync.cli.db import cli_store
from rostersync.sync.links import LinkRecord

DistrictOpt = Annotated[
    str, typer.Option("--district", "-d", help="District id, name or slug.", show_default=False)
]
EntityOpt = Annotated[
    str,
    typer.Option(
        "--entity", "-e", help="Entity type (student, teacher…) or table (users, classes…)."
    ),
]
NoteOpt = Annotated[str | None, typer.Option("--note", help="Why, for the audit log.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]

KIND_WORDS = {
    "relink": "re-linked by a sync",
    "link": "joined by an admin",
    "apart": "kept apart by an admin",
}


def _print(rows: list[LinkRecord]) -> None:
    table = Table("id", "entity", "record", "published as / apart from", "kind", "by", "when")
    for r in rows:
        when = f"{r.created_at:%Y-%m-%d %H:%M}"
        if r.ended_at is not None:
            when += f" (reversed {r.ended_at:%Y-%m-%d %H:%M} by {r.ended_by})"
        kind = KIND_WORDS.get(r.kind, r.kind)
        if r.confidence is not None:
            kind += f" ({r.detail or r.confidence})"
        table.add_row(str(r.id), r.entity, r.from_id, r.to_id, kind, r.created_by, when)
    console.print(table)


def register(app: typer.Typer) -> None:
    matches = typer.Typer(
        help="Which records are one: re-links found by syncs, and manual match / unmatch.",
        no_args_is_help=True,
    )
    app.add_typer(matches, name="matches")

    @matches.command("list")
    def list_(
        district: DistrictOpt,
        entity: Annotated[
            str | None, typer.Option("--entity", "-e", help="Only this entity type or table.")
        ] = None,
        kind: Annotated[
            str | None, typer.Option(help="Only this kind: relink, link or apart.")
        ] = None,
        record: Annotated[
            str | None, typer.Option(help="Only the decisions about this sourcedId.")
        ] = None,
        include_reversed: Annotated[
            bool, typer.Option("--all", help="Also the reversed decisions.")
        ] = False,
        limit: Annotated[int, typer.Option(help="At most this many (1-1000).")] = 100,
        as_json: JsonOpt = False,
    ) -> None:
        """List the match decisions in force, newest first."""
        store = cli_store()
        try:
            rows = manage.list_matches(
                store,
                district,
                entity=entity,
                kind=kind,
                record=record,
                include_reversed=include_reversed,
                limit=limit,
            )
        finally:
            store.dispose()
        if as_json:
            print(json.dumps([r.as_dict() for r in rows], indent=2))
            return
        if not rows:
            console.print("no match decisions")
            return
        _print(rows)

    @matches.command("link")
    def link(
        district: DistrictOpt,
        entity: EntityOpt,
        keep: Annotated[str, typer.Argument(help="sourcedId of the record that stays.")],
        other: Annotated[str, typer.Argument(help="sourcedId of the record joined into it.")],
        note: NoteOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Join two published records into one from the next sync on (KEEP's values win)."""
        store = cli_store()
        try:
            row = manage.link_records(store, get_actor(), district, entity, keep, other, note=note)
        finally:
            store.dispose()
        if as_json:
            print(json.dumps(row.as_dict(), indent=2))
            return
        console.print(
            f"{other} will be joined into {keep} from the next sync on "
            f"(undo: rostersync matches unlink -d {district!r} -e {entity} {keep} {other})"
        )

    @matches.command("unlink")
    def unlink(
        district: DistrictOpt,
        entity: EntityOpt,
        first: Annotated[str, typer.Argument(help="sourcedId of one of the matched records.")],
        second: Annotated[str, typer.Argument(help="sourcedId of the other one.")],
        note: NoteOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Split two matched records (a manual link or a sync's re-link); they stay apart."""
        store = cli_store()
        try:
            row = manage.unlink_records(
                store, get_actor(), district, entity, first, second, note=note
            )
        finally:
            store.dispose()
        if as_json:
            print(json.dumps(row.as_dict(), indent=2))
            return
        console.print(f"{first} and {second} are two records from the next sync on")
