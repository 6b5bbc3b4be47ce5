"""`rostersync generate district`: build a synthetic PowerSchool district and write it to disk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rostersync.cli._app import console


def register(app: typer.Typer) -> None:
    """Add the `generate` command group."""
    group = typer.Typer(help="Generate synthetic data.", no_args_is_help=True)

    @group.command("district")
    def district(
        out: Annotated[Path, typer.Option("--out", help="Directory to write the tables to.")],
        size: Annotated[str, typer.Option(help="tiny, small, medium, large or mega.")] = "tiny",
        students: Annotated[
            int | None, typer.Option(help="Number of students (overrides the size's).")
        ] = None,
        seed: Annotated[int, typer.Option(help="Same seed, same district.")] = 1,
        day: Annotated[int, typer.Option(help="Let the district live this many days.")] = 0,
    ) -> None:
        """Build a district deterministically (Parquet tables + manifest.json) in --out."""
        from rostersync.simulators.powerschool import generate_district, write_district

        built = generate_district(size, seed=seed, students=students, day=day)
        path = write_district(built, out)
        counts = built.counts()
        console.print(
            f"district {size} seed={seed} day={day}: {counts['students']} students, "
            f"{counts['v1_schools']} schools, {counts['users']} staff, "
            f"{counts['person']} contacts, {counts['sections']} sections, "
            f"{counts['cc']} enrollments → {path}"
        )

    app.add_typer(group, name="generate")
