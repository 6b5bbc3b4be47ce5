"""Helpers: the app in a uvicorn thread, accounts with tokens, waiting for a run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from rostersync.admin.accounts import Accounts
from rostersync.admin.tokens import Tokens
from rostersync.settings import Settings
from rostersync.store import Store

PASSWORD = "correct horse battery staple"


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free 127.0.0.1 port in a thread; yield its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@dataclass
class Api:
    """The served app, its store and settings, and an HTTP client per token."""

    url: str
    store: Store
    settings: Settings
    clients: dict[str | None, httpx.Client] = field(default_factory=dict)

    @property
    def accounts(self) -> Accounts:
        return Accounts(self.store, self.settings)

    def account(self, name: str, role: str, districts: list[int] | tuple[int, ...] = ()) -> str:
        """Create an account (as the host's shell would) and a personal token for it."""
        self.accounts.create(name, role, PASSWORD, actor="cli:root", districts_granted=districts)
        token, _ = Tokens(self.store, self.accounts).create(
            name, "tests", days=30, actor="cli:root"
        )
        return token

    def client(self, token: str | None) -> httpx.Client:
        if token not in self.clients:
            headers = {} if token is None else {"Authorization": f"Bearer {token}"}
            self.clients[token] = httpx.Client(
                base_url=self.url + "/api/v1", headers=headers, timeout=60
            )
        return self.clients[token]

    def wait_for_run(self, token: str, district: str | int, run_id: int) -> dict[str, Any]:
        """Poll the run until it is no longer pending or running."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            r = self.client(token).get(f"/districts/{district}/runs/{run_id}")
            assert r.status_code == 200, r.text
            run: dict[str, Any] = r.json()
            if run["status"] not in {"pending", "running"}:
                return run
            time.sleep(0.1)
        raise AssertionError(f"run {run_id} did not finish")
