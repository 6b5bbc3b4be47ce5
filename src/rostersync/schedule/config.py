"""Sync Schedule: the `sync_schedule` section of a district configuration.

Daily or weekly at a time of day in the district's time zone, between optional `starts` and
`expires` dates, plus an automatic sync at 00:00 on the first day of the new school year
(`first_day_of_school`). The section is validated here once; everything after trusts it.
"""

from __future__ import annotations

import re
from datetime import date, time
from functools import cached_property
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
        for key, value in data.items():
            name = FIELD_ALIASES.get(key, key) if isinstance(key, str) else key
            if name in out:
                raise ValueError(f"`{key}` repeats `{name}`: give only one of them")
            out[name] = value
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
