"""`rostersync serve` runs the app in its own process: token and a OneRoster page over a socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
from or_sample_roster import small_roster

from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.settings import load_settings
from rostersync.store import open_store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_command_serves_oneroster() -> None:
    settings = load_settings()
    store = open_store(settings, upgrade=True)
    district = store.create_district("Springfield")
    store.publish(district.id, small_roster())
    issued = ApiClients(store.engine, settings.get_secret_key()).create(
        district.id, "app", ["roster-core.readonly"], SharingRules.everything()
    )
    store.dispose()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rostersync", "serve", "--port", str(port)],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        token = httpx.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(issued.client.client_id, issued.client_secret),
        ).json()["access_token"]
        resp = httpx.get(
            f"{base}/ims/oneroster/rostering/v1p2/schools",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert resp.status_code == 200
        assert {o["sourcedId"] for o in resp.json()["orgs"]} == {"org-s1", "org-s2"}
    finally:
        proc.terminate()
        proc.wait(30)
        if proc.stderr:
            proc.stderr.close()
