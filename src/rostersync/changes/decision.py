"""The change decision: from the last accepted roster and a candidate to publish, hold or fail.

Pure: no store, no clock, no connector. :func:`decide` runs the source-health circuit breaker,
the diff against the last accepted version, the rollover windows, the hold threshold (with the
configuration's and the admins' overrides) and preview, and returns a :class:`Decision` holding
the one change set that will be published — the run's owner (:mod:`rostersync.sync`) persists
it, publishes it or holds it, and notifies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import polars as pl

from rostersync.changes.diff import ChangeSet, diff_rosters
from rostersync.changes.health import check_source_health
from rostersync.changes.overrides import HoldOverride, override_in_force
from rostersync.changes.threshold import HoldThreshold, Trip, evaluate
from rostersync.changes.windows import apply_windows, window_note

Verdict = Literal["publish", "hold", "fail"]


@dataclass(frozen=True)
class ChangeOptions:
    """What the decision needs from the sources' ``advanced`` settings."""

    bulk_upload: bool = False
    preview: bool = False
    hold_threshold: HoldThreshold = field(default_factory=HoldThreshold)

    @classmethod
    def from_advanced(cls, advanced: Any) -> ChangeOptions:
        """From the config's ``advanced`` section (any object with those attributes)."""
        raw = getattr(advanced, "hold_threshold", None)
        if raw is None or isinstance(raw, HoldThreshold):
            threshold = raw or HoldThreshold()
        else:
            data = raw.model_dump() if hasattr(raw, "model_dump") else dict(raw)
            threshold = HoldThreshold.model_validate(data)
        return cls(
            bulk_upload=bool(getattr(advanced, "bulk_upload", False)),
            preview=bool(getattr(advanced, "preview", False)),
            hold_threshold=threshold,
        )


@dataclass
class Decision:
    """Publish (``unchanged`` when there is nothing to publish), hold or fail, with why."""

    verdict: Verdict
    reasons: list[str] = field(default_factory=list)
    changes: ChangeSet | None = None
    trips: list[Trip] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    #: The rollover windows' note for the published version (what was held back), if any.
    note: str | None = None
    unchanged: bool = False


def decide(
    base: Mapping[str, pl.DataFrame],
    candidate: Mapping[str, pl.DataFrame],
    options: ChangeOptions,
    overrides: Iterable[HoldOverride] = (),
    health: Sequence[str] = (),
    *,
    today: date,
    now: datetime,
    base_version: int | None = None,
    extract_error: str | None = None,
) -> Decision:
    """The decision for ``candidate`` against the last accepted version ``base``.

    ``overrides`` are the district's hold overrides (the one in force at ``now`` covering
    ``today`` lets the threshold through); ``health`` the problems the connectors reported.
    """
    reasons = check_source_health(base, candidate, extract_error=extract_error, health=health)
    if reasons:
        return Decision("fail", reasons)
    threshold = options.hold_threshold
    changes = diff_rosters(
        base, candidate, bulk_upload=options.bulk_upload, base_version=base_version
    )
    changes, held_back = apply_windows(changes, threshold.rollover_windows, today)
    granted = override_in_force(overrides, now, today)
    overridden = threshold.override_active(today) or granted is not None
    trips = evaluate(changes, threshold)
    summary: dict[str, Any] = {
        **changes.summary(),
        "trips": [t.to_dict() for t in trips],
        "preview": options.preview,
        "over_threshold_allowed": bool(trips) and overridden,
        "rollover_held_back": held_back,
    }
    if trips and granted is not None:
        summary["hold_override"] = granted.to_dict()
    if options.preview or (trips and not overridden):
        why = [str(t) for t in trips] if trips and not overridden else []
        if options.preview:
            why.append("preview is on: every sync waits for approval")
        summary["hold_reasons"] = why
        return Decision("hold", why, changes, trips, summary)
    unchanged = changes.is_empty() and base_version is not None
    if unchanged:
        summary["unchanged"] = True
    note = window_note(held_back) or None
    return Decision("publish", [], changes, trips, summary, note, unchanged)


__all__ = ["ChangeOptions", "Decision", "Verdict", "decide"]
