"""Configuration versions of a district: list, show, compare, and restore an earlier one.

Every configuration a sync reads is stored as the district's next version; nothing is ever
overwritten. Restoring version N saves N's content as a new version, so the history keeps the
restore itself (and it can be undone the same way).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from rostersync.clock import as_utc
from rostersync.errors import VersionNotFound
from rostersync.store import Store
from rostersync.store.schema import config_versions


@dataclass(frozen=True)
class ConfigVersionInfo:
    """One stored configuration version (its body with :func:`get_config_version`)."""

    district_id: int
    version: int
    created_at: datetime
    created_by: str
    comment: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "district_id": self.district_id,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "comment": self.comment,
        }


@dataclass(frozen=True)
class ConfigChange:
    """One difference between two configurations, at a path such as ``sources[0].name``."""

    path: str
    kind: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class ConfigDiff:
    """What changed from version ``a`` to version ``b``: structured, and as a unified diff."""

    district_id: int
    a: int
    b: int
    changes: list[ConfigChange]
    unified: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "district_id": self.district_id,
            "a": self.a,
            "b": self.b,
            "changes": [c.as_dict() for c in self.changes],
            "unified": self.unified,
        }


def _info(row: Any) -> ConfigVersionInfo:
    created = as_utc(row.created_at)
    return ConfigVersionInfo(row.district_id, row.version, created, row.created_by, row.comment)


def list_config_versions(store: Store, district: str | int) -> list[ConfigVersionInfo]:
    """A district's configuration versions, newest first."""
    d = store.get_district(district)
    c = config_versions.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(c.district_id, c.version, c.created_at, c.created_by, c.comment)
            .where(c.district_id == d.id)
            .order_by(c.version.desc())
        ).all()
    return [_info(r) for r in rows]


def get_config_version(
    store: Store, district: str | int, version: int | None = None
) -> tuple[ConfigVersionInfo, dict[str, Any]]:
    """One version (None: the newest) with its body; :class:`VersionNotFound` naming it."""
    d = store.get_district(district)
    c = config_versions.c
    stmt = sa.select(config_versions).where(c.district_id == d.id)
    if version is None:
        stmt = stmt.order_by(c.version.desc()).limit(1)
    else:
        stmt = stmt.where(c.version == version)
    with store.engine.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        what = (
            "has no saved configuration" if version is None else f"has no config version {version}"
        )
        raise VersionNotFound(
            f"District {d.name!r} {what}",
            hint=f"see `rostersync config versions -d {d.slug}`",
        )
    return _info(row), json.loads(row.body)


def _walk(old: Any, new: Any, path: str) -> Iterator[ConfigChange]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in new:
                yield ConfigChange(sub, "removed", old[key], None)
            elif key not in old:
                yield ConfigChange(sub, "added", None, new[key])
            else:
                yield from _walk(old[key], new[key], sub)
    elif isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            sub = f"{path}[{i}]"
            if i >= len(new):
                yield ConfigChange(sub, "removed", old[i], None)
            elif i >= len(old):
                yield ConfigChange(sub, "added", None, new[i])
            else:
                yield from _walk(old[i], new[i], sub)
    elif old != new or type(old) is not type(new):
        yield ConfigChange(path or "(root)", "changed", old, new)


def _text(body: dict[str, Any]) -> list[str]:
    return json.dumps(body, indent=2, sort_keys=True, default=str).splitlines(keepends=True)


def diff_config_versions(store: Store, district: str | int, a: int, b: int) -> ConfigDiff:
    """The differences from version ``a`` to version ``b`` of a district's configuration."""
    info_a, body_a = get_config_version(store, district, a)
    _, body_b = get_config_version(store, district, b)
    changes = list(_walk(body_a, body_b, ""))
    unified = "".join(
        difflib.unified_diff(
            _text(body_a),
            _text(body_b),
            fromfile=f"config version {a}",
            tofile=f"config version {b}",
        )
    )
    return ConfigDiff(info_a.district_id, a, b, changes, unified)


def restore_config_version(
    store: Store, actor: str, district: str | int, version: int
) -> ConfigVersionInfo:
    """Save version ``version``'s content as the district's newest version; audited."""
    info, body = get_config_version(store, district, version)
    newest, _ = get_config_version(store, district)
    number = store.save_config_version(
        info.district_id, body, created_by=actor, comment=f"restore of version {version}"
    )
    store.audit(
        actor, "config.restore", info.district_id, restored=version, was=newest.version, new=number
    )
    restored, _ = get_config_version(store, district, number)
    return restored
