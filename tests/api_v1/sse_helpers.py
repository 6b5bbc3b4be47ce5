"""Reading a Server-Sent Events stream over HTTP, with the time each event arrived."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Received:
    event: str
    id: str | None
    data: Any
    #: time.time() when the event's last line was read
    arrived: float


def read_stream(
    client: httpx.Client, path: str, headers: dict[str, str] | None = None
) -> list[Received]:
    """Every event of the stream at ``path`` until the server ends it."""
    out: list[Received] = []
    with client.stream("GET", path, headers=headers, timeout=120) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if line.startswith(":"):
                continue  # a ping
            if line == "":
                if "data" in fields:
                    out.append(
                        Received(
                            fields.get("event", "message"),
                            fields.get("id"),
                            json.loads(fields["data"]),
                            time.time(),
                        )
                    )
                fields = {}
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
    return out
