"""Notifications against real servers: SMTP on loopback, a signed webhook with retries."""

from __future__ import annotations

import email
import json

import httpx
import pytest
from pydantic import ValidationError

from rostersync.notify import Event, NotificationsConfig, Notifier, send_email, sign, verify
from rostersync.settings import load_settings
from support.mail import SmtpServer
from support.webhooks import Receiver

HELD = Event(
    "held",
    "Springfield",
    run_id=7,
    reasons=["users: 30 deletes of 100 records (30.0%) exceeds the limit 10%"],
    counts={"entities": {"users": {"added": 0, "updated": 0, "deleted": 30}}},
)


def test_email_over_smtp(smtp_server: SmtpServer) -> None:
    settings = load_settings(
        smtp_host=smtp_server.host, smtp_port=smtp_server.port, smtp_starttls=False
    )
    send_email(settings, ["admin@example.org"], HELD)
    (envelope,) = smtp_server.sink.messages
    assert envelope.rcpt_tos == ["admin@example.org"]
    msg = email.message_from_bytes(envelope.content)
    assert msg["Subject"] == "[rostersync] Springfield: run 7 is held for approval"
    text = msg.get_payload()
    assert "users: 30 deletes of 100 records (30.0%) exceeds the limit 10%" in text
    assert "rostersync changes approve 7" in text
    assert "users: +0 ~0 -30" in text


def test_webhook_signed_and_retried_until_accepted(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.fail_first = 2
    monkeypatch.setenv("HOOK_SECRET", "s3cr3t-value")
    config = NotificationsConfig(
        webhooks=[{"url": receiver.url, "secret": "env:HOOK_SECRET", "backoff_seconds": 0.5}]
    )
    waits: list[float] = []
    notifier = Notifier(load_settings(), config, sleep=waits.append)
    deliveries = notifier.notify(HELD)
    assert [(d.attempt, d.status, d.http_status) for d in deliveries] == [
        (1, "retrying", 503),
        (2, "retrying", 503),
        (3, "delivered", 204),
    ]
    assert waits == [0.5, 1.0]  # exponential backoff
    assert len(receiver.requests) == 3
    headers, body = receiver.requests[-1]
    assert json.loads(body)["event"] == "held"
    assert json.loads(body)["reasons"] == HELD.reasons
    assert headers["X-Rostersync-Event"] == "held"
    ts = headers["X-Rostersync-Timestamp"]
    assert verify("s3cr3t-value", ts, body, headers["X-Rostersync-Signature"])
    assert not verify("other", ts, body, headers["X-Rostersync-Signature"])
    assert headers["X-Rostersync-Signature"] == sign("s3cr3t-value", ts, body)
    assert len({h["X-Rostersync-Delivery"] for h, _ in receiver.requests}) == 1


def test_webhook_gives_up_and_4xx_is_final(receiver: Receiver) -> None:
    receiver.fail_first = 10
    config = NotificationsConfig(webhooks=[{"url": receiver.url, "max_attempts": 3}])
    deliveries = Notifier(load_settings(), config, sleep=lambda _: None).notify(HELD)
    assert [d.status for d in deliveries] == ["retrying", "retrying", "failed"]
    receiver.requests.clear()
    receiver.fail_status = 400
    deliveries = Notifier(load_settings(), config, sleep=lambda _: None).notify(HELD)
    assert [(d.status, d.http_status) for d in deliveries] == [("failed", 400)]


def test_unreachable_targets_never_raise(smtp_server: SmtpServer) -> None:
    with httpx.Client() as c:
        port = smtp_server.port  # a port that speaks SMTP, not HTTP: the request fails
        config = NotificationsConfig(
            emails=["admin@example.org"],
            webhook_url=f"http://127.0.0.1:{port}/",
        )
        settings = load_settings()  # no SMTP host configured
        deliveries = Notifier(settings, config, client=c, sleep=lambda _: None).notify(HELD)
    assert deliveries[0].channel == "email"
    assert deliveries[0].status == "failed"
    assert "ROSTERSYNC_SMTP_HOST" in (deliveries[0].error or "")
    assert deliveries[-1].channel == "webhook"
    assert deliveries[-1].status == "failed"


def test_switches_choose_events_and_plain_secrets_are_refused(receiver: Receiver) -> None:
    config = NotificationsConfig(webhook_url=receiver.url, on_new_data=False)
    notifier = Notifier(load_settings(), config)
    assert notifier.notify(Event("published", "Springfield", version=3)) == []
    assert [d.status for d in notifier.notify(HELD)] == ["delivered"]
    with pytest.raises(ValidationError, match="secret reference"):
        NotificationsConfig(webhook_url=receiver.url, webhook_secret="hunter2")
    with pytest.raises(ValidationError, match="not an email address"):
        NotificationsConfig(emails=["nobody"])
