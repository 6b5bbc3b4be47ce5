"""One sync run: load configuration → extract → pipeline → publish, recorded in the store.

Public API: :func:`sync_config` (a configuration file's run), :func:`run_sync` (the scheduler's
entry point: a district's saved configuration), :class:`SyncOutcome`, :func:`summarize`.
Loaded on first use, so the small modules (:mod:`.liveness`, :mod:`.recovery`) import without
the connectors and the pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rostersync.sync.run import SyncOutcome, extract_all, run_sync, summarize, sync_config

__all__ = ["SyncOutcome", "extract_all", "run_sync", "summarize", "sync_config"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from rostersync.sync import run

        return getattr(run, name)
    raise AttributeError(f"module 'rostersync.sync' has no attribute {name!r}")
