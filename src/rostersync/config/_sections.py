"""The configuration sections acted on outside ``config``: hold threshold, schedule, notifications.

``hold_threshold`` (:class:`HoldThreshold`: Sync hold threshold — a run whose changes exceed a
limit waits for an admin), ``sync_schedule`` (:class:`SyncSchedule`: Sync Schedule — daily or
weekly at a local time, between optional dates, plus the first day of school) and
``notifications`` (:class:`NotificationsConfig`: who hears about which runs). They are declared
here, with the rest of the configuration; ``changes``, ``schedule`` and ``notify`` import them
from :mod:`rostersync.config`, never the reverse.

Earlier spellings of schedule settings (``frequency``, ``time``…) are still read, each with a
:class:`ConfigDeprecationWarning` naming the setting to write instead.
"""

from __future__ import annotations

import re
import warnings
from datetime import date, time
from functools import cached_property
from typing import Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from rostersync.model import ENTITIES, ENTITY_TYPES


class ConfigDeprecationWarning(FutureWarning):
    """A configuration uses a setting name or place that still works but will go away.

    A ``FutureWarning``, so Python shows it to the admin running a command by default.
    """


def deprecated_setting(old: str, new: str) -> None:
    """Warn that the setting ``old`` is read as ``new`` (write ``new`` instead)."""
    warnings.warn(
        f"`{old}` is deprecated: write `{new}` instead", ConfigDeprecationWarning, stacklevel=2
    )


# --- hold_threshold ---------------------------------------------------------------------------

Kind = Literal["create", "update", "delete"]
KIND_NAMES: tuple[Kind, ...] = ("create", "update", "delete")


def _known_scope(name: str) -> str:
    if name not in ENTITIES and name not in ENTITY_TYPES:
        names = ", ".join([*ENTITIES, *ENTITY_TYPES])
        raise ValueError(f"unknown entity {name} (one of: {names})")
    return name


#: A key of ``entities``: a canonical entity (users, classes…) or an entity type (student…).
Scope = Annotated[str, AfterValidator(_known_scope)]


class Limits(BaseModel):
    """Limits for one scope; ``None`` means no limit of that kind.

    Used as an override (``entities``), only the limits given replace the defaults, so a dump
    of a bare ``Limits`` keeps exactly the fields that were set. A limit set to ``null`` ("no
    limit") survives ``exclude_none`` (the store's dump), or reading the stored configuration
    back would bring the default limit back.
    """

    model_config = ConfigDict(extra="forbid")

    create_percent: float | None = Field(default=None, ge=0, description="Max % of creates.")
    update_percent: float | None = Field(default=None, ge=0, description="Max % of updates.")
    delete_percent: float | None = Field(default=None, ge=0, description="Max % of deletes.")
    create_count: int | None = Field(default=None, ge=0, description="Max number of creates.")
    update_count: int | None = Field(default=None, ge=0, description="Max number of updates.")
    delete_count: int | None = Field(default=None, ge=0, description="Max number of deletes.")

    @model_serializer(mode="wrap")
    def _serialize(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        names = list(type(self).model_fields)
        if type(self) is Limits:  # an override: only what was given
            names = [k for k in names if k in self.model_fields_set]
        return {k: out.get(k) for k in names if k in out or self._dropped_null(k, info)}

    def _dropped_null(self, name: str, info: SerializationInfo) -> bool:
        """A limit set to null that ``exclude_none`` left out of a dump."""
        return (
            info.exclude_none
            and name in Limits.model_fields
            and name in self.model_fields_set
            and getattr(self, name) is None
        )

    def percent(self, kind: Kind) -> float | None:
        value: float | None = getattr(self, f"{kind}_percent")
        return value

    def count(self, kind: Kind) -> int | None:
        value: int | None = getattr(self, f"{kind}_count")
        return value


class RolloverWindow(BaseModel):
    """A date window (inclusive) in which some kinds of change are not applied.

    ``additions_only``: only new records are published (end of year, before rollover);
    ``no_deletions``: records are added and updated but never removed (summer).
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["additions_only", "no_deletions"] = Field(
        description="additions_only (only new records) or no_deletions (nothing removed)."
    )
    start: date = Field(description="First day of the window (district's local date).")
    end: date = Field(description="Last day of the window, inclusive.")

    @model_validator(mode="after")
    def _ordered(self) -> RolloverWindow:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def active(self, today: date) -> bool:
        return self.start <= today <= self.end


class HoldThreshold(Limits):
    """The ``advanced.hold_threshold`` section: default limits, overrides, windows."""

    delete_percent: float | None = Field(
        default=10, ge=0, description="Hold when more than this % of an entity would be deleted."
    )
    update_percent: float | None = Field(
        default=75, ge=0, description="Hold when more than this % of an entity would be updated."
    )
    entities: dict[Scope, Limits] = Field(
        default_factory=dict,
        description=(
            "Overrides per canonical entity (users, classes…) or entity type (student, teacher…); "
            "only the limits given replace the defaults."
        ),
    )
    per_school: bool = Field(
        default=False, description="Also apply the limits to each school's records separately."
    )
    allow_over_threshold_until: date | None = Field(
        default=None,
        description="Planned mass change: runs up to this date are never held for the threshold.",
    )
    rollover_windows: list[RolloverWindow] = Field(
        default_factory=list, description="Additions-only and no-deletions date windows."
    )

    def limits_for(self, scope: str) -> Limits:
        """The default limits with the scope's overrides applied."""
        base = Limits(**{k: getattr(self, k) for k in Limits.model_fields})
        override = self.entities.get(scope)
        if override is None:
            return base
        values = base.model_dump()
        values.update({k: getattr(override, k) for k in override.model_fields_set})
        return Limits(**values)

    def override_active(self, today: date) -> bool:
        until = self.allow_over_threshold_until
        return until is not None and today <= until


# --- sync_schedule ----------------------------------------------------------------------------

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

#: Weekday names in ``date.weekday()`` order (Monday is 0).
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DAY_ALIASES = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


#: Other spellings accepted for compatibility with earlier configuration templates.
FIELD_ALIASES: Final[dict[str, str]] = {
    "frequency": "every",
    "time": "at",
    "weekdays": "days",
    "until": "expires",
    "first_day_sync": "first_day_of_school",
}


class SyncSchedule(BaseModel):
    """When a source syncs by itself. All fields are optional: the default is "never"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    every: Literal["daily", "weekly"] | None = Field(
        default=None,
        description="`daily`, `weekly` (on `days`), or unset for no periodic sync.",
    )
    days: tuple[Weekday, ...] = Field(
        default=(),
        description="Days of the week for a weekly sync: mon, tue, wed, thu, fri, sat, sun.",
    )
    at: str = Field(
        default="02:00", description="Local time of day of the sync, HH:MM (24-hour clock)."
    )
    timezone: str = Field(
        default="UTC", description="The district's IANA time zone, e.g. America/Chicago."
    )
    starts: date | None = Field(
        default=None, description="First day on which scheduled syncs may run (local date)."
    )
    expires: date | None = Field(
        default=None,
        description="Last day on which scheduled syncs may run (local date); none after it.",
    )
    first_day_of_school: bool = Field(
        default=False,
        description=(
            "Also sync at 00:00 local time on the first day of the new school year, taken "
            "from the calendar the source reports."
        ),
    )
    retry_interrupted: bool = Field(
        default=False,
        description=(
            "When a worker dies mid-run, run the sync once more instead of only marking the "
            "run failed."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _accept_aliases(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        out = {}
        written: dict[object, object] = {}
        for key, value in data.items():
            name = FIELD_ALIASES.get(key, key) if isinstance(key, str) else key
            if name != key:
                deprecated_setting(f"sync_schedule.{key}", f"sync_schedule.{name}")
            if name in out:
                first, second = sorted((str(written[name]), str(key)), key=lambda k: k != name)
                raise ValueError(f"`{second}` repeats `{first}`: give only one of them")
            out[name] = value
            written[name] = key
        if out.get("every") == "manual":
            out["every"] = None
        return out

    @field_validator("days", mode="before")
    @classmethod
    def _normalise_days(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v for v in re.split(r"[\s,]+", value) if v]
        if isinstance(value, list | tuple):
            out = []
            for item in value:
                if isinstance(item, str):
                    key = item.strip().lower()
                    item = _DAY_ALIASES.get(key, key)
                out.append(item)
            return tuple(out)
        return value

    @field_validator("at", mode="before")
    @classmethod
    def _unquoted_at(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted 12:30 as the number 750 (base 60)
        if isinstance(value, int) and not isinstance(value, bool):
            example = f"{value // 60:02d}:{value % 60:02d}" if 60 <= value < 24 * 60 else "02:30"
            raise ValueError(f'write the time of day in quotes, e.g. "{example}"')
        return value

    @field_validator("at")
    @classmethod
    def _check_at(cls, value: str) -> str:
        value = value.strip()
        if len(value) == 4 and value[1] == ":":  # 7:30 → 07:30
            value = "0" + value
        if not _HHMM.match(value):
            raise ValueError(f"{value!r} is not a time of day HH:MM, e.g. 02:30 or 18:00")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            close = sorted(z for z in available_timezones() if value.lower() in z.lower())[:3]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(
                f"{value!r} is not an IANA time zone such as America/New_York{hint}"
            ) from None
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> SyncSchedule:
        if self.every == "weekly" and not self.days:
            raise ValueError("a weekly schedule needs `days`, e.g. days: [mon, thu]")
        if self.every != "weekly" and self.days:
            raise ValueError("`days` only applies to `every: weekly`")
        if self.starts and self.expires and self.expires < self.starts:
            raise ValueError(f"`expires` ({self.expires}) is before `starts` ({self.starts})")
        return self

    # Cached: next-run computation reads these for thousands of sources per scheduler load.
    @cached_property
    def tz(self) -> ZoneInfo:
        """The schedule's time zone."""
        return ZoneInfo(self.timezone)

    @cached_property
    def time_of_day(self) -> time:
        """`at` as a time."""
        hour, minute = self.at.split(":")
        return time(int(hour), int(minute))

    @cached_property
    def weekdays(self) -> frozenset[int]:
        """The days a sync may run, as ``date.weekday()`` numbers."""
        if self.every == "weekly":
            return frozenset(WEEKDAYS.index(d) for d in self.days)
        return frozenset(range(7))

    @property
    def is_active(self) -> bool:
        """True when the schedule can produce any run at all."""
        return self.every is not None or self.first_day_of_school


# --- notifications ----------------------------------------------------------------------------

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
