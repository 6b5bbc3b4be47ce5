"""Shared helpers of the benchmark programs: phase timing, peak memory, JSON output.

Every benchmark prints one JSON object on stdout (progress goes to stderr), so results can be
piped into files and compared between commits; see bench/README.md.
"""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    divisor = 1024 * 1024 if sys.platform == "darwin" else 1024
    return round(peak / divisor, 1)


class Phases:
    """Seconds per named phase: ``with phases("publish"): ...``.

    ``seconds`` is wall-clock time; ``cpu_seconds`` is this process's CPU time, which stays
    meaningful on a machine shared with other work (it excludes time spent waiting for a CPU,
    and, for a database server, the server's own work).
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        progress(f"{name} …")
        start, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - start, 3)
            self.cpu_seconds[name] = round(time.process_time() - cpu, 3)
            progress(f"{name}: {self.seconds[name]} s (cpu {self.cpu_seconds[name]} s)")

    def rate(self, name: str, records: int) -> float:
        """Records per second of a phase."""
        seconds = self.seconds[name]
        return round(records / seconds, 1) if seconds > 0 else float("inf")


def load_average() -> float:
    """1-minute load average at the time of measuring (how busy the machine was)."""
    import os

    return round(os.getloadavg()[0], 2)


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    import os

    import polars as pl

    return {
        "python": platform.python_version(),
        "polars": pl.__version__,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def speed_probe(directory: str | None = None) -> dict[str, float]:
    """How fast this machine is right now, on fixed work: seconds for a pure-Python loop of
    5M additions (one core; best of three) and for writing 256 MiB to a file and fsyncing it.

    A shared 2-core machine's speed drifts by 2-3x from hour to hour while its load average
    stays near 1, so figures taken on different days are compared through this probe, and
    figures compared with each other are taken back to back.
    """
    import os
    import tempfile

    loops = []
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(5_000_000):
            total += i
        loops.append(time.perf_counter() - start)
    block = os.urandom(1 << 20)
    with tempfile.NamedTemporaryFile(dir=directory) as handle:
        start = time.perf_counter()
        for _ in range(256):
            handle.write(block)
        handle.flush()
        os.fsync(handle.fileno())
        disk = time.perf_counter() - start
    return {"python_loop_s": round(min(loops), 3), "write_fsync_256mib_s": round(disk, 3)}


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def emit(result: dict[str, Any]) -> None:
    """Print the benchmark's result as one JSON object."""
    print(json.dumps(result, indent=2, default=str), flush=True)


def launch_simulator(args: list[str], ready_seconds: float) -> tuple[subprocess.Popen[str], str]:
    """``rostersync simulate ARGS`` in a child process and its URL, once it answers
    ``/ws/v1/time`` (waiting up to ``ready_seconds``: a large district takes a while to build)."""
    cmd = [sys.executable, "-m", "rostersync", "simulate", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    url = next((w for w in line.split() if w.startswith("http://")), None)
    if url is None:
        proc.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    deadline = time.monotonic() + ready_seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/ws/v1/time", timeout=2).status_code < 500:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("simulator did not answer")
