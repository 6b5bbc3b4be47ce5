"""The OAuth 2 token endpoint backs off failed client authentications, per client and address,
without ever locking the real client out: another address is not slowed, the wait ends on its
own, and a success clears the count."""

from __future__ import annotations

import time

import httpx
from api_helpers import Api

from rostersync import manage


def _client(api: Api, address: str) -> httpx.Client:
    """An HTTP client whose requests come from ``address`` (a 127.0.0.0/8 loopback address)."""
    transport = httpx.HTTPTransport(local_address=address)
    client = httpx.Client(base_url=api.url, transport=transport, timeout=30)
    api.clients[f"raw-{address}"] = client
    return client


def _token(
    client: httpx.Client, client_id: str, secret: str, *, form: bool = False
) -> httpx.Response:
    data = {"grant_type": "client_credentials"}
    if form:
        return client.post(
            "/oauth/token", data=data | {"client_id": client_id, "client_secret": secret}
        )
    return client.post("/oauth/token", data=data, auth=(client_id, secret))


def test_failed_client_authentications_back_off_without_locking_the_client_out(api: Api) -> None:
    d = api.store.create_district("Tokens")
    issued = manage.create_api_client(
        api.store, "cli:root", api.settings.get_secret_key(), d.id, "App", ["roster-core.readonly"]
    )
    client_id, secret = issued.client.client_id, issued.client_secret
    guesser, owner = _client(api, "127.0.0.2"), _client(api, "127.0.0.3")

    statuses = [_token(guesser, client_id, f"guess-{i}").status_code for i in range(4)]
    assert statuses == [401, 401, 401, 401]  # three free failures, the fourth imposes a wait
    throttled = _token(guesser, client_id, secret)  # even the right secret waits its turn
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) >= 1
    body = throttled.json()
    assert body["error"] == "invalid_client"
    assert "try again in" in body["error_description"]
    # The same client id sent in the form body is the same count.
    assert _token(guesser, client_id, secret, form=True).status_code == 429

    # The real client, from its own address, is not slowed by the guesser.
    assert _token(owner, client_id, secret).status_code == 200

    # The wait ends on its own, and a success clears the guesser address's count.
    time.sleep(int(throttled.headers["retry-after"]) + 0.2)
    assert _token(guesser, client_id, secret).status_code == 200
    assert _token(guesser, client_id, "wrong").status_code == 401
    assert _token(guesser, client_id, secret).status_code == 200

    # Another client id from the guesser's address has a count of its own.
    assert _token(guesser, "no-such-client", "x").status_code == 401
    # OneRoster reads are not affected by the middleware.
    assert guesser.get("/ims/oneroster/rostering/v1p2/users").status_code == 401


def test_malformed_client_ids_are_answered_by_the_endpoint_and_not_counted(api: Api) -> None:
    hostile = _client(api, "127.0.0.4")
    for _ in range(6):
        nul = hostile.post(
            "/oauth/token",
            content=b"grant_type=client_credentials&client_id=%00&client_secret=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert nul.status_code in (400, 401), nul.text
        assert nul.json()["error"] in ("invalid_request", "invalid_client")
        long_id = _token(hostile, "c" * 5000, "x")
        assert long_id.status_code == 401
