"""Webhooks: the event as a JSON body, signed with HMAC-SHA256, retried with backoff.

Headers: ``X-Rostersync-Event`` (published, held, failed), ``X-Rostersync-Delivery`` (an ID that
stays the same across retries, so receivers can drop duplicates), ``X-Rostersync-Timestamp`` and
``X-Rostersync-Signature: sha256=<hex>``, the HMAC of ``"<timestamp>.<body>"`` with the webhook's
secret (the timestamp is signed so a captured request cannot be replayed later as new).
Connection errors, timeouts, 429 and 5xx are retried, waiting ``backoff * 2**n`` (capped); other
4xx are final — the receiver said no.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable

import httpx

from rostersync.notify.events import Event
from rostersync.notify.log import Delivery

SIGNATURE_HEADER = "X-Rostersync-Signature"
TIMESTAMP_HEADER = "X-Rostersync-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value of a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Check a received signature (constant-time), as a receiver does."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def redact_target(url: str) -> str:
    """A webhook URL as logged and stored: scheme and host only. Many webhook URLs carry a
    token in their path or query (chat and automation services), so the rest is never shown."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    rest = "/…" if parsed.raw_path not in (b"", b"/") else "/"
    return f"{parsed.scheme}://{parsed.host}{port}{rest}"


def _retriable(status: int) -> bool:
    return status == 429 or status >= 500


def deliver_webhook(
    client: httpx.Client,
    url: str,
    event: Event,
    *,
    secret: str | None,
    max_attempts: int = 5,
    backoff_seconds: float = 1.0,
    max_backoff_seconds: float = 60.0,
    timeout_seconds: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    district_id: int | None = None,
) -> list[Delivery]:
    """POST ``event`` to ``url`` until it is accepted (2xx) or the attempts run out.

    Returns one :class:`Delivery` per attempt; never raises for delivery problems.
    """
    body = event.body()
    delivery_id = uuid.uuid4().hex
    out: list[Delivery] = []
    for attempt in range(1, max_attempts + 1):
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "rostersync-webhook",
            "X-Rostersync-Event": event.kind,
            "X-Rostersync-Delivery": delivery_id,
            TIMESTAMP_HEADER: timestamp,
        }
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
        status: int | None = None
        error: str | None = None
        try:
            response = client.post(url, content=body, headers=headers, timeout=timeout_seconds)
            status = response.status_code
            if 200 <= status < 300:
                out.append(_delivery(event, url, attempt, "delivered", status, None, district_id))
                return out
            error = f"HTTP {status}"
            final = not _retriable(status)
        except httpx.HTTPError as exc:
            # the exception text may quote the URL (and its token): name the failure only
            error = type(exc).__name__
            final = False
        last = final or attempt == max_attempts
        out.append(
            _delivery(
                event, url, attempt, "failed" if last else "retrying", status, error, district_id
            )
        )
        if last:
            return out
        sleep(min(backoff_seconds * 2 ** (attempt - 1), max_backoff_seconds))
    return out


def _delivery(
    event: Event,
    url: str,
    attempt: int,
    status: str,
    http_status: int | None,
    error: str | None,
    district_id: int | None,
) -> Delivery:
    return Delivery(
        event=event.kind,
        channel="webhook",
        target=redact_target(url),
        attempt=attempt,
        status=status,  # type: ignore[arg-type]
        http_status=http_status,
        error=error,
        run_id=event.run_id,
        district_id=district_id,
    )
