"""What the notification tests' SMTP server (an aiosmtpd controller) records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Sink:
    """An aiosmtpd handler that keeps every message's envelope."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@dataclass
class SmtpServer:
    host: str
    port: int
    sink: Sink
