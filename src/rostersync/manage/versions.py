"""Roster versions of a district: list, compare two, and roll back (a new version)."""

from __future__ import annotations

from rostersync.errors import ConfigurationError
from rostersync.store import RosterVersion, Store, VersionDiff

#: The most versions one page lists.
MAX_PAGE = 1000


def list_versions(
    store: Store, district: str | int, *, limit: int | None = None, before: int | None = None
) -> list[RosterVersion]:
    """A district's published roster versions, newest first (a page: ``limit`` of them, 1 to
    1000, numbered below ``before``; None: every one)."""
    if limit is not None and not 1 <= limit <= MAX_PAGE:
        raise ConfigurationError(
            f"--limit: {limit} is out of range", setting="--limit", hint=f"give 1 to {MAX_PAGE}"
        )
    return store.list_versions(store.get_district(district).id, limit=limit, before=before)


def diff_versions(store: Store, district: str | int, a: int, b: int) -> dict[str, VersionDiff]:
    """What changed from version ``a`` to version ``b``, per entity."""
    return store.diff_versions(store.get_district(district).id, a, b)


def rollback_version(store: Store, actor: str, district: str | int, version: int) -> RosterVersion:
    """Publish version ``version``'s content as a new version (history is never rewritten)."""
    d = store.get_district(district)
    current = store.current_version(d.id)
    new = store.restore(d.id, version, note=f"rollback to version {version}")
    store.audit(actor, "roster.rollback", d.id, to=version, was=current, new_version=new.version)
    return new
