"""Districts (tenants): create, list, show, and delete with a purge of everything they own.

Deleting a district removes its roster (every version and row), runs with their events, change
sets and reports on disk, configuration versions, sources, API clients (and their OAuth nonces),
schedules, overrides and notification log — in one database transaction, while holding the
district's run lock so that no sync can start or be running. The audit log is append-only: its
rows stay (their district reference becomes NULL, as its foreign key says) and the deletion is
itself audited with what was removed.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rostersync.manage.sis_preview import district_extractions
from rostersync.schedule.locks import RunLocks
from rostersync.store import District, Store
from rostersync.store.schema import (
    api_clients,
    config_versions,
    districts,
    partition_name,
    roster_tables,
    roster_versions,
    run_locks,
    runs,
)

#: Tables a district deletion leaves alone: the append-only audit log, and the districts table
#: itself (its row goes last, after everything that refers to it).
KEPT_TABLES = frozenset({"audit_log", "districts"})
_PARTITION = re.compile(r"_d(\d+)$")


@dataclass(frozen=True)
class DistrictSummary:
    """A district with what it holds."""

    district: District
    current_version: int | None
    versions: int
    runs: int
    api_clients: int
    config_version: int | None

    def as_dict(self) -> dict[str, Any]:
        d = self.district
        return {
            "id": d.id,
            "name": d.name,
            "slug": d.slug,
            "created_at": d.created_at.isoformat(),
            "current_version": self.current_version,
            "versions": self.versions,
            "runs": self.runs,
            "api_clients": self.api_clients,
            "config_version": self.config_version,
        }


@dataclass(frozen=True)
class DistrictDeleted:
    """What deleting a district removed: rows per table, and report directories."""

    district: District
    rows: dict[str, int] = field(default_factory=dict)
    reports_removed: list[str] = field(default_factory=list)
    #: Report directories that could not be removed (with the reason): delete them by hand.
    reports_left: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.district.id,
            "name": self.district.name,
            "rows": dict(sorted(self.rows.items())),
            "reports_removed": self.reports_removed,
            "reports_left": self.reports_left,
        }


def create_district(store: Store, actor: str, name: str) -> District:
    """Create a district (its slug derived from the name) and audit it."""
    district = store.create_district(name)
    store.audit(actor, "district.create", district.id, name=district.name)
    return district


def list_districts(store: Store) -> list[District]:
    return store.list_districts()


def _count(conn: sa.Connection, table: sa.Table, district_id: int) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.district_id == district_id)
        ).scalar_one()
    )


def show_district(store: Store, key: str | int) -> DistrictSummary:
    """A district by id, name or slug, with its current version and what it holds."""
    district = store.get_district(key)
    with store.engine.connect() as conn:
        config = conn.execute(
            sa.select(sa.func.max(config_versions.c.version)).where(
                config_versions.c.district_id == district.id
            )
        ).scalar_one()
        return DistrictSummary(
            district,
            store.current_version(district.id),
            _count(conn, roster_versions, district.id),
            _count(conn, runs, district.id),
            _count(conn, api_clients, district.id),
            None if config is None else int(config),
        )


def _tables(conn: sa.Connection) -> dict[str, sa.TableClause]:
    """Every table of the database with its column names (a table another package or a later
    migration adds is purged too, if it has a ``district_id`` or a ``run_id``)."""
    inspector = sa.inspect(conn)
    return {
        name: sa.table(name, *(sa.column(c["name"]) for c in inspector.get_columns(name)))
        for name in inspector.get_table_names()
    }


def _purge(conn: sa.Connection, district_id: int, run_ids: list[int]) -> dict[str, int]:
    """Delete every row of the district (not the audit log, not the district's own row)."""
    removed: dict[str, int] = {}
    tables = _tables(conn)
    postgres = conn.dialect.name == "postgresql"
    own_partitions = {partition_name(e, district_id) for e in roster_tables}

    def note(name: str, count: int) -> None:
        if count:
            removed[name] = removed.get(name, 0) + count

    # OAuth 1.0a nonces are keyed by client, not district.
    nonces = tables.get("oauth_nonces")
    if nonces is not None:
        ids = sa.select(api_clients.c.client_id).where(api_clients.c.district_id == district_id)
        note(
            "oauth_nonces",
            conn.execute(nonces.delete().where(nonces.c.client_id.in_(ids))).rowcount,
        )
    # Tables about runs (events, change sets, their frames) before the runs themselves.
    for name, table in sorted(tables.items()):
        cols = table.c
        if "run_id" in cols and "district_id" not in cols and run_ids:
            for chunk in range(0, len(run_ids), 500):
                part = run_ids[chunk : chunk + 500]
                note(name, conn.execute(table.delete().where(cols.run_id.in_(part))).rowcount)
    drop: list[sa.TableClause] = []
    for name, table in sorted(tables.items()):
        if name in KEPT_TABLES or name in ("runs", "run_locks") or "district_id" not in table.c:
            continue
        if postgres and _PARTITION.search(name):
            if name in own_partitions:
                drop.append(table)
            continue  # another district's partition (its CHECK excludes this district)
        note(name, conn.execute(table.delete().where(table.c.district_id == district_id)).rowcount)
    note("runs", conn.execute(runs.delete().where(runs.c.district_id == district_id)).rowcount)
    # PostgreSQL: the district's partitions of the roster tables are dropped whole (their rows
    # counted), last: dropping one locks its roster table until the commit that follows.
    for table in drop:
        count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        note(table.name.rsplit("_d", 1)[0], int(count))
        conn.exec_driver_sql(f'DROP TABLE "{table.name}"')
    return removed


def delete_district(
    store: Store, actor: str, key: str | int, *, reports_dir: Path | None = None
) -> DistrictDeleted:
    """Delete a district and purge everything it owns; refused while a sync holds its lock.

    ``reports_dir`` is the directory of run reports (``<data dir>/reports``): each run's
    ``run-<id>`` directory there is removed after the database transaction commits.
    """
    district = store.get_district(key)
    locks = RunLocks(store.engine)
    # Taking the run lock refuses (RunInProgress, naming the run) while a sync holds it, and
    # keeps any sync from starting until the purge has committed; the purge deletes the lock.
    lock = locks.try_acquire(
        district.id, "district.delete", trigger="delete", district_name=district.name
    )
    try:
        with store.engine.begin() as conn:
            run_ids = [
                int(r)
                for r in conn.scalars(sa.select(runs.c.id).where(runs.c.district_id == district.id))
            ]
            removed = _purge(conn, district.id, run_ids)
            conn.execute(run_locks.delete().where(run_locks.c.district_id == district.id))
            conn.execute(districts.delete().where(districts.c.id == district.id))
    finally:
        locks.release(lock)  # a no-op once the purge committed (the lock went with it)
    reports: list[str] = []
    failed: list[str] = []
    if reports_dir is not None:
        # the wizard's last extractions of the district (records of its pupils) go with it
        extractions = district_extractions(reports_dir.parent, district.id)
        for directory in (*(reports_dir / f"run-{r}" for r in run_ids), extractions):
            if not directory.is_dir():
                continue
            try:
                shutil.rmtree(directory)
            except OSError as exc:  # the rows are gone already: say what is left, go on
                failed.append(f"{directory}: {exc.strerror or exc}")
            else:
                reports.append(str(directory))
    store.audit(
        actor,
        "district.delete",
        None,
        deleted_district_id=district.id,
        name=district.name,
        rows=removed,
        reports=len(reports),
        reports_left=failed,
    )
    return DistrictDeleted(district, removed, reports, failed)
