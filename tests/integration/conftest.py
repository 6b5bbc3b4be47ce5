"""Integration fixtures: a PowerSchool simulator in a thread, a real SQLite store, a webhook
receiver (a real HTTP server on 127.0.0.1) that records every event it is sent."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from integ_helpers import Hook

from rostersync.settings import load_settings
from rostersync.simulators.powerschool import (
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.store import Store, open_store


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.events.append(json.loads(body))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    """A fresh tiny district per test (tests change its days and faults)."""
    with run_simulator(generate_district("tiny", seed=2), SimulatorConfig()) as running:
        yield running


@pytest.fixture
def store() -> Iterator[Store]:
    """The installation's store (SQLite in the test's data directory), as the CLI opens it."""
    s = open_store(load_settings(), upgrade=True)
    try:
        yield s
    finally:
        s.dispose()


@pytest.fixture(autouse=True)
def _logging_to_real_stderr() -> Iterator[None]:
    """The CLI points logging at the stream of the moment; in-process CLI tests close theirs."""
    yield
    logging.basicConfig(stream=sys.__stderr__, level=logging.WARNING, force=True)
