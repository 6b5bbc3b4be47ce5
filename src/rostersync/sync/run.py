"""One sync run: load configuration → extract every source → pipeline → publish.

The run is recorded in the store from the start (phases with timings, counts, the pipeline's
report) and ends either with a new roster version or with status ``failed`` and a one-line
reason. Nothing is published unless every source was extracted and the pipeline ran: the store
publishes in one transaction, so a failure at any point leaves the last version serving.

Seams for later issues: :data:`Decide` — change detection and approval (hold threshold,
preview) plug in between the pipeline and the publish; by default the candidate is published.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import polars as pl

from rostersync.config import DistrictConfig, validate_config
from rostersync.connectors import ProgressCallback, ProgressEvent
from rostersync.errors import FatalError, RostersyncError
from rostersync.logs import get_logger
from rostersync.model import ENTITY_TYPES, Roster
from rostersync.pipeline import run_pipeline
from rostersync.settings import Settings
from rostersync.store import RosterVersion, Store
from rostersync.sync.sources import connector_for

log = get_logger("sync")

#: Decides what happens to a candidate roster: returns the published version (or None when
#: the run was held). Default: publish it.
Decide = Callable[[Store, int, int, Roster], RosterVersion | None]

#: Per-source hook for tests and benchmarks: a client to use instead of a new one.
ClientFactory = Callable[[str], httpx.AsyncClient | None]

#: The summary lines an admin sees: label → (canonical table, row filter)
SUMMARY: tuple[tuple[str, str, pl.Expr | None], ...] = (
    ("schools", "orgs", pl.col("type") == "school"),
    ("sessions", "academicSessions", None),
    ("courses", "courses", None),
    ("classes", "classes", None),
    ("enrollments", "enrollments", None),
    ("students", "users", ENTITY_TYPES["student"].mask()),
    ("contacts", "users", ENTITY_TYPES["contact"].mask()),
    ("teachers", "users", ENTITY_TYPES["teacher"].mask()),
    ("admins", "users", ENTITY_TYPES["admin"].mask()),
)


def summarize(roster: Mapping[str, pl.DataFrame]) -> dict[str, int]:
    """The admin's per-entity counts of a roster."""
    out: dict[str, int] = {}
    for label, table, mask in SUMMARY:
        frame = roster.get(table)
        if frame is None:
            out[label] = 0
        elif mask is None:
            out[label] = frame.height
        else:
            out[label] = int(frame.filter(mask).height)
    return out


@dataclass
class SyncOutcome:
    """What a run did."""

    run_id: int
    district_id: int
    status: str
    version: int | None = None
    summary: dict[str, int] = field(default_factory=dict)
    version_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    phases: dict[str, Any] = field(default_factory=dict)
    extract: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "district_id": self.district_id,
            "status": self.status,
            "version": self.version,
            "summary": self.summary,
            "version_counts": self.version_counts,
            "phases": self.phases,
            "extract": self.extract,
            "report": self.report,
            "error": self.error,
        }


def _publish(store: Store, district_id: int, run_id: int, roster: Roster) -> RosterVersion:
    return store.publish(district_id, roster, run_id=run_id, note=f"sync run {run_id}")


def _now() -> datetime:
    return datetime.now(UTC)


def ensure_district(store: Store, config: DistrictConfig) -> int:
    """The district of the configuration, created (with its sources) on first use."""
    try:
        district = store.get_district(config.district)
    except RostersyncError:
        district = store.create_district(config.district)
    known = {s.name for s in store.list_sources(district.id)}
    for source in config.sources:
        if source.name not in known:
            store.add_source(district.id, source.name, source.app)
    return district.id


def save_config(store: Store, district_id: int, config: DistrictConfig, created_by: str) -> int:
    """Store the configuration as a new version unless it equals the latest one."""
    body = config.model_dump(mode="json", exclude_none=True)
    try:
        version, latest = store.get_config_version(district_id)
        if latest == body:
            return version
    except RostersyncError:
        pass
    return store.save_config_version(district_id, body, created_by=created_by)


async def extract_all(
    config: DistrictConfig,
    settings: Settings,
    *,
    progress: ProgressCallback | None = None,
    client_factory: ClientFactory | None = None,
) -> tuple[dict[str, Roster], dict[str, Any]]:
    """Every source's canonical roster, extracted concurrently; stats per source."""

    async def one(index: int) -> tuple[str, Roster, dict[str, Any]]:
        source = config.sources[index]
        given = client_factory(source.name) if client_factory else None
        connector, client = connector_for(source, settings, given, index=index)
        scope = (
            None
            if source.schools_mapping == "auto"
            else [m.source_id for m in source.schools_mapping]
        )

        def relay(event: ProgressEvent) -> None:
            if progress is not None:
                label = (
                    event.entity if len(config.sources) == 1 else f"{source.name}: {event.entity}"
                )
                progress(
                    ProgressEvent(
                        label, event.records, event.pages_done, event.pages_total, event.finished
                    )
                )

        try:
            result = await connector.extract(scope, progress=relay)
        finally:
            if given is None:
                await client.aclose()
        return source.name, result.roster, result.stats

    results = await asyncio.gather(*(one(i) for i in range(len(config.sources))))
    return {n: r for n, r, _ in results}, {n: s for n, _, s in results}


def sync_config(
    store: Store,
    config: DistrictConfig,
    settings: Settings,
    *,
    trigger: str = "manual",
    run_id: int | None = None,
    progress: ProgressCallback | None = None,
    client_factory: ClientFactory | None = None,
    decide: Decide | None = None,
    created_by: str = "cli",
) -> SyncOutcome:
    """Run one sync of ``config``; raises the run's error after recording it as failed."""
    district_id = ensure_district(store, config)
    config_version = save_config(store, district_id, config, created_by)
    if run_id is None:
        source_label = ",".join(s.name for s in config.sources)
        run_id = store.create_run(district_id, trigger=trigger, source=source_label)
    store.update_run(run_id, status="running", started_at=_now(), heartbeat_at=_now())
    outcome = SyncOutcome(run_id, district_id, "running")
    phases: dict[str, Any] = {"config_version": config_version}
    started = time.perf_counter()
    phase = "extract"
    try:
        t0 = time.perf_counter()
        rosters, stats = asyncio.run(
            extract_all(config, settings, progress=progress, client_factory=client_factory)
        )
        phases["extract"] = {"seconds": round(time.perf_counter() - t0, 3)}
        outcome.extract = stats
        store.update_run(
            run_id,
            phases=phases,
            heartbeat_at=_now(),
            counts={
                "extracted": {n: {t: f.height for t, f in r.items()} for n, r in rosters.items()}
            },
        )

        phase = "pipeline"
        t0 = time.perf_counter()
        candidate, report = run_pipeline(rosters, config)
        phases["pipeline"] = {"seconds": round(time.perf_counter() - t0, 3)}
        outcome.report = {"summary": report.summary()}
        outcome.summary = summarize(candidate)
        store.update_run(run_id, phases=phases, heartbeat_at=_now(), report=outcome.report)

        phase = "publish"
        t0 = time.perf_counter()
        version = (decide or _publish)(store, district_id, run_id, candidate)
        phases["publish"] = {"seconds": round(time.perf_counter() - t0, 3)}
    except BaseException as exc:
        phases[phase] = {"failed": True}
        phases["total_seconds"] = round(time.perf_counter() - started, 3)
        message = (
            str(exc)
            if isinstance(exc, RostersyncError)
            else (f"unexpected {type(exc).__name__} during {phase}: {exc}")
        )
        if isinstance(exc, KeyboardInterrupt):
            message = f"interrupted during {phase}"
        store.update_run(run_id, status="failed", error=message, phases=phases, finished_at=_now())
        log.warning("sync failed", run=run_id, phase=phase, error=message)
        if isinstance(exc, RostersyncError | KeyboardInterrupt):
            raise
        raise FatalError(message) from exc
    phases["total_seconds"] = round(time.perf_counter() - started, 3)
    outcome.phases = phases
    if version is None:
        outcome.status = "held"
        store.update_run(run_id, phases=phases)
        return outcome
    outcome.status = "succeeded"
    outcome.version = version.version
    outcome.version_counts = {name: counts.as_dict() for name, counts in version.counts.items()}
    store.update_run(
        run_id,
        status="succeeded",
        finished_at=_now(),
        phases=phases,
        roster_version=version.version,
        counts={"published": outcome.version_counts, "summary": outcome.summary},
    )
    log.info("sync published", run=run_id, version=version.version)
    return outcome


def run_sync(
    store: Store,
    district_id: int,
    source: str | None = None,
    *,
    trigger: str = "manual",
    run_id: int | None = None,
    settings: Settings | None = None,
) -> SyncOutcome:
    """Sync a district from its latest saved configuration (the scheduler's entry point).

    Every source of the configuration is extracted, since the published roster merges them;
    ``source`` names the source that asked for the run and is kept on the run record.
    """
    from rostersync.settings import load_settings

    version, body = store.get_config_version(district_id)
    config = validate_config(body, f"district {district_id} configuration v{version}")
    if source is not None and source not in {s.name for s in config.sources}:
        raise FatalError(f"source {source!r} is not in the district's configuration")
    return sync_config(
        store,
        config,
        settings or load_settings(),
        trigger=trigger,
        run_id=run_id,
        created_by="scheduler",
    )
