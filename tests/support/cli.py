"""The CLI's real entry point (``rostersync.cli.main``) run in-process, as a console script."""

from __future__ import annotations

import sys

import pytest

from rostersync.cli import main


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``rostersync ARGV`` through ``main()`` (its error rendering and exit codes included):
    the exit code, stdout and stderr."""
    old = sys.argv
    sys.argv = ["rostersync", *argv]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    return code, out, err
