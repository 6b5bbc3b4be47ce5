"""The request layer: retries with backoff, Retry-After, token renewal, throttle and error texts.

These use a fake transport at the HTTP edge only for answers the simulator cannot be asked for
on demand (a precise Retry-After, a token that is rejected twice); connection failures use a
refused port and an unresolvable host for real.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket

import httpx
import pytest

from rostersync.connectors.powerschool._auth import ClientCredentials
from rostersync.connectors.powerschool._http import ApiSession, RetryPolicy, Throttle
from rostersync.errors import SourceAuthError, SourceUnreachable

BASE = "http://ps.test"


def _token_ok(n: int = 1) -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": f"tok-{n}", "token_type": "Bearer", "expires_in": "2591874"}
    )


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def _session(
    handler: httpx.MockTransport | None, rec: Recorder, **kw: object
) -> tuple[ApiSession, httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=handler)
    auth = ClientCredentials(BASE, "id", "secret")
    session = ApiSession(
        client,
        auth,
        BASE,
        sleep=rec.sleep,
        rng=random.Random(1),
        **kw,  # type: ignore[arg-type]
    )
    return session, client


async def test_503_burst_is_retried_with_growing_backoff() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/access_token":
            return _token_ok()
        calls["n"] += 1
        if calls["n"] <= 3:
            return httpx.Response(503, text="busy")
        return httpx.Response(200, json={"ok": 1})

    rec = Recorder()
    session, client = _session(httpx.MockTransport(handler), rec)
    async with client:
        assert await session.get("/ws/v1/district") == {"ok": 1}
    assert session.stats.retries == 3
    assert len(rec.sleeps) == 3
    policy = RetryPolicy()
    for i, slept in enumerate(rec.sleeps):
        assert 0 <= slept <= policy.base_seconds * 2**i


async def test_retry_after_is_honoured() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/access_token":
            return _token_ok()
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(429, headers={"Retry-After": "7"}, text="slow down")
        return httpx.Response(200, json={})

    rec = Recorder()
    session, client = _session(httpx.MockTransport(handler), rec)
    async with client:
        await session.get("/ws/v1/district")
    assert rec.sleeps
    assert rec.sleeps[0] >= 7


async def test_powerschool_wait_text_counts_as_throttling() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/access_token":
            return _token_ok()
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(403, json={"message": "Too many requests, wait 2 seconds"})
        return httpx.Response(200, json={})

    rec = Recorder()
    session, client = _session(httpx.MockTransport(handler), rec)
    async with client:
        await session.get("/ws/v1/district")
    assert rec.sleeps[0] >= 2


async def test_gives_up_after_max_retries() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/access_token":
            return _token_ok()
        return httpx.Response(500, text="boom")

    rec = Recorder()
    session, client = _session(httpx.MockTransport(handler), rec, retry=RetryPolicy(max_retries=2))
    async with client:
        with pytest.raises(SourceUnreachable, match="HTTP 500 after 3 attempts"):
            await session.get("/ws/v1/district")


async def test_401_renews_the_token_once() -> None:
    issued = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/access_token":
            issued["n"] += 1
            return _token_ok(issued["n"])
        if request.headers["Authorization"] == "Bearer tok-1":
            return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return httpx.Response(200, json={"fine": True})

    rec = Recorder()
    session, client = _session(httpx.MockTransport(handler), rec)
    async with client:
        results = await asyncio.gather(*(session.get("/ws/v1/district") for _ in range(5)))
    assert all(r == {"fine": True} for r in results)
    assert issued["n"] == 2  # one renewal served every request that saw the stale token


async def test_second_401_after_renewal_is_an_auth_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/access_token":
            return _token_ok()
        return httpx.Response(401)

    rec = Recorder()
    session, client = _session(httpx.MockTransport(handler), rec)
    async with client:
        with pytest.raises(SourceAuthError, match="freshly issued token"):
            await session.get("/ws/v1/district")


async def test_bad_credentials_name_the_problem_and_hide_the_secret() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client"})

    rec = Recorder()
    session, client = _session(httpx.MockTransport(handler), rec)
    async with client:
        with pytest.raises(SourceAuthError, match="client ID or secret") as err:
            await session.get("/ws/v1/district")
    assert "secret" not in repr(session.auth).replace("client_secret", "")
    assert "invalid_client" in str(err.value)


async def test_denied_fields_are_listed() -> None:
    body = {
        "message": "Validation Failed",
        "errors": [{"resource": "u_def_ext_students", "field": "U_DEF_EXT_STUDENTS.school_email"}],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/access_token":
            return _token_ok()
        return httpx.Response(403, content=json.dumps(body).encode())

    rec = Recorder()
    session, client = _session(httpx.MockTransport(handler), rec)
    async with client:
        with pytest.raises(SourceAuthError, match=r"U_DEF_EXT_STUDENTS\.school_email"):
            await session.get("/ws/schema/table/u_def_ext_students")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_refused_connection_is_named() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    rec = Recorder()
    async with httpx.AsyncClient() as client:
        session = ApiSession(client, ClientCredentials(url, "id", "s"), url, sleep=rec.sleep)
        with pytest.raises(SourceUnreachable, match="refused"):
            await session.get("/ws/v1/metadata")
    assert len(rec.sleeps) == RetryPolicy().connect_retries


async def test_unresolvable_host_is_named() -> None:
    url = "http://no-such-host.invalid"
    rec = Recorder()
    async with httpx.AsyncClient() as client:
        session = ApiSession(client, ClientCredentials(url, "id", "s"), url, sleep=rec.sleep)
        with pytest.raises(SourceUnreachable, match="DNS"):
            await session.get("/ws/v1/metadata")


async def test_concurrency_is_bounded() -> None:
    in_flight = {"now": 0, "max": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/access_token":
            return _token_ok()
        in_flight["now"] += 1
        in_flight["max"] = max(in_flight["max"], in_flight["now"])
        await asyncio.sleep(0.01)
        in_flight["now"] -= 1
        return httpx.Response(200, json={})

    rec = Recorder()
    session, client = _session(httpx.MockTransport(handler), rec, concurrency=3)
    async with client:
        await asyncio.gather(*(session.get("/x") for _ in range(12)))
    assert in_flight["max"] == 3


async def test_throttle_spaces_request_starts() -> None:
    now = {"t": 100.0}
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    throttle = Throttle(0.25, clock=lambda: now["t"])
    for _ in range(4):
        await throttle.wait(fake_sleep)
    # Starts reserved at 100.0, 100.25, 100.5, 100.75 while the clock stood still.
    assert slept == [0.25, 0.5, 0.75]
    throttle.push_back(5)
    await throttle.wait(fake_sleep)
    assert slept[-1] == 5


async def test_disabled_plugin_is_named() -> None:
    # The simulator has no "disabled plugin" switch; the answer's wording is what we key on.
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, json={"error": "invalid_client", "error_description": "Plugin is disabled"}
        )

    rec = Recorder()
    session, client = _session(httpx.MockTransport(handler), rec)
    async with client:
        with pytest.raises(SourceAuthError, match="plugin is disabled") as err:
            await session.get("/ws/v1/district")
    assert err.value.hint is not None
    assert "enable the plugin" in err.value.hint


async def test_throttling_without_retry_after_outlasts_max_retries() -> None:
    # Ten refusals in a row, no Retry-After: a throttled source is slow, not broken, so the
    # refusals do not spend the error retries (6 by default).
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/access_token":
            return _token_ok()
        calls["n"] += 1
        if calls["n"] <= 10:
            return httpx.Response(429, text="slow down")
        return httpx.Response(200, json={"ok": 1})

    rec = Recorder()
    session, client = _session(httpx.MockTransport(handler), rec)
    async with client:
        assert await session.get("/ws/v1/district") == {"ok": 1}
    assert session.stats.throttled == 10
    assert session.stats.retries == 0
    assert session.stats.throttle_wait_seconds == pytest.approx(sum(rec.sleeps), rel=0.5)


async def test_a_503_with_retry_after_is_throttling_and_honoured() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/access_token":
            return _token_ok()
        calls["n"] += 1
        if calls["n"] <= 8:
            return httpx.Response(503, headers={"Retry-After": "3"}, text="busy")
        return httpx.Response(200, json={})

    rec = Recorder()
    session, client = _session(httpx.MockTransport(handler), rec, retry=RetryPolicy(max_retries=1))
    async with client:
        await session.get("/ws/v1/district")
    assert session.stats.throttled == 8
    assert session.stats.retries == 0  # max_retries=1 would not have lasted
    assert max(rec.sleeps) >= 3


async def test_throttle_waits_are_bounded_by_the_setting() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/access_token":
            return _token_ok()
        return httpx.Response(429, headers={"Retry-After": "40"})

    rec = Recorder()
    session, client = _session(httpx.MockTransport(handler), rec, max_throttle_wait=100.0)
    async with client:
        with pytest.raises(SourceUnreachable, match="max_throttle_wait_seconds") as err:
            await session.get("/ws/v1/district")
    assert "/ws/v1/district" in err.value.message
    assert session.stats.throttled == 3  # 40 + 40 waited; a third 40 would pass 100


async def test_the_throttle_learns_a_spacing_and_lets_it_decay() -> None:
    now = {"t": 0.0}
    throttle = Throttle(0.0, clock=lambda: now["t"])
    assert throttle.spacing == 0
    throttle.throttled(None)
    throttle.throttled(None)  # the same burst: one signal
    assert throttle.spacing == Throttle.FLOOR
    now["t"] += 1
    throttle.throttled(2.0)
    assert throttle.spacing == Throttle.RAISE * Throttle.FLOOR
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    await throttle.wait(fake_sleep)
    assert slept == [2.0]  # Retry-After honoured with no interval configured
    for _ in range(100):
        throttle.succeeded()
    # Not below the spacing the server refused last (with a margin) for a long while…
    assert throttle.spacing > Throttle.FLOOR / 2
    for _ in range(3000):
        throttle.succeeded()
    # …but that memory fades, and the pace is probed again.
    assert throttle.spacing == 0
