"""Servers of the fault campaign: the PowerSchool simulator behind a request-counting wrapper that
switches faults or dies at an exact request, the stores each case works in, and a private
PostgreSQL cluster that can be restarted without disturbing anyone."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from rostersync.simulators.powerschool import (
    District,
    Faults,
    SimulatorConfig,
    create_simulator_app,
)
from rostersync.simulators.threaded import ServerDidNotStart, ThreadedServer
from rostersync.store import Store, make_engine

PG_ENV = "ROSTERSYNC_TEST_POSTGRES_URL"


# ----------------------------------------------------------------------------- the simulator


class FaultySimulator:
    """The PowerSchool simulator in a thread, behind an ASGI wrapper that counts the API
    requests and fires planned fault switches at an exact request number ("outage from the
    37th request on"), or takes the whole server down there."""

    def __init__(self, district: District, seed: int) -> None:
        self.config = SimulatorConfig(enable_control=True, faults=Faults(seed=seed))
        self.app = create_simulator_app(district, self.config)
        self.sim = self.app.state.simulator
        with contextlib.closing(socket.socket()) as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests = 0
        self.plan: list[tuple[int, Callable[[], None]]] = []
        self.dead = False
        self.server = ThreadedServer(
            self,
            port=self.port,
            start_seconds=30,
            stop_seconds=15,
            log_level="critical",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self.running = False

    @property
    def district(self) -> District:
        return self.sim.district  # type: ignore[no-any-return]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(("/ws/", "/oauth/")):
            self.requests += 1
            while self.plan and self.plan[0][0] <= self.requests:
                self.plan.pop(0)[1]()
            if self.dead:  # hang until the shutdown drops the connection
                await asyncio.sleep(3600)
        await self.app(scope, receive, send)

    def start(self) -> None:
        self.dead = False
        try:
            self.server.start()
        except ServerDidNotStart:
            raise SystemExit(f"the simulator could not listen on port {self.port}") from None
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.server.stop()
        self.running = False

    def go_down(self) -> None:
        """From inside a request: the server dies (in-flight requests get no answer)."""
        self.dead = True
        self.server.request_stop()

    def set_faults(self, **faults: Any) -> None:
        """Through the simulator's control endpoint (faults reset first)."""
        body = {"reset": True, "seed": self.config.faults.seed, **faults}
        answer = httpx.post(self.url + "/_sim/faults", json=body, timeout=10)
        answer.raise_for_status()

    def switch_at(self, request: int, **faults: Any) -> None:
        """Change faults when the simulator sees its ``request``-th API request from now."""

        def fire() -> None:
            self.sim.config.faults = dataclasses.replace(self.sim.config.faults, **faults)

        self.plan.append((self.requests + request, fire))
        self.plan.sort(key=lambda p: p[0])

    def down_at(self, request: int) -> None:
        self.plan.append((self.requests + request, self.go_down))
        self.plan.sort(key=lambda p: p[0])

    def clear(self) -> None:
        self.plan.clear()
        self.sim.config.throttle_status = 429
        self.sim.config.faults = Faults(seed=self.config.faults.seed)
        if not self.running or self.dead:
            self.stop()
            self.start()

    def next_day(self) -> None:
        self.sim.set_day(self.district.day + 1)


# ----------------------------------------------------------------------------- stores


@contextlib.contextmanager
def sqlite_store(workdir: Path, name: str) -> Iterator[str]:
    path = workdir / f"{name}.db"
    yield f"sqlite:///{path}"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextlib.contextmanager
def pg_schema(base_url: str) -> Iterator[str]:
    """A brand-new schema on the server of ``base_url`` (dropped afterwards), as a URL whose
    search_path points at it, so other users of the server are never disturbed."""
    name = f"rs_faults_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    base = sa.make_url(base_url)
    if base.get_driver_name() != "psycopg":
        base = base.set(drivername="postgresql+psycopg")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    except sa.exc.SQLAlchemyError as exc:
        admin.dispose()
        raise SystemExit(
            f"cannot create a schema on {base.render_as_string(hide_password=True)}: "
            f"{type(exc).__name__} — check --postgres / ${PG_ENV}, or pass --no-postgres"
        ) from None
    try:
        yield base.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        admin.dispose()


def open_store(url: str) -> Store:
    store = Store(make_engine(url))
    store.upgrade()
    return store


# ----------------------------------------------------------------------------- database restart


class PrivateCluster:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl) on a free port in a temporary directory,
    so restarting it disturbs nobody."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "pgdata"
        self.log = root / "pg.log"
        with contextlib.closing(socket.socket()) as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ("runuser", "-u", "postgres", "--", *cmd)
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            shutil.which("initdb") or "/usr/local/bin/initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        self.start()

    def _ctl(self, *args: str, check: bool = True) -> None:
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=on"
        self._run(
            shutil.which("pg_ctl") or "/usr/local/bin/pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            opts,
            "-w",
            *args,
            check=check,
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-m", mode, check=False)

    def restart(self, mode: str) -> None:
        self.stop(mode)
        self.start()
