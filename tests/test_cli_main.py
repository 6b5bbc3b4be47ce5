"""The console entry point: exit codes reach the shell, errors are one line, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import yaml


def _refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rostersync", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
        timeout=120,
    )


def test_command_exit_code_reaches_the_shell(tmp_path: Path) -> None:
    """A failed connection test exits 3 through the real entry point, not 0."""
    config = tmp_path / "d.yaml"
    body = {
        "district": "Exit Code District",
        "sources": [
            {
                "name": "sis",
                "app": "powerschool",
                "delivery": {
                    "url": f"http://127.0.0.1:{_refused_port()}",
                    "client_id": "x",
                    "client_secret": "env:PS_SECRET_FOR_EXIT_TEST",
                },
                "connector": {"max_retries": 0},
            }
        ],
    }
    config.write_text(yaml.safe_dump(body), encoding="utf-8")
    result = run_cli(
        "powerschool", "test", "--config", str(config), env={"PS_SECRET_FOR_EXIT_TEST": "s"}
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = run_cli("no-such-command")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
