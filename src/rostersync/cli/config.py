"""`rostersync config …`: validate a district configuration file, print a commented starter;
list, show, compare and restore the configuration versions stored for a district."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rostersync import manage
from rostersync.cli._app import console, get_actor
from rostersync.cli.db import cli_store
from rostersync.config import (
    TEMPLATE,
    ConfigDeprecationWarning,
    DistrictConfig,
    dump_config,
    load_config,
)
from rostersync.errors import ConfigValidationError

config_app = typer.Typer(help="District configuration files: validate, template, show.")


def load_with_notices(file: Path) -> tuple[DistrictConfig, list[str]]:
    """The configuration and its deprecation notices (settings that still work, to rename)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConfigDeprecationWarning)
        config = load_config(file)
    notices = [str(w.message) for w in caught if issubclass(w.category, ConfigDeprecationWarning)]
    for w in caught:  # anything else is shown as Python would
        if not issubclass(w.category, ConfigDeprecationWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return config, list(dict.fromkeys(notices))


@config_app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="The district configuration file (YAML).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print problems as JSON.")] = False,
) -> None:
    """Check a configuration file; list every problem with its path, exit non-zero if any."""
    try:
        config, notices = load_with_notices(file)
    except ConfigValidationError as exc:
        if as_json:
            problems = [{"path": p.path, "message": p.message} for p in exc.problems]
            print(json.dumps({"file": str(file), "valid": False, "problems": problems}))
        else:
            noun = "problem" if len(exc.problems) == 1 else "problems"
            print(f"{file}: {len(exc.problems)} {noun}", file=sys.stderr)
            for p in exc.problems:
                print(f"  {p}", file=sys.stderr)
        # sys.exit, not typer.Exit: the exit code must survive standalone_mode=False.
        sys.exit(exc.exit_code)
    if as_json:
        print(json.dumps({"file": str(file), "valid": True, "problems": [], "warnings": notices}))
        return
    for notice in notices:
        print(f"{file}: warning: {notice}", file=sys.stderr)
    names = ", ".join(s.name for s in config.sources)
    print(f"{file}: valid — district {config.district!r}, sources: {names}")


@config_app.command("template")
def template() -> None:
    """Print a commented starter configuration with every option."""
    sys.stdout.write(TEMPLATE)


@config_app.command("show")
def show(
    file: Annotated[Path, typer.Argument(help="The district configuration file (YAML).")],
) -> None:
    """Print a configuration with every default filled in (deprecated names written anew)."""
    config, notices = load_with_notices(file)
    for notice in notices:
        print(f"{file}: warning: {notice}", file=sys.stderr)
    sys.stdout.write(dump_config(config))


DistrictOpt = Annotated[
    str, typer.Option("--district", "-d", help="District id, name or slug.", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


@config_app.command("versions")
def versions(district: DistrictOpt, as_json: JsonOpt = False) -> None:
    """List the configuration versions stored for a district, newest first."""
    store = cli_store()
    try:
        rows = manage.list_config_versions(store, district)
    finally:
        store.dispose()
    if as_json:
        print(json.dumps([r.as_dict() for r in rows], indent=2))
        return
    table = Table("version", "saved (UTC)", "by", "comment")
    for r in rows:
        table.add_row(
            str(r.version),
            r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.created_by,
            r.comment or "",
        )
    console.print(table)


@config_app.command("get")
def get(
    district: DistrictOpt,
    version: Annotated[
        int | None, typer.Argument(help="Version number; default: the newest.")
    ] = None,
) -> None:
    """Print a stored configuration version (JSON)."""
    store = cli_store()
    try:
        _, body = manage.get_config_version(store, district, version)
    finally:
        store.dispose()
    print(json.dumps(body, indent=2, sort_keys=True))


@config_app.command("diff")
def diff(
    district: DistrictOpt,
    a: Annotated[int, typer.Argument(help="The older version.")],
    b: Annotated[int, typer.Argument(help="The newer version.")],
    as_json: JsonOpt = False,
) -> None:
    """What changed from configuration version A to B: a unified diff (--json: every change
    with its path, and the unified text)."""
    store = cli_store()
    try:
        result = manage.diff_config_versions(store, district, a, b)
    finally:
        store.dispose()
    if as_json:
        print(json.dumps(result.as_dict(), indent=2, default=str))
        return
    sys.stdout.write(result.unified or f"versions {a} and {b} are the same\n")


@config_app.command("restore")
def restore(
    district: DistrictOpt,
    version: Annotated[int, typer.Argument(help="The version to restore.")],
) -> None:
    """Save version N's configuration as the newest version (the history keeps both); the
    next sync reads it."""
    store = cli_store()
    try:
        restored = manage.restore_config_version(store, get_actor(), district, version)
    finally:
        store.dispose()
    print(f"restored configuration version {version} as version {restored.version}")


def register(app: typer.Typer) -> None:
    """Add the `config` command group."""
    app.add_typer(config_app, name="config")
