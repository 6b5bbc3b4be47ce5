"""Backoff on the OAuth 2 token endpoint: failed client authentications slow down guessing.

Failures (401 answers of ``POST /oauth/token``) are counted per client id and per address by
the login backoff (:class:`rostersync.admin.ratelimit.LoginBackoff`), shared with the admin
sign-in: a few are free, then each one doubles the wait of that address, up to a cap. The wait
ends on its own and a success clears it, so nobody hammering a client id from elsewhere can
lock the real client out: only their own address waits. A waiting address gets ``429`` with
``Retry-After`` in the OAuth 2 error shape.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from rostersync.admin.errors import LoginThrottled
from rostersync.admin.ratelimit import LoginBackoff

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
#: Token requests are a few hundred bytes; a larger body is read by the endpoint alone.
MAX_READ = 64 * 1024
#: Longer client ids are no client's (ours are short); they are not counted.
MAX_CLIENT_ID = 200


def _printable(text: str) -> bool:
    return text.isascii() and text.isprintable()


def _basic_client_id(headers: dict[bytes, bytes]) -> str | None:
    scheme, _, value = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, _ = decoded.partition(":")
    return user if sep else None


def _form_client_id(body: bytes) -> str | None:
    try:
        found = parse_qs(body.decode("ascii"), max_num_fields=20).get("client_id")
    except (UnicodeDecodeError, ValueError):
        return None
    return found[0] if found else None


class TokenBackoff:
    """ASGI middleware counting the token endpoint's failed client authentications."""

    def __init__(self, app: Any, engine: Engine, path: str = "/oauth/token") -> None:
        self.app = app
        self.backoff = LoginBackoff(engine)
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        body, receive = await _buffer(receive)
        client_id = _basic_client_id(headers)
        if client_id is None and body is not None:
            client_id = _form_client_id(body)
        if not client_id or len(client_id) > MAX_CLIENT_ID or not _printable(client_id):
            # No client's secret can be guessed without a client id the endpoint would look
            # up (it refuses anything else without reading the store): nothing to count.
            await self.app(scope, receive, send)
            return
        account = f"oauth-client:{client_id}"
        address = scope["client"][0] if scope.get("client") else "unknown"
        try:
            await run_in_threadpool(self.backoff.check, account, address)
        except LoginThrottled as exc:
            await _throttled(send, exc)
            return

        async def watch(message: MutableMapping[str, Any]) -> None:
            # Counted before the answer leaves: a client's next attempt sees this one.
            if message["type"] == "http.response.start":
                if message["status"] == 401:
                    await run_in_threadpool(self.backoff.failed, account, address)
                elif message["status"] == 200:
                    await run_in_threadpool(self.backoff.succeeded, account, address)
            await send(message)

        await self.app(scope, receive, watch)


async def _buffer(receive: Receive) -> tuple[bytes | None, Receive]:
    """Read the body (up to :data:`MAX_READ`) and a ``receive`` that replays it."""
    messages: list[MutableMapping[str, Any]] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if size > MAX_READ or not message.get("more_body", False):
            break
    complete = size <= MAX_READ and messages[-1]["type"] == "http.request"
    body = b"".join(m.get("body", b"") for m in messages) if complete else None

    async def replay() -> MutableMapping[str, Any]:
        return messages.pop(0) if messages else await receive()

    return body, replay


async def _throttled(send: Send, exc: LoginThrottled) -> None:
    payload = json.dumps(
        {
            "error": "invalid_client",
            "error_description": f"{exc.message} ({exc.hint})",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"retry-after", str(exc.retry_after).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
