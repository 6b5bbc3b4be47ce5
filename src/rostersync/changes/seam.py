"""The seam between a sync run and change approval: ``decide_for(config, settings)``.

``rostersync.sync.run.sync_config(..., decide=decide_for(config, settings))`` makes every run go
through the circuit breaker, the diff against the last accepted version, rollover windows, the
hold threshold and preview, with notifications — instead of publishing the candidate as is.

Several sources: ``bulk_upload`` applies when every source is in bulk upload mode (absence
deletes only when no source could still be sending the record), ``preview`` when any source asks
for it, and the first source's ``hold_threshold`` is the district's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rostersync.changes.flow import ChangeOptions, process_candidate
from rostersync.errors import SourceError
from rostersync.model import Roster
from rostersync.notify import DeliveryLog, NotificationsConfig, Notifier
from rostersync.settings import Settings
from rostersync.store import RosterVersion, Store

Decide = Callable[[Store, int, int, Roster], RosterVersion | None]


class SourceHealthError(SourceError):
    """The extract looks broken (empty, a school gone): the run fails, nothing is published."""

    def __init__(self, reasons: list[str], *, source: str | None = None) -> None:
        super().__init__(
            "Failed extract, nothing published: " + "; ".join(reasons),
            source=source,
            hint="check the source app (outage? permissions? a file with only headers?) and "
            "run the sync again",
        )
        self.reasons = reasons


def options_for(config: Any) -> ChangeOptions:
    """The change options of a district configuration (see the module docstring)."""
    sources = list(config.sources)
    first = ChangeOptions.from_advanced(sources[0].advanced)
    return ChangeOptions(
        bulk_upload=all(bool(s.advanced.bulk_upload) for s in sources),
        preview=any(bool(s.advanced.preview) for s in sources),
        hold_threshold=first.hold_threshold,
    )


def district_today(config: Any) -> date:
    """Today in the district's time zone (rollover windows and overrides are its dates)."""
    tz = getattr(getattr(config, "sync_schedule", None), "timezone", None) or "UTC"
    return datetime.now(ZoneInfo(tz)).date()


def notifications_for(config: Any) -> NotificationsConfig:
    """The configuration's ``notifications`` section as the notifier's model."""
    section = getattr(config, "notifications", None)
    if section is None:
        return NotificationsConfig()
    data = section.model_dump() if hasattr(section, "model_dump") else dict(section)
    return NotificationsConfig.model_validate(data)


def decide_for(
    config: Any,
    settings: Settings,
    *,
    today: date | None = None,
    store_lookup: Callable[[str], str | None] | None = None,
    notify: bool = True,
) -> Decide:
    """A ``decide`` for ``sync_config``: publish, hold (returns None) or fail (raises)."""
    options = options_for(config)
    notifications = notifications_for(config)

    def decide(
        store: Store, district_id: int, run_id: int, candidate: Roster
    ) -> RosterVersion | None:
        notifier = (
            Notifier(
                settings,
                notifications,
                district_id=district_id,
                record=DeliveryLog(store.engine).record,
                store_lookup=store_lookup,
            )
            if notify
            else None
        )
        outcome = process_candidate(
            store,
            district_id,
            run_id,
            candidate,
            options,
            today=today or district_today(config),
            notifier=notifier,
            phases=store.get_run(run_id).phases,
        )
        if outcome.status == "failed":
            raise SourceHealthError(outcome.reasons)
        return outcome.version

    return decide
