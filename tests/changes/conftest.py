"""A real store for the change-flow tests: SQLite always, PostgreSQL when
ROSTERSYNC_TEST_POSTGRES_URL is set (each test in its own throwaway schema)."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from rostersync.store import Store, make_engine

PG_URL = os.environ.get("ROSTERSYNC_TEST_POSTGRES_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not PG_URL, reason="needs ROSTERSYNC_TEST_POSTGRES_URL"),
        ],
    ),
]


def pg_schema_url(schema: str) -> str:
    """The test PostgreSQL URL with ``schema`` first on the search path."""
    assert PG_URL
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """A database URL for a fresh, empty store."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/chg.db"
        return
    schema = f"chg_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)  # type: ignore[arg-type]
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(make_engine(store_url))
    s.upgrade()
    try:
        yield s
    finally:
        s.dispose()


@dataclass
class Receiver:
    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    fail_first: int = 0
    fail_status: int = 503


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append((dict(self.headers.items()), body))
            status = state.fail_status if len(state.requests) <= state.fail_first else 204
            self.send_response(status)
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
