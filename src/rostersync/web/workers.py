"""Several web worker processes on one port, each with a listening socket of its own.

uvicorn's own ``--workers`` shares one listening socket between the processes, and whichever
process is waiting in ``accept`` first takes the next connection. OneRoster consumers (an LMS
syncing a district) hold a few long keep-alive connections, and we measured 13 of 16 of them
landing on one of two workers: one core saturated, the other idle, throughput halved. With
``SO_REUSEPORT`` every worker binds its own socket to the port and the kernel spreads new
connections across them evenly.

The parent only supervises: it starts the workers, restarts one that dies, and on SIGINT or
SIGTERM stops them all (each finishes its requests in flight, as uvicorn does) and exits. A
worker whose supervisor disappears (SIGKILL, OOM) stops by itself.
A worker that cannot build the app says why in one line and the supervisor stops, instead of
restarting it in a loop. Platforms without ``SO_REUSEPORT`` load balancing fall back to
uvicorn's own supervisor.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from types import FrameType
from typing import Any

from rostersync.errors import FatalError

#: Where the kernel balances connections across sockets sharing a port.
BALANCES = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
#: How often the supervisor looks at its workers, and how long it gives them to stop.
POLL_SECONDS = 0.5
STOP_SECONDS = 30.0


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` that other processes may bind too (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _follow_parent(parent: int) -> None:
    """Stop this worker (gracefully) once its supervisor is gone, even if it was SIGKILLed:
    an orphan would keep serving on the port, with old code, beside the next supervisor's."""
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


#: Exit code of a worker that could not build the app (the store became unreachable…).
STARTUP_FAILED = 3


def _worker(host: str, port: int, options: dict[str, Any], parent: int) -> None:
    """One worker process: its own socket, uvicorn serving the app built from the environment."""
    import uvicorn

    from rostersync.errors import RostersyncError
    from rostersync.web.app import app_from_environment

    threading.Thread(target=_follow_parent, args=(parent,), daemon=True).start()
    try:
        app = app_from_environment()
    except RostersyncError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        sys.exit(STARTUP_FAILED)
    sock = listening_socket(host, port)
    uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[sock])


def serve_workers(workers: int, host: str, port: int, options: dict[str, Any]) -> None:
    """Run ``workers`` processes serving on ``host:port`` until SIGINT/SIGTERM.

    ``options`` are uvicorn Config options (without host, port and workers). Raises OSError
    before starting anything if the address cannot be bound.
    """
    # Fail fast, with the bind error, while nothing runs yet. The probe is closed before the
    # workers start: a bound socket that never accepts would be handed connections too.
    listening_socket(host, port).close()
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(
            target=_worker, args=(host, port, options, os.getpid()), daemon=False
        )
        process.start()
        return process

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(workers)]
    try:
        while not stopping:
            time.sleep(POLL_SECONDS)
            for i, process in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                if process.exitcode == STARTUP_FAILED:  # it said why; a new one would too
                    raise FatalError("a web worker could not start (its error is above)")
                processes[i] = start()  # a worker died (crash, OOM kill): replace it
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: uvicorn's graceful shutdown
        deadline = time.monotonic() + STOP_SECONDS
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
