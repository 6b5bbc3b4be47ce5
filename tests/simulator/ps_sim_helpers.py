"""Helpers of the simulator tests: a token for a running simulator, an authenticated client."""

from __future__ import annotations

import httpx

from rostersync.simulators.powerschool import RunningSimulator


def fetch_token(
    url: str, client_id: str = "rostersync-demo", secret: str = "rostersync-demo-secret"
) -> str:
    response = httpx.post(
        f"{url}/oauth/access_token",
        auth=(client_id, secret),
        data={"grant_type": "client_credentials"},
        headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


class Api:
    """A started simulator plus an authenticated client (for tests that need their own config)."""

    def __init__(self, running: RunningSimulator) -> None:
        self.server = running
        self.token = fetch_token(
            running.url, running.config.client_id, running.config.client_secret
        )
        self.client = httpx.Client(
            base_url=running.url,
            headers={"Accept": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        self.get = self.client.get
        self.post = self.client.post
        self.request = self.client.request
