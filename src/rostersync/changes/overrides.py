"""Hold overrides: which "allow over threshold until DATE" grant, if any, is in force.

An admin grants an override for a planned mass change (rollover) and may shorten it (a new grant
with an earlier date) or revoke it. The rule is *the latest action wins*: the newest grant made
up to now replaces every earlier one, whatever their dates, and a revocation of that grant ends
it. A grant applies from the moment it is made to the end of its ``until`` day (the district's
local date, inclusive) or its revocation. Pure: the store keeps the grants, this module judges
them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

OverrideState = Literal["active", "ended", "revoked", "superseded", "pending"]


@dataclass(frozen=True)
class HoldOverride:
    """One grant, as stored, with its revocation when there is one (who, when, why)."""

    id: int
    district_id: int
    until: date
    reason: str | None
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "district_id": self.district_id,
            "until": self.until.isoformat(),
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoked_by": self.revoked_by,
            "revoke_reason": self.revoke_reason,
        }


def _order(o: HoldOverride) -> tuple[datetime, int]:
    return (o.created_at, o.id)


def latest_grant(overrides: Iterable[HoldOverride], now: datetime) -> HoldOverride | None:
    """The newest grant made up to ``now`` (the one that decides), revoked or not."""
    made = [o for o in overrides if o.created_at <= now]
    return max(made, key=_order, default=None)


def override_in_force(
    overrides: Iterable[HoldOverride], now: datetime, today: date
) -> HoldOverride | None:
    """The grant that lets a run decided at ``now`` (district date ``today``) go over the
    threshold, or None. Earlier grants never come back: a later, shorter grant replaces a
    longer one, and revoking the latest grant leaves no override."""
    latest = latest_grant(overrides, now)
    if latest is None or (latest.revoked_at is not None and latest.revoked_at <= now):
        return None
    return latest if today <= latest.until else None


def override_state(
    override: HoldOverride, overrides: Iterable[HoldOverride], now: datetime, today: date
) -> OverrideState:
    """What one grant is now, for ``changes override list``."""
    if override.created_at > now:
        return "pending"
    if override.revoked_at is not None and override.revoked_at <= now:
        return "revoked"
    latest = latest_grant(overrides, now)
    if latest is not None and latest.id != override.id:
        return "superseded"
    return "active" if today <= override.until else "ended"


__all__ = [
    "HoldOverride",
    "OverrideState",
    "latest_grant",
    "override_in_force",
    "override_state",
]
