"""`rostersync notifications show|test` over the same service as the API: a test message
reaches a real SMTP server; missing SMTP settings and missing recipients are clear errors."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from mg_helpers import config_body

from rostersync.simulators.powerschool import RunningSimulator
from rostersync.store import Store
from support.cli import run_main
from support.mail import Sink, SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    sink = Sink()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, sink)
    finally:
        controller.stop()


def test_show_and_send_a_test_message(
    store: Store,
    store_url: str,
    sim: RunningSimulator,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", store_url)
    d = store.create_district("Notified")
    body = config_body(sim.url, monkeypatch, "Notified")
    body["notifications"] = {"emails": ["ops@notified.example"]}
    store.save_config_version(d.id, body, created_by="test")

    code, out, err = run_main(["notifications", "show", "-d", d.slug], capsys)
    assert code == 0, err
    assert json.loads(out)["emails"] == ["ops@notified.example"]

    # No SMTP server configured: the delivery fails, named, and the command says so.
    code, out, err = run_main(["notifications", "test", "-d", d.slug], capsys)
    assert code == 1
    assert "ROSTERSYNC_SMTP_HOST" in out
    assert smtp.sink.messages == []

    monkeypatch.setenv("ROSTERSYNC_SMTP_HOST", smtp.host)
    monkeypatch.setenv("ROSTERSYNC_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("ROSTERSYNC_SMTP_STARTTLS", "false")
    code, out, err = run_main(["notifications", "test", "-d", d.slug], capsys)
    assert code == 0, (out, err)
    assert "delivered" in out
    (envelope,) = smtp.sink.messages
    assert envelope.rcpt_tos == ["ops@notified.example"]
    assert b"test notification" in envelope.content
    actions = [e.action for e in store.list_audit(d.id)]
    assert actions.count("notifications.test") == 2


def test_a_district_without_recipients_is_a_clear_error(
    store: Store,
    store_url: str,
    sim: RunningSimulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", store_url)
    d = store.create_district("Silent")
    store.save_config_version(d.id, config_body(sim.url, monkeypatch, "Silent"), created_by="t")
    code, _, err = run_main(["notifications", "test", "-d", d.slug], capsys)
    assert code != 0
    assert "no notification recipients" in err
    assert "Traceback" not in err
    code, _, err = run_main(["notifications", "test", "-d", "nowhere"], capsys)
    assert code != 0
    assert "nowhere" in err
