"""The seam between a sync run and change approval: ``decide_for(config, settings)``.

``rostersync.sync.run.sync_config(..., decide=decide_for(config, settings))`` makes every run go
through the circuit breaker, the diff against the last accepted version, rollover windows, the
hold threshold and preview, with notifications — instead of publishing the candidate as is.

Deletions: a source deletes what it stops sending when it is in ``bulk_upload`` mode OR when
its connector declares ``complete_snapshot`` (the PowerSchool connector extracts the whole of its
scope on every run, so for it absence means deletion). Several sources: absence deletes when every
source is such a source (no source could still be sending the record), ``preview`` applies when
any source asks for it, and the district's top-level ``hold_threshold`` applies.

:func:`notify_failure` tells the admins about a run that failed before the change step
(extract, pipeline, configuration): the flow itself reports the failures it finds.

Early access (:mod:`.early_access`): unless the district opted in, the data of a school year
that has not begun is held back from the candidate before the change step; the run's phases say
whether the district opted in and what was held back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from rostersync.config import DistrictConfig, SourceConfig
from rostersync.connectors import get_connector_class
from rostersync.errors import ConfigurationError, SourceHealthError
from rostersync.logs import get_logger
from rostersync.model import Roster
from rostersync.notify import DeliveryLog, Event, Notifier, build_notifier
from rostersync.settings import Settings
from rostersync.store import RosterVersion, Store
from rostersync.store.schema import notification_deliveries
from rostersync.sync.approval import ChangeOptions, process_candidate
from rostersync.sync.calendar import record_sis_calendar
from rostersync.sync.early_access import (
    early_access_of,
    hold_back_next_year,
    published_school_years,
)

Decide = Callable[[Store, int, int, Roster, Sequence[str]], RosterVersion | None]

log = get_logger("changes")


def complete_snapshot(app: str) -> bool:
    """Whether the connector of ``app`` extracts complete snapshots (absence = deletion)."""
    try:
        cls = get_connector_class(app)
    except ConfigurationError:
        return False
    return bool(getattr(cls, "complete_snapshot", False))


def deletes_absent(source: SourceConfig) -> bool:
    """Whether records this source stops sending are deleted (bulk upload or full snapshots)."""
    return source.advanced.bulk_upload or complete_snapshot(source.app)


def options_for(config: DistrictConfig) -> ChangeOptions:
    """The change options of a district configuration (see the module docstring)."""
    sources = config.sources
    return ChangeOptions(
        bulk_upload=all(deletes_absent(s) for s in sources),
        preview=any(s.advanced.preview for s in sources),
        hold_threshold=config.hold_threshold,
    )


def district_today(config: DistrictConfig) -> date:
    """Today in the district's time zone (rollover windows and overrides are its dates)."""
    return datetime.now(config.sync_schedule.tz).date()


def delivery_log(store: Store) -> DeliveryLog:
    """The store's notification delivery log."""
    return DeliveryLog(store.engine, notification_deliveries)


def notifier_for(
    config: DistrictConfig | Any,
    settings: Settings,
    store: Store,
    district_id: int,
    *,
    store_lookup: Callable[[str], str | None] | None = None,
) -> Notifier:
    """The district's notifier, logging every delivery in the store.

    A configuration that failed validation as a whole still carries its raw ``notifications``
    section (a run that failed on its configuration tells the admins when that section alone
    is sound); :func:`rostersync.notify.build_notifier` validates it.
    """
    return build_notifier(
        settings,
        getattr(config, "notifications", None),
        district_id=district_id,
        delivery_log=delivery_log(store),
        store_lookup=store_lookup,
    )


def notify_failure(
    notifier: Notifier, store: Store, run_id: int, reasons: list[str], *, trigger: str | None
) -> None:
    """Send the "failed" event of a run that failed before the change step.

    Never raises: a notification problem must not hide the run's own error.
    """
    try:
        run = store.get_run(run_id)
        name = store.get_district(run.district_id).name
        notifier.notify(Event("failed", name, run_id, None, reasons, trigger=trigger))
    except Exception as exc:
        log.warning("failure notification not sent", run=run_id, error=str(exc).splitlines()[0])


def decide_for(
    config: DistrictConfig,
    settings: Settings,
    *,
    today: date | None = None,
    store_lookup: Callable[[str], str | None] | None = None,
    notify: bool = True,
    trigger: str | None = None,
) -> Decide:
    """A ``decide`` for ``sync_config``: publish, hold (returns None) or fail (raises).

    ``trigger`` is what started the run: a publish by ``first_day_of_school`` is announced as
    the first day's new data.
    """
    options = options_for(config)

    def decide(
        store: Store, district_id: int, run_id: int, candidate: Roster, health: Sequence[str] = ()
    ) -> RosterVersion | None:
        notifier = (
            notifier_for(config, settings, store, district_id, store_lookup=store_lookup)
            if notify
            else None
        )
        day = today or district_today(config)
        # The SIS's next first day of school, before early access may hold that year back.
        record_sis_calendar(store, district_id, candidate, day, [s.name for s in config.sources])
        # Early access: next year's data waits for the district's opt-in (shown on the run).
        access = early_access_of(store, district_id)
        early: dict[str, Any] = {"opted_in": access.opted_in, "changed_by": access.changed_by}
        if not access.opted_in:
            published = published_school_years(store, district_id)
            candidate, held, years = hold_back_next_year(candidate, day, published)
            early.update(held_back=held, school_years=years)
        outcome = process_candidate(
            store,
            district_id,
            run_id,
            candidate,
            options,
            today=day,
            notifier=notifier,
            phases={**store.get_run(run_id).phases, "early_access": early},
            trigger=trigger,
            health=health,
        )
        if outcome.status == "failed":
            raise SourceHealthError(outcome.reasons)
        return outcome.version

    return decide
