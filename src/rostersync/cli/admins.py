"""`rostersync admins …`: admin accounts, roles, district grants and personal API tokens."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    return None
