"""The events feed for apps: per API client, the records created, updated and deleted by each
published version, in publish order, resumable by cursor.

What an app may see in the feed is exactly what it may see over OneRoster: its sharing rules
(:class:`~rostersync.export.oneroster.sharing.SharingRules`) decide, on the entity, the people
type (role) and the schools each event carries. An event names the record (entity, sourcedId,
action, version, when); the app reads the record itself over OneRoster, where withheld fields
stay withheld. A rollback publishes a version like any other, so its events undo.

The cursor is the id of the last event the app was given (``next_cursor``, also when the page
it scanned held nothing the app may see). Events are kept :data:`RETENTION_DAYS` days; a cursor
from before what is kept is refused (the app reads the roster again and resumes from
``latest_cursor``), never answered with a silent gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rostersync.errors import ConfigurationError
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.store import Store
from rostersync.store.events import (
    ORDER,
    RETENTION_DAYS,
    latest_event,
    pruned_below,
    read_events,
    write_events,
)

#: Largest page an app may ask for.
MAX_LIMIT = 1000
#: Events scanned per database read while filling a page.
_SCAN = 2000

__all__ = ["MAX_LIMIT", "RETENTION_DAYS", "CursorExpired", "FeedPage", "feed", "visible"]


class CursorExpired(ConfigurationError):
    """A cursor older than the events kept."""


@dataclass
class FeedPage:
    """One page of an app's events."""

    events: list[dict[str, Any]]
    next_cursor: int
    has_more: bool
    latest_cursor: int
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": [
                {
                    "cursor": str(e["id"]),
                    "version": e["version"],
                    "entity": e["entity"],
                    "sourcedId": e["sourcedId"],
                    "action": e["action"],
                    "at": e["at"].isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                }
                for e in self.events
            ],
            "next_cursor": str(self.next_cursor),
            "has_more": self.has_more,
            "latest_cursor": str(self.latest_cursor),
            "retention_days": RETENTION_DAYS,
        }


def visible(rules: SharingRules, event: dict[str, Any]) -> bool:
    """Whether a client with ``rules`` may see the record an event names."""
    entity = event["entity"]
    if not rules.entity_visible(entity):
        return False
    role = event.get("role")
    if entity in ("users", "demographics", "userContacts"):
        roles = rules.user_roles()
        if roles is not None and role not in roles:
            return False
    elif entity == "enrollments":
        roles = rules.enrollment_roles()
        if roles is not None and role not in roles:
            return False
    schools = event.get("schools")
    return rules.schools is None or schools is None or bool(set(schools) & rules.schools)


def parse_cursor(raw: str | None) -> int:
    """A cursor from the query string: absent = from the oldest event kept."""
    if raw is None or raw == "":
        return 0
    if not raw.isdigit() or len(raw) > 18:
        raise ConfigurationError(
            f"after={raw!r} is not a cursor",
            setting="after",
            hint="pass the next_cursor of the previous page (digits), or leave it out to start "
            "from the oldest event kept",
        )
    return int(raw)


def feed(store: Store, district_id: int, rules: SharingRules, after: int, limit: int) -> FeedPage:
    """The next events after ``after`` the client may see (at most ``limit``)."""
    write_events(store, district_id)
    latest = latest_event(store, district_id) or 0
    below = pruned_below(store, district_id)
    if after and below is not None and after < below:
        raise CursorExpired(
            f"after={after} is older than the events kept ({RETENTION_DAYS} days)",
            setting="after",
            hint=f"read the roster again over OneRoster, then resume from after={latest}",
        )
    entities = tuple(e for e in ORDER if rules.entity_visible(e))
    found: list[dict[str, Any]] = []
    cursor = after
    more = False
    while True:
        batch = read_events(store, district_id, cursor, _SCAN, entities)
        for event in batch:
            if len(found) == limit:
                more = True
                break
            cursor = event["id"]
            if visible(rules, event):
                found.append(event)
        if more or len(batch) < _SCAN:
            break
    if not more:  # everything up to the latest event was looked at
        cursor = max(cursor, latest)
    return FeedPage(found, cursor, more, latest)
