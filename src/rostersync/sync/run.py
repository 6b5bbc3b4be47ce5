"""One sync run: load configuration → extract every source → pipeline → change flow → publish.

The run is recorded in the store from the start (phases with timings, counts, the pipeline's
report) and ends with a new roster version, with no change (the current version stays and the
run says ``unchanged``), held for approval, or with status ``failed`` and a one-line reason.
Nothing is published unless every source was extracted and the pipeline ran: the store publishes
in one transaction, so a failure at any point leaves the last version serving.

By default the candidate goes through the change flow (:func:`rostersync.sync.wiring.decide_for`:
source health → diff against the last accepted version → rollover windows → hold threshold /
preview → publish or hold → notify). :data:`Decide` is the seam a caller may replace. A failure
before the change step (configuration, extract, pipeline) sends the "failed" notification too.
Interrupted runs of the district (their process was killed) are settled first
(:mod:`rostersync.sync.recovery`). The pipeline gets the kept identity decisions and the last
published roster to re-link against; the re-links it finds are kept once the candidate is
published or held (:mod:`rostersync.sync.links`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import polars as pl

from rostersync import fsutil
from rostersync.admin.secrets import lookup_for
from rostersync.clock import utcnow
from rostersync.config import DistrictConfig, config_document, validate_config
from rostersync.connectors import Baseline, Extraction, ProgressCallback, ProgressEvent
from rostersync.errors import ConfigurationError, FatalError, RostersyncError
from rostersync.liveness import process_identity
from rostersync.logs import get_logger
from rostersync.model import ENTITY_TYPES, Roster
from rostersync.pipeline import run_pipeline
from rostersync.settings import Settings
from rostersync.store import RosterVersion, Store
from rostersync.sync import ledger, writeback, writeback_read
from rostersync.sync.events import RunEvent, RunEvents
from rostersync.sync.incremental import load_baselines, save_baselines
from rostersync.sync.links import PublishedVersion, keep_relinks, read_decisions
from rostersync.sync.recovery import recover_interrupted_runs
from rostersync.sync.sources import connector_for
from rostersync.sync.states import RunStatus
from rostersync.sync.wiring import decide_for, notifier_for, notify_failure

log = get_logger("sync")

#: Decides what happens to a candidate roster, given the health problems the connectors
#: reported: returns the published version (or None when the run was held).
Decide = Callable[[Store, int, int, Roster, Sequence[str]], RosterVersion | None]

#: Per-source hook for tests and benchmarks: a client to use instead of a new one. The client
#: belongs to the run's event loop, so the run closes it when the source is extracted.
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
    #: True when nothing changed: the current version stays (``version`` is that version).
    unchanged: bool = False
    #: The change flow's summary (base version, per-entity added/updated/deleted, trips…).
    changes: dict[str, Any] = field(default_factory=dict)
    #: Why a held run waits for approval (the limits that tripped, preview).
    hold_reasons: list[str] = field(default_factory=list)
    trigger: str = "manual"

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "district_id": self.district_id,
            "status": self.status,
            "unchanged": self.unchanged,
            "version": self.version,
            "trigger": self.trigger,
            "changes": self.changes,
            "hold_reasons": self.hold_reasons,
            "summary": self.summary,
            "version_counts": self.version_counts,
            "phases": self.phases,
            "extract": self.extract,
            "report": self.report,
            "error": self.error,
        }


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
    body = config_document(config)
    try:
        version, latest = store.get_config_version(district_id)
        if latest == body:
            return version
    except RostersyncError:
        pass
    return store.save_config_version(district_id, body, created_by=created_by)


#: How many listed records the run's ``report.json`` keeps (the CSV files keep them all).
REPORT_JSON_RECORDS = 10_000


def write_report(report: Any, settings: Settings, run_id: int) -> str | None:
    """Write the pipeline's report (``report.json`` and CSV files) to the run's directory under
    the data directory; returns the directory, or None when it could not be written (the run
    goes on: the summary is kept on the run record too)."""
    try:
        # Reports list pupils' records: private directories and files (see rostersync.fsutil).
        reports = fsutil.private_dir(settings.ensure_data_dir() / "reports")
        directory = fsutil.private_dir(reports / f"run-{run_id}")
        report.write_csv(directory)
        text = report.to_json(indent=2, max_records=REPORT_JSON_RECORDS)
        fsutil.atomic_write(directory / "report.json", text)
        fsutil.narrow_files(directory)
    except (OSError, ConfigurationError) as exc:
        log.warning("run report not written", run=run_id, error=str(exc))
        return None
    return str(directory)


def health_reasons(name: str, result: Extraction, *, several: bool) -> list[str]:
    """The problems a connector reported about its extraction (counts announced vs
    received…), prefixed with the source's name when the district has several sources."""
    found = result.health.reasons()
    return [f"{name}: {r}" for r in found] if several else found


async def extract_all(
    config: DistrictConfig,
    settings: Settings,
    *,
    progress: ProgressCallback | None = None,
    client_factory: ClientFactory | None = None,
    health: list[str] | None = None,
    store_lookup: Callable[[str], str | None] | None = None,
    baselines: dict[str, Baseline | None] | None = None,
) -> tuple[dict[str, Roster], dict[str, Any]]:
    """Every source's canonical roster, extracted concurrently; stats per source. The
    connectors' health problems are appended to ``health``. An incremental source (one named
    in ``baselines``) folds its changes into its baseline, replaced by the one it returns."""

    async def one(index: int) -> tuple[str, Roster, dict[str, Any]]:
        source = config.sources[index]
        given = client_factory(source.name) if client_factory else None
        connector, client = connector_for(
            source, settings, given, index=index, store_lookup=store_lookup
        )
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
            if baselines is not None and source.name in baselines:
                result = await connector.extract(  # type: ignore[call-arg]
                    scope, progress=relay, baseline=baselines[source.name]
                )
                baselines[source.name] = result.baseline
            else:
                result = await connector.extract(scope, progress=relay)
        finally:
            await client.aclose()
        if health is not None:
            health.extend(health_reasons(source.name, result, several=len(config.sources) > 1))
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
    """Run one sync of ``config``; raises the run's error after recording it as failed.

    ``decide`` defaults to the change flow (:func:`rostersync.sync.wiring.decide_for`).
    Returns with ``status`` ``succeeded`` (``unchanged`` when nothing changed) or ``held``.
    """
    district_id = ensure_district(store, config)
    secrets = lookup_for(store, settings, district_id)  # store:NAME references of this district
    recovered = recover_interrupted_runs(store, district_id)
    if recovered:
        log.warning("interrupted runs recovered", runs=recovered)
    config_version = save_config(store, district_id, config, created_by)
    if run_id is None:
        source_label = ",".join(s.name for s in config.sources)
        run_id = store.create_run(district_id, trigger=trigger, source=source_label)
    start: dict[str, Any] = {
        "started_at": utcnow(),
        "heartbeat_at": utcnow(),
        "owner": process_identity(),
    }
    if store.get_run(run_id).status == RunStatus.RUNNING:  # the runner started it under its lock
        ledger.record(store, run_id, **start)
    else:
        ledger.transition(store, run_id, RunStatus.RUNNING, **start)
    outcome = SyncOutcome(run_id, district_id, "running", trigger=trigger)
    if decide is None:
        decide = decide_for(config, settings, trigger=trigger, store_lookup=secrets)
    phases: dict[str, Any] = {"config_version": config_version}
    events = RunEvents(store.engine, run_id)

    def relay(event: ProgressEvent) -> None:
        events.emit(
            RunEvent(
                "progress",
                f"{event.entity}: {event.records:,} records, {event.pages_done} pages"
                + (" (done)" if event.finished else ""),
                phase="extract",
                entity=event.entity,
                data={
                    "records": event.records,
                    "pages_done": event.pages_done,
                    "pages_total": event.pages_total,
                    "finished": event.finished,
                },
            )
        )
        if progress is not None:
            progress(event)

    started = time.perf_counter()
    phase = "extract"
    t0 = time.perf_counter()
    try:
        events.phase_started(phase)
        if writeback.two_way(config):  # refused before anything is read: no grade sync granted
            writeback.check_access(config, settings, store_lookup=secrets)
        health: list[str] = []
        baselines = load_baselines(store, district_id, config)
        rosters, stats = asyncio.run(
            extract_all(
                config,
                settings,
                progress=relay,
                client_factory=client_factory,
                health=health,
                store_lookup=secrets,
                baselines=baselines,
            )
        )
        save_baselines(store, district_id, baselines, run_id)
        phases["extract"] = {"seconds": round(time.perf_counter() - t0, 3)}
        modes = {n: s["incremental"] for n, s in stats.items() if "incremental" in s}
        if modes:  # how each incremental source was read, and why a full pull when it was
            phases["extract"]["incremental"] = modes
        events.phase_finished(phase, time.perf_counter() - t0)
        for problem in health:
            events.warning(problem, phase=phase)
        outcome.extract = stats
        ledger.record(
            store,
            run_id,
            phases=phases,
            heartbeat_at=utcnow(),
            counts={
                "extracted": {n: {t: f.height for t, f in r.items()} for n, r in rosters.items()}
            },
        )

        phase = "pipeline"
        t0 = time.perf_counter()
        events.phase_started(phase)
        previous = (
            PublishedVersion.current(store, district_id) if config.relinking.enabled else None
        )
        candidate, report = run_pipeline(
            rosters, config, previous=previous, decisions=read_decisions(store, district_id)
        )
        phases["pipeline"] = {"seconds": round(time.perf_counter() - t0, 3)}
        events.phase_finished(phase, time.perf_counter() - t0)
        outcome.report = {
            "summary": report.summary(),
            "files": write_report(report, settings, run_id),
        }
        outcome.summary = summarize(candidate)
        ledger.record(store, run_id, phases=phases, heartbeat_at=utcnow(), report=outcome.report)

        phase = "changes"
        t0 = time.perf_counter()
        events.phase_started(phase)
        version = decide(store, district_id, run_id, candidate, health)
        events.phase_finished(phase, time.perf_counter() - t0)
    except BaseException as exc:
        phases[phase] = {"failed": True}
        events.phase_finished(phase, time.perf_counter() - t0, failed=True)
        phases["total_seconds"] = round(time.perf_counter() - started, 3)
        message = (
            str(exc)
            if isinstance(exc, RostersyncError)
            else (f"unexpected {type(exc).__name__} during {phase}: {exc}")
        )
        if isinstance(exc, KeyboardInterrupt):
            message = f"interrupted during {phase}"
        ledger.transition(
            store,
            run_id,
            RunStatus.FAILED,
            error=message,
            phases={**store.get_run(run_id).phases, **phases},
            finished_at=utcnow(),
        )
        log.warning("sync failed", run=run_id, phase=phase, error=message)
        events.decision("failed", [message])
        if phase != "changes":  # the change flow tells about the failures it finds itself
            notify_failure(
                notifier_for(config, settings, store, district_id, store_lookup=secrets),
                store,
                run_id,
                [f"{phase}: {message}"],
                trigger=trigger,
            )
        if isinstance(exc, RostersyncError | KeyboardInterrupt):
            raise
        raise FatalError(message) from exc
    if report.links is not None and report.links.height:
        # Published or held: the re-links stay in force for the next syncs (reversible). Should
        # keeping them fail, the publish stands and the next sync finds them again.
        try:
            kept = keep_relinks(store, district_id, run_id, report.links)
            events.warning(
                f"{kept} records re-linked: their IDs changed in the source", phase=phase
            )
        except Exception as exc:
            log.warning("re-links not kept", run=run_id, error=str(exc).splitlines()[0])
    record = store.get_run(run_id)
    phases = {**phases, **record.phases}
    phases["total_seconds"] = round(time.perf_counter() - started, 3)
    outcome.phases = phases
    outcome.changes = dict(record.change_summary or {})
    if version is None:
        outcome.status = "held"
        outcome.hold_reasons = list(outcome.changes.get("hold_reasons", []))
        ledger.record(store, run_id, phases=phases)
        events.decision("held", outcome.hold_reasons)
        log.info("sync held", run=run_id, reasons=outcome.hold_reasons)
        return outcome
    outcome.status = "succeeded"
    outcome.version = version.version
    outcome.unchanged = bool(outcome.changes.get("unchanged"))
    counts: dict[str, Any] = {"summary": outcome.summary}
    if outcome.unchanged:
        counts["unchanged"] = True
    else:
        outcome.version_counts = {n: c.as_dict() for n, c in version.counts.items()}
        counts["published"] = outcome.version_counts
    ledger.record(
        store,
        run_id,
        finished_at=record.finished_at or utcnow(),
        phases=phases,
        roster_version=version.version,
        counts=counts,
    )
    events.decision("unchanged" if outcome.unchanged else "published", [], version=version.version)
    if outcome.unchanged:
        log.info("sync unchanged: the current version stays", run=run_id, version=version.version)
    else:
        log.info("sync published", run=run_id, version=version.version)
    if writeback.two_way(config):  # 2-way: the gradebook goes back to the SIS after the roster
        writeback.after_sync(store, config, settings, events, store_lookup=secrets)
    writeback_read.import_gradebook(store, config, settings, events, store_lookup=secrets)
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
    try:
        config = validate_config(body, f"district {district_id} configuration v{version}")
    except ConfigurationError as exc:
        if run_id is not None:
            _notify_invalid_config(store, body, run_id, str(exc), trigger, settings)
        raise
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


def _notify_invalid_config(
    store: Store,
    body: Mapping[str, Any],
    run_id: int,
    message: str,
    trigger: str,
    settings: Settings | None,
) -> None:
    """Tell the admins a scheduled run failed on its configuration, when the configuration's
    ``notifications`` section can still be read."""
    from types import SimpleNamespace

    from rostersync.settings import load_settings

    try:
        holder = SimpleNamespace(notifications=body.get("notifications"))
        run = store.get_run(run_id)
        settings = settings or load_settings()
        notifier = notifier_for(
            holder,
            settings,
            store,
            run.district_id,
            store_lookup=lookup_for(store, settings, run.district_id),
        )
    except Exception:  # the section itself is broken: the run record says why
        return
    notify_failure(notifier, store, run_id, [f"configuration: {message}"], trigger=trigger)
