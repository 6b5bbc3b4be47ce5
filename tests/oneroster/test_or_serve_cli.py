"""`rostersync serve` runs the app in its own process: token and a OneRoster page over a socket."""

from __future__ import annotations

import httpx
from or_sample_roster import small_roster

from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.settings import load_settings
from rostersync.store import open_store
from support.servers import free_port, start_serve, wait_serving


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
    proc = start_serve(port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_serving(proc, port)
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
