"""The ``notifications`` section of a district configuration: who hears about which runs.

Compatible with the simple shape (``emails``, ``on_new_data``, ``on_held``, ``on_failure``,
``webhook_url`` + ``webhook_secret``) and with a list of ``webhooks``, each with its own events,
signing secret and retry policy. Secrets are references (``env:NAME``, ``file:PATH``,
``store:NAME``), never plain text.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

EventKind = Literal["published", "held", "failed"]
EVENT_KINDS: tuple[EventKind, ...] = ("published", "held", "failed")
_SECRET_SCHEMES = ("env:", "file:", "store:")


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    return value


def _secret_ref(value: str | None) -> str | None:
    if value is not None and not value.startswith(_SECRET_SCHEMES):
        raise ValueError("must be a secret reference: env:NAME, file:PATH or store:NAME")
    return value


class WebhookConfig(BaseModel):
    """One webhook: where events are POSTed, signed with HMAC-SHA256, retried with backoff."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="http(s) URL that receives events.")
    secret: str | None = Field(
        default=None, description="Signing secret reference: env:NAME, file:PATH or store:NAME."
    )
    events: list[EventKind] = Field(
        default_factory=lambda: list(EVENT_KINDS), description="Which events to send."
    )
    max_attempts: int = Field(default=5, ge=1, le=20, description="Tries before giving up.")
    backoff_seconds: float = Field(
        default=1.0, ge=0, le=600, description="Wait before the 2nd try; doubles each try."
    )
    max_backoff_seconds: float = Field(default=60.0, ge=0, description="Longest wait.")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="Per request.")

    _check_secret = field_validator("secret")(classmethod(lambda cls, v: _secret_ref(v)))
    _check_url = field_validator("url")(classmethod(lambda cls, v: _http_url(v)))


class NotificationsConfig(BaseModel):
    """Who is told about runs, and how."""

    model_config = ConfigDict(extra="forbid")

    emails: list[str] = Field(default_factory=list, description="Admins to email.")
    on_new_data: bool = Field(default=True, description="Tell when new data is published.")
    on_held: bool = Field(default=True, description="Tell when a sync is held for approval.")
    on_failure: bool = Field(default=True, description="Tell when a sync fails.")
    webhook_url: str | None = Field(default=None, description="Also POST events here.")
    webhook_secret: str | None = Field(
        default=None, description="Signing secret of webhook_url (a secret reference)."
    )
    webhooks: list[WebhookConfig] = Field(
        default_factory=list, description="More webhooks, each with its own events and policy."
    )

    _check_secret = field_validator("webhook_secret")(classmethod(lambda cls, v: _secret_ref(v)))
    _check_url = field_validator("webhook_url")(classmethod(lambda cls, v: _http_url(v)))

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if "@" not in v or v.startswith("@") or v.endswith("@")]
        if bad:
            raise ValueError(f"not an email address: {', '.join(bad)}")
        return value

    def wants(self, kind: EventKind) -> bool:
        """Whether the simple switches ask for this kind of event."""
        return {"published": self.on_new_data, "held": self.on_held, "failed": self.on_failure}[
            kind
        ]

    def all_webhooks(self) -> list[WebhookConfig]:
        """``webhook_url`` (with the simple switches) and every entry of ``webhooks``."""
        hooks = list(self.webhooks)
        if self.webhook_url:
            kinds = [k for k in EVENT_KINDS if self.wants(k)]
            hooks.insert(
                0, WebhookConfig(url=self.webhook_url, secret=self.webhook_secret, events=kinds)
            )
        return hooks
