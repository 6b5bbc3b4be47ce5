"""Notification email over SMTP: host, port, STARTTLS and credentials from the settings."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from rostersync.errors import ConfigurationError
from rostersync.notify.events import Event
from rostersync.settings import Settings


def build_message(settings: Settings, to: list[str], event: Event) -> EmailMessage:
    """The plain-text message of an event."""
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = ", ".join(to)
    msg["Subject"] = event.subject
    msg.set_content(event.text())
    return msg


def send_email(
    settings: Settings,
    to: list[str],
    event: Event,
    *,
    timeout: float = 30.0,
    tls_context: ssl.SSLContext | None = None,
) -> None:
    """Send the event to ``to``; raises ``ConfigurationError`` without an SMTP host and
    ``OSError``/``smtplib.SMTPException`` when the server cannot take it."""
    if not settings.smtp_host:
        raise ConfigurationError(
            "Notification email needs an SMTP server",
            setting="ROSTERSYNC_SMTP_HOST",
            hint="set ROSTERSYNC_SMTP_HOST (and _PORT, _USERNAME, _PASSWORD) or remove the emails",
        )
    msg = build_message(settings, to, event)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
        smtp.ehlo()
        if settings.smtp_starttls:
            smtp.starttls(context=tls_context or ssl.create_default_context())
            smtp.ehlo()
        if settings.smtp_username and settings.smtp_password is not None:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(msg)
