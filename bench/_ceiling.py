"""The serving ceiling of this machine: a bare ASGI app answering with real pages from memory.

What can the machine serve at all with the provider's server set-up? This module runs the same
server as ``rostersync serve`` (uvicorn with httptools wrapped in the same request-head limits,
the same number of worker processes, each on a ``SO_REUSEPORT`` socket of its own, the same
garbage-collector tuning), but the app behind it does no work: it looks the request's target
up in a dict of pages the provider really served (body and ``X-Total-Count``/``Link`` headers,
captured by the benchmark) and sends those bytes. Driven by the same load generator over the
same connections, its requests/s is the ceiling the provider's figures are divided by.

    python bench/_ceiling.py --port 8123 --workers 2 --pages pages.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import sys
from pathlib import Path
from typing import Any

Pages = dict[str, tuple[bytes, list[tuple[bytes, bytes]]]]


def load_pages(path: Path) -> Pages:
    """``{target: (body, headers)}`` from the JSON the benchmark wrote (bodies as text)."""
    raw = json.loads(path.read_text())
    pages: Pages = {}
    for target, page in raw.items():
        body = page["body"].encode()
        headers = [(b"content-type", b"application/json")]
        headers += [(k.lower().encode(), v.encode()) for k, v in page["headers"].items()]
        headers.append((b"content-length", str(len(body)).encode()))
        pages[target] = (body, headers)
    return pages


def make_app(pages: Pages) -> Any:
    """The bare ASGI app: one dict lookup and two sends per request."""
    missing = (b'{"error":"no such page"}', [(b"content-type", b"application/json")])

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # lifespan: nothing to start or stop
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        target = scope["path"]
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        found = pages.get(target)
        body, headers = found if found is not None else missing
        await send(
            {"type": "http.response.start", "status": 200 if found else 404, "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})

    return app


def _worker(port: int, pages_file: str) -> None:
    import uvicorn

    from rostersync.cli.serve import DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_HEADER_BYTES
    from rostersync.web.app import tune_gc
    from rostersync.web.limits import limited_http
    from rostersync.web.workers import listening_socket

    app = make_app(load_pages(Path(pages_file)))
    tune_gc()
    options = {
        "log_level": "warning",
        "access_log": False,
        "http": limited_http(DEFAULT_MAX_HEADER_BYTES, DEFAULT_HEADER_TIMEOUT),
    }
    sock = listening_socket("127.0.0.1", port)
    uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pages", required=True)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(args.port, args.pages)) for _ in range(args.workers)
    ]
    for process in processes:
        process.start()

    def stop(signum: int, frame: object) -> None:
        for process in processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.join()
    sys.exit(0)


if __name__ == "__main__":
    main()
