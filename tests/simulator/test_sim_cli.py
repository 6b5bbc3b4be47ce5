"""The `generate district` and `simulate powerschool` commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from rostersync.simulators.powerschool import load_district


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rostersync", *args], capture_output=True, text=True, timeout=120
    )


def test_generate_district_writes_a_loadable_district(tmp_path: Path) -> None:
    out = tmp_path / "d"
    result = _cli(
        "generate", "district", "--size", "tiny", "--seed", "3", "--day", "1", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "students" in result.stdout
    refused = _cli("generate", "district", "--size", "gigantic", "--out", str(out))
    assert refused.returncode == 2
    assert "unknown district size 'gigantic'" in refused.stderr
    assert "Traceback" not in refused.stderr
    district = load_district(out)
    assert (district.seed, district.day) == (3, 1)


def test_simulate_prints_its_url_and_serves() -> None:
    command = [
        sys.executable,
        "-m",
        "rostersync",
        "simulate",
        "powerschool",
        "--port",
        "0",
        "--client-id",
        "cid",
        "--client-secret",
        "sec",
    ]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("PowerSchool simulator serving ")
            assert "(client_id=cid)" in line
            url = line.split(" on ", 1)[1].split(" ", 1)[0]
            status = 0
            for _ in range(400):
                try:
                    status = httpx.post(
                        f"{url}/oauth/access_token",
                        auth=("cid", "sec"),
                        data={"grant_type": "client_credentials"},
                    ).status_code
                    break
                except httpx.ConnectError:
                    time.sleep(0.05)
            assert status == 200
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=20)


def test_simulate_with_a_broken_plugin_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "p.zip").write_bytes(b"junk")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rostersync",
            "simulate",
            "powerschool",
            "--port",
            "0",
            "--plugin",
            str(tmp_path / "p.zip"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "not a zip" in proc.stderr
    assert "Traceback" not in proc.stderr
