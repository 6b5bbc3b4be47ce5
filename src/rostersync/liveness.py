"""Who runs what: a process identity that survives pid reuse, and whether its owner still lives.

A run and a run lock record their owner as ``host:pid:start`` (``start``: the process's start
time in clock ticks since boot, from ``/proc/<pid>/stat``), so that a later process can tell a
dead owner from a live one: on the same host, a pid that no longer exists, or that now belongs
to a process started at another time, is dead, at once. On another host nothing can be checked;
the caller waits for the owner's lease (its heartbeat) to run out.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from pathlib import Path

PROC = Path("/proc")


def _start_ticks(pid: int) -> str | None:
    """The process's start time (field 22 of ``/proc/<pid>/stat``), None when it is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its last ")"
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


@cache
def hostname() -> str:
    return socket.gethostname()


def process_identity(pid: int | None = None) -> str:
    """``host:pid:start`` of this process (or of ``pid`` on this host)."""
    pid = os.getpid() if pid is None else pid
    return f"{hostname()}:{pid}:{_start_ticks(pid) or '?'}"


def owner_alive(owner: str | None) -> bool | None:
    """Whether the process named by ``owner`` (``host:pid:start[:…]``) still runs.

    True or False on this host; None when it cannot be told (another host, an owner recorded
    before owners were, a system without ``/proc``).
    """
    if not owner:
        return None
    parts = owner.split(":")
    if len(parts) < 3 or parts[0] != hostname() or not parts[1].isdigit():
        return None
    if not PROC.is_dir():
        return None
    pid, start = int(parts[1]), parts[2]
    now_start = _start_ticks(pid)
    if now_start is None:
        return False  # no such process
    if not start.isdigit():
        return None  # an owner recorded without its start time: the pid may be reused
    return now_start == start


__all__ = ["hostname", "owner_alive", "process_identity"]
