"""The rostersync CLI run in-process, as the admin tests drive it."""

from __future__ import annotations

from typer.testing import CliRunner, Result

from rostersync.cli import app


def cli(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input)


def ok(*args: str, input: str | None = None) -> Result:
    """Run a command that must succeed; a failure shows its output and exception."""
    result = cli(*args, input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result
