"""OneRoster REST source options: the ``connector:`` block of a ``oneroster_rest`` source.

The provider's version and how to sign in (OAuth 2 client credentials, or OAuth 1.0a request
signing for 1.1 providers), the page size and how many requests may be in flight, and the retry
policy. The service URL, client ID and secret are the source's ``delivery``.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rostersync.errors import ConfigValidationError, Problem

ROSTER_SCOPES = ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly")
SCOPE_PREFIX = {
    "1.1": "https://purl.imsglobal.org/spec/or/v1p1/scope/",
    "1.2": "https://purl.imsglobal.org/spec/or/v1p2/scope/",
}
BASE_PATH = {"1.1": "/ims/oneroster/v1p1", "1.2": "/ims/oneroster/rostering/v1p2"}


class RestOptions(BaseModel):
    """Connector-specific settings of a OneRoster REST source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal["1.1", "1.2"] = Field(
        default="1.2", description="OneRoster version the provider serves: 1.1 or 1.2."
    )
    auth: Literal["oauth2", "oauth1"] = Field(
        default="oauth2",
        description=(
            "oauth2: client credentials (token, then Bearer); oauth1: OAuth 1.0a HMAC-SHA256 "
            "signed requests (1.1 providers only)."
        ),
    )
    token_url: str | None = Field(
        default=None,
        description="OAuth 2 token endpoint. Default: <delivery.url>/oauth/token.",
    )
    scope: str | None = Field(
        default=None,
        description=(
            "OAuth 2 scopes to ask for (space-separated). Default: roster-core.readonly "
            "roster.readonly roster-demographics.readonly under the version's scope prefix."
        ),
    )
    base_path: str | None = Field(
        default=None,
        description=(
            "Path of the rostering service under delivery.url. Default: /ims/oneroster/v1p1 "
            "(1.1) or /ims/oneroster/rostering/v1p2 (1.2)."
        ),
    )
    page_size: int = Field(default=1000, ge=1, le=10_000, description="Records per page.")
    concurrency: int = Field(
        default=8, ge=1, le=64, description="Requests in flight at once (bounded)."
    )
    timeout_seconds: float = Field(
        default=60.0, gt=0, le=600, description="Timeout of one HTTP request."
    )
    max_retries: int = Field(
        default=5, ge=0, le=20, description="Retries of one request on timeouts, 5xx and 429."
    )
    backoff_base_seconds: float = Field(
        default=0.5, gt=0, le=60, description="First retry delay; doubles on every retry."
    )
    backoff_max_seconds: float = Field(
        default=30.0, gt=0, le=600, description="Longest delay between two retries."
    )
    verify_tls: bool = Field(default=True, description="Check the server's TLS certificate.")
    full_pull_every_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description=(
            "Between full pulls, a sync reads only what changed (dateLastModified); a full pull "
            "this often reconciles records a provider deleted without a tombstone."
        ),
    )

    @model_validator(mode="after")
    def _oauth1_is_1p1(self) -> Self:
        if self.auth == "oauth1" and self.version != "1.1":
            raise ValueError("auth oauth1 (OAuth 1.0a) is a OneRoster 1.1 option; 1.2 uses oauth2")
        return self

    def scopes(self) -> str:
        """The scopes asked for."""
        if self.scope:
            return self.scope
        return " ".join(SCOPE_PREFIX[self.version] + s for s in ROSTER_SCOPES)

    def rostering_path(self) -> str:
        return (self.base_path or BASE_PATH[self.version]).rstrip("/")


def parse_options(raw: Any, where: str = "connector") -> RestOptions:
    """Validate the ``connector:`` block, reporting every problem with its path."""
    try:
        return RestOptions.model_validate(raw or {})
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(p) for p in (where, *err["loc"])), err["msg"])
            for err in exc.errors()
        ]
        raise ConfigValidationError(f"{where} (OneRoster REST options)", problems) from exc
