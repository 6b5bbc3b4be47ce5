"""The root Typer app, its global options, and the registration of every sub-command module."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rostersync import __version__
from rostersync.logs import configure_logging
from rostersync.settings import Settings, load_settings


@dataclass
class _State:
    debug: bool = False
    settings: Settings | None = None
    actor: str | None = None


state = _State()
console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="rostersync",
    help="Roster data-sync hub for K-12 districts: SIS in, clean versioned roster out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def get_settings() -> Settings:
    """The settings of this invocation, read once."""
    if state.settings is None:
        state.settings = load_settings()
    return state.settings


def get_actor() -> str:
    """Who runs this command, for the audit log (``--as``, ``ROSTERSYNC_ACTOR`` or the OS user)."""
    from rostersync.admin.actors import resolve_actor

    if state.actor is None:
        state.actor = resolve_actor()
    return state.actor


def _version(value: bool) -> None:
    if value:
        print(f"rostersync {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
    actor: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Who is acting, as recorded in the audit log (default: ROSTERSYNC_ACTOR, "
            "else cli:<OS user>).",
            show_default=False,
        ),
    ] = None,
) -> None:
    from rostersync.admin.actors import resolve_actor

    state.debug = debug
    state.settings = None
    state.actor = resolve_actor(actor)
    settings = get_settings()
    configure_logging("DEBUG" if debug else settings.log_level, settings.log_format)


@app.command("settings")
def show_settings(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Print the installation's settings, secrets redacted."""
    settings = get_settings()
    values = settings.redacted()
    if as_json:
        print(json.dumps(values, indent=2, default=str))
        return
    table = Table("setting", "value", "help")
    for name, field in Settings.model_fields.items():
        table.add_row(f"ROSTERSYNC_{name.upper()}", str(values[name]), field.description or "")
    console.print(table)


#: Sub-command modules; each defines `register(app)`. Add a line here for a new area.
COMMAND_MODULES: tuple[str, ...] = (
    "db",
    "districts",
    "versions",
    "generate",
    "simulate",
    "config",
    "changes",
    "runs",
    "serve",
    "export",
    "api_clients",
    "powerschool",
    "sync",
    "demo",
    "schedule",
    "worker",
    "secrets",
    "admins",
    "audit",
    "gradebook",
    "early_access",
    "matches",
    "ldap",
    "notifications",
)

for _module in COMMAND_MODULES:
    importlib.import_module(f"rostersync.cli.{_module}").register(app)
