"""Serve the simulator with uvicorn in a background thread: `run_simulator(district, config)`."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from starlette.applications import Starlette

from rostersync.errors import ConfigurationError
from rostersync.simulators.threaded import ServerDidNotStart, ThreadedServer

from .app import Simulator, create_simulator_app
from .config import SimulatorConfig
from .district import District


@dataclass
class RunningSimulator:
    """A simulator being served: its base URL, config, district and app state."""

    url: str
    app: Starlette
    simulator: Simulator

    @property
    def config(self) -> SimulatorConfig:
        return self.simulator.config

    @property
    def district(self) -> District:
        return self.simulator.district

    def set_day(self, day: int) -> None:
        """Move the served district to `day`."""
        self.simulator.set_day(day)

    def expire_tokens(self) -> None:
        """Expire every issued token now (the next call gets a 401)."""
        self.simulator.expire_tokens()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextmanager
def run_simulator(
    district: District,
    config: SimulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[RunningSimulator]:
    """Serve a simulator in a background thread for the duration of the block."""
    app = create_simulator_app(district, config)
    port = port or free_port(host)
    server = ThreadedServer(
        app,
        host=host,
        port=port,
        start_seconds=30,
        stop_seconds=10,
        thread_name=f"ps-simulator-{port}",
        access_log=False,
    )
    try:
        url = server.start()
    except ServerDidNotStart:
        raise ConfigurationError(
            f"the simulator could not listen on {host}:{port}",
            setting="port",
            hint="choose another port",
        ) from None
    try:
        yield RunningSimulator(url, app, app.state.simulator)
    finally:
        server.stop()
