"""`rostersync audit …`: read the audit log, filtered, as a table or CSV."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    return None
