"""The store: metadata database and the versioned published roster (SQLite or PostgreSQL).

Public API: :class:`Store`, :func:`open_store`, :func:`make_engine`, the record types, and the
schema's migrations (:func:`head_revision`, :func:`alembic_config`, :func:`migrate`).
"""

from rostersync.store._migrate import alembic_config, head_revision
from rostersync.store._migrate import upgrade as migrate
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
    "alembic_config",
    "head_revision",
    "make_engine",
    "migrate",
    "open_store",
    "slugify",
]
