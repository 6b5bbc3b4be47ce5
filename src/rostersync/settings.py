"""Settings of a rostersync installation: each declared once, typed, with help text and a default.

Read from the environment (prefix ``ROSTERSYNC_``) and from ``.env``. Secrets are ``SecretStr``
so they never print; the secret key is generated into the data directory on first use rather
than having a hard-coded default that every installation would share.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from rostersync import fsutil
from rostersync.errors import ConfigurationError

SECRET_KEY_FILE = "secret.key"  # noqa: S105 - a file name, not a secret
SECRETS_KEY_FILE = "secrets.key"


class Settings(BaseSettings):
    """Installation settings (not a district's sync configuration, which lives in the store)."""

    model_config = SettingsConfigDict(
        env_prefix="ROSTERSYNC_", env_file=".env", extra="ignore", validate_default=True
    )

    data_dir: Path = Field(
        default=Path("var"),
        description="Directory for the SQLite database, the secret key, exports and run reports.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the store. Default: a SQLite file `rostersync.db` in the data "
            "directory. PostgreSQL: postgresql+psycopg://user@host:5432/dbname"
        ),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Key that derives the OneRoster API clients' secrets and signs their tokens. "
            "Default: generated once into `secret.key` in the data directory. Keep it safe: "
            "losing it invalidates every API client's secret."
        ),
    )
    secrets_key_file: Path | None = Field(
        default=None,
        description=(
            "Key-encryption key of the secret store (`store:NAME` references in a "
            "configuration). Default: `secrets.key` in the data directory, created 0600 by the "
            "first `rostersync secrets set`. Back it up: without it stored secrets are lost."
        ),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level of log messages written."
    )
    log_format: Literal["console", "json"] = Field(
        default="console", description="`console` for people, `json` for log collectors."
    )
    broker_url: str | None = Field(
        default=None,
        description=(
            "Celery broker (redis://… or amqp://…) to dispatch runs to workers. "
            "Default: runs execute in-process."
        ),
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for notification email.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    smtp_starttls: bool = Field(default=True, description="Upgrade SMTP with STARTTLS.")
    smtp_username: str | None = Field(default=None, description="SMTP user name.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_from: str = Field(
        default="rostersync@localhost", description="Sender address of notification email."
    )

    @property
    def resolved_secrets_key_file(self) -> Path:
        """The secret store's key file: the setting, or ``secrets.key`` in the data directory."""
        return self.secrets_key_file or self.data_dir / SECRETS_KEY_FILE

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'rostersync.db').resolve()}"

    def ensure_data_dir(self) -> Path:
        """Create the data directory if needed and check it is writable."""
        path = self.data_dir
        try:
            # A new data directory is private (0700); an existing one chosen by the admin is
            # left as it is, the files and directories rostersync creates inside it are private.
            fsutil.private_dir(path, narrow=False)
        except OSError as exc:
            raise ConfigurationError(
                f"Cannot create the data directory {path}: {exc.strerror}",
                setting="ROSTERSYNC_DATA_DIR",
                hint="point ROSTERSYNC_DATA_DIR at a directory this user may write to",
            ) from exc
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigurationError(
                f"The data directory {path} is not writable",
                setting="ROSTERSYNC_DATA_DIR",
                hint="point ROSTERSYNC_DATA_DIR at a directory this user may write to",
            )
        return path

    def get_secret_key(self) -> str:
        """The installation's secret key: the setting, or the key file, created on first use."""
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if len(value) < 16:
                raise ConfigurationError(
                    "ROSTERSYNC_SECRET_KEY is too short (fewer than 16 characters)",
                    setting="ROSTERSYNC_SECRET_KEY",
                    hint="use a long random value, e.g. `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'`",
                )
            return value
        key_file = self.ensure_data_dir() / SECRET_KEY_FILE
        if key_file.exists():
            return key_file.read_text(encoding="utf-8").strip()
        key = secrets.token_urlsafe(32)
        try:
            # 0600, and complete before it appears: a racing process reads the whole key.
            if not fsutil.create_exclusive(key_file, key + "\n"):
                return key_file.read_text(encoding="utf-8").strip()  # another process won
        except OSError as exc:
            raise ConfigurationError(
                f"Cannot write the secret key file {key_file}: {exc.strerror}",
                setting="ROSTERSYNC_DATA_DIR",
                hint="make the data directory writable, or set ROSTERSYNC_SECRET_KEY",
            ) from exc
        return key

    def redacted(self) -> dict[str, Any]:
        """Every setting with its current value, secrets replaced by a marker."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********"
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        out["database_url"] = redact_url(self.resolved_database_url)
        if self.broker_url:
            out["broker_url"] = redact_url(self.broker_url)
        return out


def redact_url(url: str) -> str:
    """Hide the password of a URL such as ``postgresql://user:pw@host/db``."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:********@{host}" if ":" in creds else url


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; a malformed value becomes a one-line error naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        raise ConfigurationError(
            f"Setting ROSTERSYNC_{field.upper()} is invalid: {first['msg']}",
            setting=f"ROSTERSYNC_{field.upper()}",
            hint="fix or unset it (see `rostersync settings`)",
        ) from exc
