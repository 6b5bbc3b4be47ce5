"""Benchmark: PowerSchool extraction against the simulator, vs sequential and bare fetches.

The simulator runs in a separate process (``rostersync simulate powerschool``) with added
latency per request, so this process's peak memory is the connector's alone. Three runs over the
same pages:

- ``connector``: our extraction (bounded concurrency, mapping to canonical tables), measured on
  its second run (the first warms the simulator's caches and records the requests);
- ``sequential``: the same requests one after another, JSON decoded, no mapping (a naive client);
- ``bare_concurrent``: the same requests with the same concurrency, JSON decoded, no mapping —
  what the network and server allow; the connector should come within 20 % of it.

Prints one JSON object. Example::

    .venv/bin/python bench/extract_powerschool.py --size medium --latency-ms 20
    .venv/bin/python bench/extract_powerschool.py --size large --latency-ms 0 --skip-baselines
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

import httpx

from rostersync.connectors.powerschool import ExtractPlan, PowerSchoolConnector, PowerSchoolOptions
from rostersync.simulators.powerschool import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

PLAN = ExtractPlan(
    sync_co_teachers=True,
    contact_module=False,
    custom_fields={"student": ("U_DEF_EXT_STUDENTS.school_email",)},
)


def start_simulator(size: str, latency_ms: int, port: int) -> tuple[subprocess.Popen[str], str]:
    cmd = [
        sys.executable,
        "-m",
        "rostersync",
        "simulate",
        "powerschool",
        "--size",
        size,
        "--port",
        str(port),
        "--latency-ms",
        str(latency_ms),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    url = next((w for w in line.split() if w.startswith("http://")), None)
    if url is None:
        proc.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/ws/v1/time", timeout=2).status_code < 500:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("simulator did not answer")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_connector(url: str, concurrency: int) -> tuple[dict[str, Any], list[httpx.Request]]:
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        if request.url.path.startswith("/ws/"):
            sent.append(request)

    options = PowerSchoolOptions(concurrency=concurrency)
    client = PowerSchoolConnector.http_client(options)
    client.event_hooks["request"] = [record]
    async with client:
        conn = PowerSchoolConnector.create(
            client, url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, plan=PLAN, options=options
        )
        t0 = time.perf_counter()
        result = await conn.extract()
        seconds = time.perf_counter() - t0
    records = sum(t.height for t in result.roster.values())
    return {
        "seconds": round(seconds, 3),
        "requests": result.stats["requests"],
        "retries": result.stats["retries"],
        "records": records,
        "records_per_s": round(records / seconds),
        "requests_per_s": round(result.stats["requests"] / seconds, 1),
        "extract_seconds": result.stats["extract_seconds"],
        "map_seconds": result.stats["map_seconds"],
        "tables": {k: v.height for k, v in result.roster.items()},
    }, sent


async def replay(url: str, requests: list[httpx.Request], concurrency: int) -> dict[str, Any]:
    """The same requests, JSON decoded and counted, nothing else."""
    options = PowerSchoolOptions(concurrency=concurrency)
    async with PowerSchoolConnector.http_client(options) as client:
        token_resp = await client.post(
            url + "/oauth/access_token",
            auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            data={"grant_type": "client_credentials"},
        )
        headers = {
            "Authorization": f"Bearer {token_resp.json()['access_token']}",
            "Accept": "application/json",
        }
        sem = asyncio.Semaphore(concurrency)
        items = 0

        async def one(req: httpx.Request) -> None:
            nonlocal items
            async with sem:
                resp = await client.request(
                    req.method, str(req.url), headers=headers, content=req.content
                )
                body = resp.json()
                items += (
                    sum(
                        len(v) if isinstance(v, list) else 1
                        for outer in body.values()
                        if isinstance(outer, dict)
                        for k, v in outer.items()
                        if not k.startswith("@")
                    )
                    if isinstance(body, dict)
                    else 0
                )

        t0 = time.perf_counter()
        if concurrency == 1:
            for req in requests:
                await one(req)
        else:
            await asyncio.gather(*(one(r) for r in requests))
        seconds = time.perf_counter() - t0
    return {
        "seconds": round(seconds, 3),
        "requests": len(requests),
        "requests_per_s": round(len(requests) / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument(
        "--sequential-sample",
        type=int,
        default=0,
        help="Time the sequential baseline on every k-th request only and scale up (0 = all).",
    )
    args = parser.parse_args()

    proc, url = start_simulator(args.size, args.latency_ms, args.port)
    try:
        rss_before = peak_rss_mb()
        # The first run also warms the simulator's cached views, which every later run (and
        # the replays) enjoys; the measured connector run is the second.
        first, sent = asyncio.run(run_connector(url, args.concurrency))
        ours = first
        if not args.skip_baselines:
            bare = asyncio.run(replay(url, sent, args.concurrency))
            ours, _ = asyncio.run(run_connector(url, args.concurrency))
        out: dict[str, Any] = {
            "connector_first_run_seconds": first["seconds"],
            "size": args.size,
            "latency_ms": args.latency_ms,
            "concurrency": args.concurrency,
            "connector": ours,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "rss_before_extract_mb": round(rss_before, 1),
            "pid": os.getpid(),
        }
        if not args.skip_baselines:
            step = max(1, len(sent) // args.sequential_sample) if args.sequential_sample else 1
            seq = asyncio.run(replay(url, sent[::step], 1))
            if step > 1:  # scale the sample's time up to every request
                seq["sampled_requests"] = seq["requests"]
                seq["seconds"] = round(seq["seconds"] * len(sent) / seq["requests"], 3)
                seq["requests"] = len(sent)
            for run in (bare, seq):
                run["records_per_s"] = round(ours["records"] / run["seconds"])
            out["bare_concurrent"] = bare
            out["sequential"] = seq
            out["speedup_vs_sequential"] = round(seq["seconds"] / ours["seconds"], 2)
            out["connector_vs_bare_concurrent"] = round(ours["seconds"] / bare["seconds"], 3)
        print(json.dumps(out, indent=2))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
