"""The store: metadata database and the versioned published roster (SQLite or PostgreSQL).

Public API: :class:`Store`, :func:`open_store`, :func:`make_engine` and the record types.
"""

from rostersync.store._roster import DEFAULT_BATCH_SIZE
from rostersync.store._store import Store, open_store, slugify
from rostersync.store.engine import make_engine
from rostersync.store.records import (
    AuditEntry,
    District,
    EntityCounts,
    RosterVersion,
    RunRecord,
    Source,
    VersionDiff,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "AuditEntry",
    "District",
    "EntityCounts",
    "RosterVersion",
    "RunRecord",
    "Source",
    "Store",
    "VersionDiff",
    "make_engine",
    "open_store",
    "slugify",
]
