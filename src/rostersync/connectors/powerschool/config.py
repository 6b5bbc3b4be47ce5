"""PowerSchool connector options: the ``connector:`` block of a source in the district config.

Each option is declared once with its type, default and help. Defaults suit a real PowerSchool
server: modest concurrency, retries with exponential backoff and jitter, and a pace that adapts
when the server answers "too many requests" (its Retry-After honoured) — set ``min_interval_ms``
to PowerSchool's "Minimum time interval between API requests" to start at the right pace.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rostersync.errors import ConfigValidationError, Problem


class PowerSchoolOptions(BaseModel):
    """Connector-specific settings of a PowerSchool source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    concurrency: int = Field(
        default=8, ge=1, le=64, description="Requests in flight at once (bounded)."
    )
    min_interval_ms: int = Field(
        default=0,
        ge=0,
        le=60_000,
        description=(
            "Minimum time between two requests, in milliseconds: set it to PowerSchool's "
            "'Minimum time interval (ms) between API requests per plugin'. 0 = no throttle."
        ),
    )
    timeout_seconds: float = Field(
        default=60.0, gt=0, le=600, description="Timeout of one HTTP request."
    )
    max_retries: int = Field(
        default=6,
        ge=0,
        le=20,
        description="Retries of one request on timeouts, 5xx and throttling before giving up.",
    )
    backoff_base_seconds: float = Field(
        default=0.5, gt=0, le=60, description="First retry delay; doubles on every retry."
    )
    backoff_max_seconds: float = Field(
        default=30.0, gt=0, le=600, description="Longest delay between two retries."
    )
    max_throttle_wait_seconds: float = Field(
        default=600.0,
        gt=0,
        le=3600,
        description=(
            "Longest time one request may wait on 'too many requests' answers (429, or 503 "
            "with Retry-After) before the sync gives up. The server's Retry-After is honoured "
            "and the pace adapts to it; such waits do not count against max_retries."
        ),
    )
    gradebook_import: bool = Field(
        default=False,
        description=(
            "After each sync, read PowerTeacher Pro's categories, assignments and scores into "
            "the OneRoster Gradebook service (the plugin must grant ASSIGNMENTSECTION and "
            "ASSIGNMENTSCORE; connectors/powerschool/gradebook.py)."
        ),
    )
    page_size: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description=(
            "Largest page to ask for. Default: the plugin's maximum from /ws/v1/metadata; a value "
            "above the plugin's maximum is lowered to it."
        ),
    )
    verify_tls: bool = Field(default=True, description="Check the server's TLS certificate.")
    student_filter: str | None = Field(
        default=None,
        description=(
            "Extra v1 `q` criterion for students of a school (e.g. "
            "`school_enrollment.enroll_status==A`). Default: PowerSchool's school default."
        ),
    )
    incremental: bool = Field(
        default=False,
        description=(
            "Read only what changed since the previous sync, through PowerSchool's change "
            "tracking (/ws/dataversion and the plugin's PowerQuery, installed with the plugin "
            "written by `rostersync powerschool plugin`). The first sync, and any sync the "
            "change tracking cannot serve, is a full pull; the run's stats say which it was."
        ),
    )
    dataversion_application: str = Field(
        default="rostersync",
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="The data-version subscription (application name) change tracking reads.",
    )
    full_pull_every_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description=(
            "With `incremental`: a full pull at least this often, whatever change tracking says."
        ),
    )


def parse_options(raw: Any, source_name: str = "connector") -> PowerSchoolOptions:
    """Validate the ``connector:`` block, reporting every problem with its path."""
    try:
        return PowerSchoolOptions.model_validate(raw or {})
    except ValidationError as exc:
        problems = [
            Problem(
                ".".join(str(p) for p in (source_name, *err["loc"])),
                err["msg"],
            )
            for err in exc.errors()
        ]
        raise ConfigValidationError(f"{source_name} (PowerSchool options)", problems) from exc
