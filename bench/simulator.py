"""Benchmark of the PowerSchool simulator; prints one JSON object.

Measures, against a simulator running in its own process (one uvicorn worker):

- ``pages_per_second``: 100-student pages with every student expansion and extension, fetched
  over HTTP by an async client (``--concurrency`` connections) for ``--seconds``;
- ``startup_seconds``: from launching ``rostersync simulate powerschool --data DIR`` to the first
  page served (district loaded, views built);
- ``server_peak_rss_mb``: the simulator process's peak resident memory (VmHWM);
- ``generate_seconds`` / ``generate_peak_rss_mb``: building and writing the district, when the
  data directory does not exist yet (a child process, so its memory is measured alone).

Usage: ``.venv/bin/python bench/simulator.py --size medium [--data DIR] [--seconds 20]``
(``--size mega`` measures the mega district; generation then takes a few minutes).
``pages_per_second`` is wall-clock throughput and suffers when the machine is shared;
``server_cpu_ms_per_page`` is the simulator process's own CPU per page, and
``app_cpu_ms_per_page`` the ASGI app's alone (called in-process, no HTTP): both depend far less
on other load than wall-clock throughput does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

EXPANSIONS = (
    "demographics,addresses,alerts,phones,school_enrollment,ethnicity_race,contact,"
    "contact_info,initial_enrollment,schedule_setup,fees,lunch"
)
EXTENSIONS = "u_students_extension,studentcorefields"
CLI = [sys.executable, "-m", "rostersync"]


def _peak_rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", text)
    return round(int(match.group(1)) / 1024, 1) if match else -1.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def generate(size: str, seed: int, out: Path) -> dict[str, float]:
    """Generate and write the district in a child process; its time and peak memory."""
    started = time.perf_counter()
    proc = subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "%M",
            *CLI,
            "generate",
            "district",
            "--size",
            size,
            "--seed",
            str(seed),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    peak_kb = int(proc.stderr.strip().splitlines()[-1])
    return {
        "generate_seconds": round(time.perf_counter() - started, 2),
        "generate_peak_rss_mb": round(peak_kb / 1024, 1),
    }


async def _pages(
    url: str, token: str, schools: list[tuple[int, int]], seconds: float, concurrency: int
) -> tuple[int, int]:
    """Fetch student pages round-robin for `seconds`; (pages, students) fetched."""
    targets = [(sid, page) for sid, count in schools for page in range(1, count // 100 + 2)]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    done = students = 0
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=60
    ) as client:

        async def worker(offset: int) -> None:
            nonlocal done, students
            index = offset
            while time.perf_counter() < deadline:
                sid, page = targets[index % len(targets)]
                index += concurrency
                response = await client.get(
                    f"/ws/v1/school/{sid}/student",
                    params={
                        "expansions": EXPANSIONS,
                        "extensions": EXTENSIONS,
                        "pagesize": 100,
                        "page": page,
                    },
                )
                response.raise_for_status()
                body = response.json()["students"].get("student", [])
                done += 1
                students += len(body) if isinstance(body, list) else 1

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return done, students


def serve_and_measure(data: Path, seconds: float, concurrency: int) -> dict[str, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*CLI, "simulate", "powerschool", "--data", str(data), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        client_id = line.rsplit("client_id=", 1)[1].rstrip(")\n")
        token = ""
        while not token:
            try:
                token = httpx.post(
                    f"{url}/oauth/access_token",
                    auth=(client_id, "rostersync-demo-secret"),
                    data={"grant_type": "client_credentials"},
                ).json()["access_token"]
            except httpx.ConnectError:
                time.sleep(0.05)
        headers = {"Authorization": f"Bearer {token}"}
        schools_body = httpx.get(
            f"{url}/ws/v1/district/school", params={"pagesize": 100}, headers=headers, timeout=600
        ).json()["schools"]["school"]
        schools_body = schools_body if isinstance(schools_body, list) else [schools_body]
        first = schools_body[0]["id"]
        httpx.get(
            f"{url}/ws/v1/school/{first}/student",
            params={"expansions": EXPANSIONS, "pagesize": 100},
            headers=headers,
            timeout=600,
        ).raise_for_status()
        startup = time.perf_counter() - started
        schools = []
        for school in schools_body[:20]:
            count = httpx.get(
                f"{url}/ws/v1/school/{school['id']}/student/count", headers=headers, timeout=600
            ).json()["resource"]["count"]
            schools.append((school["id"], count))
        # Render every school's rows once (first page), then measure steady-state serving.
        for sid, _count in schools:
            httpx.get(
                f"{url}/ws/v1/school/{sid}/student",
                headers=headers,
                timeout=600,
                params={"expansions": EXPANSIONS, "extensions": EXTENSIONS, "pagesize": 100},
            ).raise_for_status()
        t0, cpu0 = time.perf_counter(), _cpu_seconds(proc.pid)
        pages, students = asyncio.run(_pages(url, token, schools, seconds, concurrency))
        elapsed = time.perf_counter() - t0
        cpu_per_page = (_cpu_seconds(proc.pid) - cpu0) / max(pages, 1)
        return {
            # Load-independent: the server's own CPU per page, and what one idle core allows.
            "server_cpu_ms_per_page": round(cpu_per_page * 1000, 3),
            "pages_per_second_per_server_core": round(1 / cpu_per_page, 1) if cpu_per_page else 0,
            "load_average_1m": os.getloadavg()[0],
            "startup_seconds": round(startup, 2),
            "pages": pages,
            "pages_per_second": round(pages / elapsed, 1),
            "students_per_second": round(students / elapsed, 1),
            "server_peak_rss_mb": _peak_rss_mb(proc.pid),
        }
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def app_only(data: Path, pages: int = 500) -> dict[str, float]:
    """CPU per page of the ASGI app alone (no HTTP server, no client): the simulator's own cost."""
    from rostersync.simulators.powerschool import create_simulator_app, load_district
    from rostersync.simulators.powerschool.app import _Token

    app = create_simulator_app(load_district(data))
    sim = app.state.simulator
    sim.tokens["bench"] = _Token("bench", time.time() + 3600)
    query = f"expansions={EXPANSIONS}&extensions={EXTENSIONS}&pagesize=100"

    async def call(path: str, qs: str) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": qs.encode(),
            "root_path": "",
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "headers": [(b"authorization", b"Bearer bench"), (b"host", b"sim")],
        }

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            return None

        await app(scope, receive, send)

    async def run() -> float:
        for school in range(1, 6):
            await call(f"/ws/v1/school/{school}/student", query)
        started = time.process_time()
        for i in range(pages):
            await call(f"/ws/v1/school/{1 + i % 5}/student", f"{query}&page={1 + i % 3}")
        return (time.process_time() - started) / pages

    per_page = asyncio.run(run())
    return {
        "app_cpu_ms_per_page": round(per_page * 1000, 3),
        "app_pages_per_second_per_core": round(1 / per_page, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=None, help="district dir (made if absent)")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    data = args.data or Path("bench/out") / f"district-{args.size}-{args.seed}"
    result: dict[str, object] = {
        "benchmark": "simulator",
        "size": args.size,
        "seed": args.seed,
        "concurrency": args.concurrency,
        "cpus": os.cpu_count(),
    }
    if not (data / "manifest.json").exists():
        result.update(generate(args.size, args.seed, data))
    manifest = json.loads((data / "manifest.json").read_text())
    result["students"] = manifest["counts"]["students"]
    result.update(serve_and_measure(data, args.seconds, args.concurrency))
    result.update(app_only(data))
    result["target_pages_per_second"] = 500
    print(json.dumps(result))


if __name__ == "__main__":
    main()
