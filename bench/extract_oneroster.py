"""Benchmark: the OneRoster REST source reading our own provider, vs a sequential client.

Generates a district (``bench/oneroster_api.py``'s generator), publishes it into a SQLite store,
issues an API client and serves it with ``rostersync serve`` in a second process. Every request
gets ``--latency-ms`` of added network latency on the client side (the same for both clients),
as between a hub and a provider on another network. Two runs over the same pages:

- ``connector``: ``OneRosterRestConnector.extract`` (7 collections, pages of ``--page-size``,
  ``--concurrency`` requests in flight, JSON mapped to canonical tables);
- ``sequential``: the same page requests one after another, JSON decoded, no mapping (a naive
  client), timed on every k-th request (``--sequential-sample``) and scaled up.

Prints one JSON object with both times and the speedup (target ≥ 8×). Example::

    .venv/bin/python bench/extract_oneroster.py --students 1000000 --latency-ms 20
    .venv/bin/python bench/extract_oneroster.py --students 20000       # quick
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

from _common import Phases, emit, load_average, machine, peak_rss_mb
from oneroster_api import free_port, generate
from rostersync.connectors.oneroster_rest import OneRosterRestConnector, RestOptions
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.settings import load_settings
from rostersync.store import open_store

SCOPES = ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly")


class Latency(httpx.AsyncBaseTransport):
    """The network transport with a fixed delay before every request; records what was sent."""

    def __init__(self, seconds: float) -> None:
        self.inner = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=64))
        self.seconds = seconds
        self.sent: list[tuple[str, dict[str, str]]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.sent.append((str(request.url), dict(request.headers)))
        await asyncio.sleep(self.seconds)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _connector(base: str, client_id: str, secret: str, args: Any) -> tuple[float, Any, Any]:
    transport = Latency(args.latency_ms / 1000)
    options = RestOptions(page_size=args.page_size, concurrency=args.concurrency)
    async with httpx.AsyncClient(transport=transport, timeout=120) as client:
        conn = OneRosterRestConnector.create(client, base, client_id, secret, options=options)
        start = time.perf_counter()
        result = await conn.extract()
        return time.perf_counter() - start, result, transport.sent


async def _sequential(sent: list[tuple[str, dict[str, str]]], args: Any) -> dict[str, Any]:
    step = max(1, len(sent) // args.sequential_sample) if args.sequential_sample else 1
    sample = sent[::step]
    transport = Latency(args.latency_ms / 1000)
    async with httpx.AsyncClient(transport=transport, timeout=120) as client:
        start = time.perf_counter()
        for url, headers in sample:
            resp = await client.get(url, headers={"Authorization": headers["authorization"]})
            orjson.loads(resp.content)
        took = time.perf_counter() - start
    return {
        "requests_timed": len(sample),
        "requests_total": len(sent),
        "seconds": round(took * len(sent) / len(sample), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="Server worker processes.")
    parser.add_argument(
        "--sequential-sample", type=int, default=200, help="Sequential requests timed (0 = all)."
    )
    args = parser.parse_args()
    phases = Phases()
    out: dict[str, Any] = {
        "benchmark": "extract_oneroster",
        "students": args.students,
        "latency_ms": args.latency_ms,
        "page_size": args.page_size,
        "concurrency": args.concurrency,
        "machine": machine(),
    }
    work = Path(tempfile.mkdtemp(prefix="or_extract_bench_"))
    settings = load_settings(data_dir=work / "var")
    with phases("generate"):
        roster = generate(args.students)
    out["rows"] = {k: v.height for k, v in roster.items() if v.height}
    store = open_store(settings, upgrade=True)
    district = store.create_district("Bench")
    with phases("publish"):
        store.publish(district.id, roster)
    issued = ApiClients(store.engine, settings.get_secret_key()).create(
        district.id, f"bench-{uuid.uuid4().hex[:8]}", SCOPES, SharingRules.everything()
    )
    store.dispose()
    del roster
    port = free_port()
    env = {
        **os.environ,
        "ROSTERSYNC_DATA_DIR": str(work / "var"),
        "ROSTERSYNC_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "rostersync", "serve", "--port", str(port)]
    command += ["--workers", str(args.workers), "--no-access-log"]
    server = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        client_id, secret = issued.client.client_id, issued.client_secret
        # A first pass warms the provider's caches; the second is measured.
        asyncio.run(_connector(base, client_id, secret, args))
        out["load_average_1m_before"] = load_average()
        seconds, result, sent = asyncio.run(_connector(base, client_id, secret, args))
        out["connector"] = {
            "seconds": round(seconds, 2),
            "requests": result.stats["requests"],
            "records": result.stats["entities"],
            "map_seconds": result.stats["map_seconds"],
        }
        seq = asyncio.run(_sequential(sent, args))
        out["sequential"] = seq
        out["speedup_vs_sequential"] = round(seq["seconds"] / seconds, 2)
        out["load_average_1m_after"] = load_average()
    finally:
        server.terminate()
        server.wait(timeout=30)
    out["peak_rss_mb"] = peak_rss_mb()
    out["phases"] = phases.seconds
    emit(out)


if __name__ == "__main__":
    main()
