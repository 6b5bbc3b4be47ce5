"""The `rostersync` command line: one Typer app, one sub-command module per area.

Any :class:`~rostersync.errors.RostersyncError` becomes a short message and a non-zero exit code;
a traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import sys

from rostersync.cli._app import app, state
from rostersync.errors import RostersyncError

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    try:
        # Without standalone mode click returns the code of `typer.Exit(code)` instead of exiting.
        code = app(standalone_mode=False)
    except RostersyncError as exc:
        if state.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # a usage error or an abort from the command-line parser
        # Typer may vendor its own click, so recognise its exceptions by shape, not by class.
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show()
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        if type(exc).__name__ == "Abort":
            print("aborted", file=sys.stderr)
            sys.exit(1)
        if state.debug:
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
        sys.exit(70)
    if isinstance(code, int) and code != 0:
        sys.exit(code)
