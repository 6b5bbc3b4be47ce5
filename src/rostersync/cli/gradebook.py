"""`rostersync gradebook …`: 2-way sync of grades — write back now, the write-back log, and
mass grade changes held for approval (approve / reject)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table

from rostersync.cli._app import console, get_actor, get_settings
from rostersync.cli.db import cli_store
from rostersync.config import load_config
from rostersync.store.schema import gradebook_writeback_log
from rostersync.sync.writeback import write_back
from rostersync.sync.writeback_holds import decide_hold, list_holds

DistrictOpt = Annotated[
    str, typer.Option("--district", "-d", help="District id, name or slug.", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]
HoldArg = Annotated[int, typer.Argument(help="The hold's number (`rostersync gradebook holds`).")]


def register(app: typer.Typer) -> None:
    gradebook = typer.Typer(help="2-way sync of grades back to the SIS.", no_args_is_help=True)
    app.add_typer(gradebook, name="gradebook")

    @gradebook.command("writeback")
    def writeback(
        config: Annotated[
            Path, typer.Option("--config", "-c", help="The district configuration file (YAML).")
        ],
        as_json: JsonOpt = False,
    ) -> None:
        """Write apps' line items and results back to the SIS now (sync_mode two_way only;
        a two_way sync does this after publishing)."""
        settings = get_settings()
        store = cli_store()
        try:
            report = write_back(store, load_config(config), settings)
        finally:
            store.dispose()
        if as_json:
            print(json.dumps(report.to_dict(), indent=2))
            return
        console.print(
            f"{report.assignments_created} assignments created, {report.assignments_updated} "
            f"updated, {report.assignments_deleted} deleted; {report.scores_written} scores "
            f"written; {report.unchanged} unchanged"
        )
        for title, lines in (
            ("conflict", report.conflicts),
            ("refused", report.refused),
            ("held", report.held),
        ):
            for line in lines:
                console.print(f"{title}: {line}")

    @gradebook.command("log")
    def log(
        district: DistrictOpt,
        limit: Annotated[int, typer.Option(help="Newest entries to show.", min=1)] = 50,
        as_json: JsonOpt = False,
    ) -> None:
        """The district's write-back log: what was sent, when, and the SIS's answer."""
        store = cli_store()
        try:
            district_id = store.get_district(district).id
            w = gradebook_writeback_log.c
            with store.engine.connect() as conn:
                rows = [
                    dict(r)
                    for r in conn.execute(
                        sa.select(gradebook_writeback_log)
                        .where(w.district_id == district_id)
                        .order_by(w.id.desc())
                        .limit(limit)
                    ).mappings()
                ]
        finally:
            store.dispose()
        if as_json:
            print(json.dumps(rows, indent=2, default=str))
            return
        table = Table("at", "kind", "sourcedId", "action", "outcome", "answer")
        for r in rows:
            table.add_row(
                f"{r['at']:%Y-%m-%d %H:%M:%S}",
                r["kind"],
                r["sourcedId"],
                r["action"],
                r["outcome"],
                r["answer"] or "",
            )
        console.print(table)

    @gradebook.command("holds")
    def holds(district: DistrictOpt, as_json: JsonOpt = False) -> None:
        """Mass grade changes held for approval, and how they were decided."""
        store = cli_store()
        try:
            rows = list_holds(store, store.get_district(district).id)
        finally:
            store.dispose()
        if as_json:
            print(json.dumps(rows, indent=2, default=str))
            return
        table = Table("hold", "class", "API client", "changed", "of", "held at", "decision")
        for r in rows:
            table.add_row(
                str(r["id"]),
                r["classSourcedId"],
                r["origin"],
                str(r["changed"]),
                str(r["total"]),
                f"{r['created_at']:%Y-%m-%d %H:%M}",
                r["decision"] or "pending",
            )
        console.print(table)

    def _decide(district: str, hold: int, decision: str) -> None:
        store = cli_store()
        try:
            decide_hold(store, store.get_district(district).id, hold, decision, get_actor())
        finally:
            store.dispose()
        console.print(f"hold {hold} {decision}")

    @gradebook.command("approve")
    def approve(district: DistrictOpt, hold: HoldArg) -> None:
        """Approve a held mass grade change: the next write-back sends it."""
        _decide(district, hold, "approved")

    @gradebook.command("reject")
    def reject(district: DistrictOpt, hold: HoldArg) -> None:
        """Reject a held mass grade change: those scores stay out of the SIS until changed."""
        _decide(district, hold, "rejected")
