"""One sync run: load configuration → extract → pipeline → publish, recorded in the store.

Public API: :func:`sync_config` (a configuration file's run), :func:`run_sync` (the scheduler's
entry point: a district's saved configuration), :class:`SyncOutcome`, :func:`summarize`.
"""

from __future__ import annotations

from rostersync.sync.run import SyncOutcome, extract_all, run_sync, summarize, sync_config

__all__ = ["SyncOutcome", "extract_all", "run_sync", "summarize", "sync_config"]
