"""The notifier: sends an event to every email and webhook that wants it, logs each delivery.

A notification problem never fails a run: each attempt is recorded in the delivery log (and the
log file) and the run goes on. Secrets are resolved when sending and never logged.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from pydantic import ValidationError

from rostersync.config import NotificationsConfig, pydantic_problems
from rostersync.errors import ConfigurationError, ConfigValidationError
from rostersync.logs import get_logger
from rostersync.notify.email import send_email
from rostersync.notify.events import Event
from rostersync.notify.log import Delivery, DeliveryLog
from rostersync.notify.webhook import deliver_webhook, redact_target
from rostersync.settings import Settings

log = get_logger("notify")


class _RedactURLs(logging.Filter):
    """Hides webhook URL paths and queries in the HTTP client's own log lines (``httpx`` logs
    every request URL at INFO), since many webhook URLs carry a token."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            hidden = message
            for secret in sorted(self.secrets, key=len, reverse=True):  # longest first
                hidden = hidden.replace(secret, "/…")
            if hidden != message:
                record.msg, record.args = hidden, ()
        return True


_redact = _RedactURLs()
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).addFilter(_redact)


def _hide(url: str) -> None:
    parsed = httpx.URL(url)
    tail = parsed.raw_path.decode("ascii", "replace")
    if tail not in ("", "/"):
        _redact.secrets.add(tail)


class Notifier:
    """Delivers events under one district's ``notifications`` configuration."""

    def __init__(
        self,
        settings: Settings,
        config: NotificationsConfig,
        *,
        district_id: int | None = None,
        record: Callable[[Delivery], None] | None = None,
        store_lookup: Callable[[str], str | None] | None = None,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.config = config
        self.district_id = district_id
        self._record = record
        self._store_lookup = store_lookup
        self._client = client
        self._sleep = sleep
        self.deliveries: list[Delivery] = []
        for hook in config.all_webhooks():
            _hide(hook.url)

    def _keep(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        log.info(
            "notification",
            notification_event=delivery.event,
            channel=delivery.channel,
            target=delivery.target,
            attempt=delivery.attempt,
            outcome=delivery.status,
            error=delivery.error,
        )
        if self._record is not None:
            try:
                self._record(delivery)
            except Exception as exc:  # the log must not break the run either
                log.warning("delivery log write failed", error=str(exc).splitlines()[0])

    def _secret(self, ref: str | None, path: str) -> str | None:
        if ref is None:
            return None
        from rostersync.config import resolve_secret  # the config package resolves references

        return resolve_secret(
            ref, self.settings, path=path, store_lookup=self._store_lookup
        ).get_secret_value()

    def notify(self, event: Event) -> list[Delivery]:
        """Send ``event`` everywhere it is wanted; returns this event's deliveries."""
        start = len(self.deliveries)
        if self.config.emails and self.config.wants(event.kind):
            self._email(event)
        hooks = self.config.all_webhooks()
        if hooks:
            client = self._client or httpx.Client()
            try:
                for i, hook in enumerate(hooks):
                    if event.kind not in hook.events:
                        continue
                    try:
                        secret = self._secret(hook.secret, f"notifications.webhooks[{i}].secret")
                    except ConfigurationError as exc:
                        target = redact_target(hook.url)
                        self._keep(self._failed(event, "webhook", target, str(exc)))
                        continue
                    for d in deliver_webhook(
                        client,
                        hook.url,
                        event,
                        secret=secret,
                        max_attempts=hook.max_attempts,
                        backoff_seconds=hook.backoff_seconds,
                        max_backoff_seconds=hook.max_backoff_seconds,
                        timeout_seconds=hook.timeout_seconds,
                        sleep=self._sleep,
                        district_id=self.district_id,
                    ):
                        self._keep(d)
            finally:
                if self._client is None:
                    client.close()
        return self.deliveries[start:]

    def _email(self, event: Event) -> None:
        target = ", ".join(self.config.emails)
        try:
            send_email(self.settings, self.config.emails, event)
        except (ConfigurationError, OSError, smtplib.SMTPException) as exc:
            self._keep(self._failed(event, "email", target, str(exc).splitlines()[0]))
            return
        self._keep(
            Delivery(
                event.kind,
                "email",
                target,
                1,
                "delivered",
                run_id=event.run_id,
                district_id=self.district_id,
            )
        )

    def _failed(self, event: Event, channel: str, target: str, error: str) -> Delivery:
        return Delivery(
            event.kind,
            channel,  # type: ignore[arg-type]
            target,
            1,
            "failed",
            error=error,
            run_id=event.run_id,
            district_id=self.district_id,
        )


def build_notifier(
    settings: Settings,
    notifications: NotificationsConfig | Mapping[str, Any] | None,
    *,
    district_id: int | None = None,
    delivery_log: DeliveryLog | None = None,
    store_lookup: Callable[[str], str | None] | None = None,
) -> Notifier:
    """The one way to build a district's notifier.

    ``notifications`` is the configuration's section, typed or as stored in a configuration
    version (validated here; a broken section raises :class:`ConfigValidationError` with the
    paths of its problems). With ``delivery_log`` every delivery is written to that log.
    """
    if isinstance(notifications, NotificationsConfig):
        config = notifications
    else:
        try:
            config = NotificationsConfig.model_validate(dict(notifications or {}))
        except ValidationError as exc:
            raise ConfigValidationError(
                "the district's configuration", pydantic_problems(exc, "notifications")
            ) from None
    record = delivery_log.record if delivery_log is not None else None
    return Notifier(
        settings, config, district_id=district_id, record=record, store_lookup=store_lookup
    )
