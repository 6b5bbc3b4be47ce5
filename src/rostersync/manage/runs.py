"""Runs of a district: list them and show one (the run's record, written by its owner, sync)."""

from __future__ import annotations

from rostersync.errors import ConfigurationError, VersionNotFound
from rostersync.store import RunRecord, Store

#: The most runs one listing returns (the CLI's and the HTTP API's bound).
MAX_LIMIT = 1000


def list_runs(store: Store, district: str | int, limit: int = 20) -> list[RunRecord]:
    """A district's runs, newest first (at most ``limit``, 1 to 1000)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ConfigurationError(
            f"--limit: {limit} is out of range", setting="--limit", hint=f"give 1 to {MAX_LIMIT}"
        )
    return store.list_runs(store.get_district(district).id, limit=limit)


def show_run(store: Store, run_id: int, district: str | int | None = None) -> RunRecord:
    """One run; with ``district``, only if it is that district's, else the very answer a run that
    does not exist gets (a caller limited to one district must not learn others' run ids)."""
    if district is None:
        return store.get_run(run_id)
    try:
        run = store.get_run(run_id)
    except VersionNotFound:
        run = None
    if run is None or run.district_id != store.get_district(district).id:
        raise VersionNotFound(f"Run {run_id} does not exist", hint="list the district's runs")
    return run
