"""`rostersync db …`: create or migrate the store's database and show its migration."""

from __future__ import annotations

import typer

from rostersync.cli._app import console, get_settings
from rostersync.store import Store, head_revision, make_engine, open_store
from rostersync.store.engine import describe, sqlite_path


def cli_store() -> Store:
    """The store of this invocation's settings, checked to be created and up to date."""
    return open_store(get_settings())


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="The store's database: create, migrate, inspect.", no_args_is_help=True)
    app.add_typer(db, name="db")

    @db.command("upgrade")
    def upgrade() -> None:
        """Create the database, or migrate it to this rostersync's newest schema."""
        store = open_store(get_settings(), upgrade=True)
        console.print(
            f"store {describe(store.engine)} is at migration {store.current_revision()} (newest)"
        )
        store.dispose()

    @db.command("current")
    def current() -> None:
        """Show the database's migration and the newest this rostersync knows."""
        settings = get_settings()
        if not settings.database_url:
            settings.ensure_data_dir()
        store = Store(make_engine(settings.resolved_database_url))
        path = sqlite_path(store.engine)
        # Never create an empty SQLite file just by looking at it.
        revision = None if path is not None and not path.exists() else store.current_revision()
        head = head_revision()
        state = "up to date" if revision == head else "run `rostersync db upgrade`"
        console.print(f"store {describe(store.engine)}")
        console.print(f"migration: {revision or 'none'} (newest: {head}) — {state}")
        store.dispose()
