"""Process liveness: a recorded owner is alive, dead, or cannot be told — never guessed.

Against the real ``/proc`` of this machine: the cases an outage or a restart produces (a reused
pid, an owner recorded before start times were, an owner on another host, a garbled owner).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rostersync.liveness import PROC, hostname, owner_alive, process_identity

pytestmark = pytest.mark.skipif(not PROC.is_dir(), reason="needs /proc")


def test_this_process_is_alive() -> None:
    assert owner_alive(process_identity()) is True
    # a lock owner carries a nonce after the identity
    assert owner_alive(f"{process_identity()}:abcd1234") is True


def test_a_finished_process_is_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    owner = process_identity(child.pid)
    child.wait()
    assert owner_alive(owner) is False


def test_a_reused_pid_is_not_its_old_owner() -> None:
    """The pid exists, but the process behind it started at another time: the owner is dead."""
    host, pid, start = process_identity().split(":")
    assert owner_alive(f"{host}:{pid}:{int(start) + 1}") is False


@pytest.mark.parametrize(
    "owner",
    [
        None,
        "",
        f"{hostname()}:{os.getpid()}:?",  # recorded without its start time: the pid may be reused
        f"{hostname()}:{os.getpid()}",  # recorded before owners carried a start time
        f"another-{hostname()}:{os.getpid()}:1",  # another host: only its lease can tell
        f"{hostname()}:not-a-pid:1",
        "garbage",
    ],
    # named without the pid, so parallel test processes collect the same tests
    ids=["none", "empty", "no-start-time", "old-format", "another-host", "not-a-pid", "garbage"],
)
def test_what_cannot_be_told_is_none(owner: str | None) -> None:
    assert owner_alive(owner) is None


def test_liveness_sits_at_the_bottom() -> None:
    """Locks, recovery and the scheduler import it: it loads no other part of rostersync."""
    code = (
        "import json, sys\nimport rostersync.liveness\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('rostersync'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == ["rostersync", "rostersync.liveness"]
