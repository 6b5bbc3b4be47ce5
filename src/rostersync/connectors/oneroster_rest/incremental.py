"""Incremental extraction from a OneRoster provider: changes since the last extraction, read by
``filter=dateLastModified>'<cursor>'`` and folded into that extraction.

The baseline is the folded canonical tables; its cursor is the newest ``dateLastModified`` the
provider stamped on them (the provider's clock, never ours, so clock skew loses nothing). A
record stamped in the very millisecond of the cursor after it was read would be missed until
the next full pull — a provider publishing atomically (as rostersync's does) never does
that, and ``>=`` would re-read a whole publish that shares one stamp. A changed record
replaces its baseline row whole, a deleted one arrives as ``tobedeleted``. A full pull replaces
the baseline when there is none, when the scope or options changed, when the provider cannot
filter by ``dateLastModified``, and every ``full_pull_every_days`` (a provider that forgets
deleted records is reconciled then).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from rostersync.connectors.base import Baseline
from rostersync.connectors.oneroster_rest.config import RestOptions
from rostersync.model import ENTITIES, TIMESTAMP, Roster, conform

BASELINE_FORMAT = 1


def fingerprint(url: str, options: RestOptions, schools: Sequence[str] | None) -> str:
    """What a baseline was read for: the provider, its version and path, the scope."""
    doc = {
        "format": BASELINE_FORMAT,
        "url": url,
        "version": options.version,
        "path": options.rostering_path(),
        "scope": sorted(schools) if schools is not None else None,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]


def full_pull_reason(
    options: RestOptions, baseline: Baseline | None, mark: str, now: datetime
) -> str | None:
    """Why this extraction must be a full pull (None: changes can be folded in)."""
    if baseline is None:
        return "no previous extraction to fold changes into"
    if baseline.fingerprint != mark:
        return "the provider, version or scope changed since the previous extraction"
    every = options.full_pull_every_days
    if now - baseline.full_at >= timedelta(days=every):
        return f"full_pull_every_days: the last full pull is {every} or more days old"
    return None


def fold(frames: Mapping[str, pl.DataFrame], changes: Roster) -> Roster:
    """The baseline with every changed record replaced (or added), columnar."""
    out: Roster = {}
    for name, entity in ENTITIES.items():
        base = frames.get(name)
        base = conform(entity, base) if base is not None else entity.empty()
        changed = changes.get(name, entity.empty())
        if not changed.height:
            out[name] = base
            continue
        kept = base.join(changed.select("sourcedId"), on="sourcedId", how="anti")
        out[name] = pl.concat([kept, changed], how="vertical")
    return out


def cursor_of(roster: Roster, previous: str | None) -> str | None:
    """The newest ``dateLastModified`` of the roster (or the previous cursor), as the filter
    writes it (UTC, milliseconds, ``Z``)."""
    stamps = [
        t["dateLastModified"].max()
        for t in roster.values()
        if t.height and t.schema["dateLastModified"] == TIMESTAMP
    ]
    newest: Any = max((s for s in stamps if s is not None), default=None)
    if newest is None:
        return previous
    text = str(newest.strftime("%Y-%m-%dT%H:%M:%S.%f"))[:-3] + "Z"
    return max(text, previous) if previous else text


def changed_counts(changes: Roster) -> dict[str, int]:
    return {name: t.height for name, t in changes.items() if t.height}
