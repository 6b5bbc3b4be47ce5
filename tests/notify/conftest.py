"""A real SMTP server on 127.0.0.1 for notification tests (the webhook receiver is shared)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from support.mail import Sink, SmtpServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    sink = Sink()
    with socket.socket() as s:  # the controller needs a concrete port to probe its server
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, sink)
    finally:
        controller.stop()
