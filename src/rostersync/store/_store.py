"""The store: districts, sources, configuration versions, runs, change sets, audit log, and
(through :class:`RosterVersions`) the versioned published roster — on SQLite or PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any, Final

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from rostersync.clock import as_utc, utcnow
from rostersync.errors import ConfigurationError, FatalError, StoreUnavailable, VersionNotFound
from rostersync.settings import Settings
from rostersync.store import _migrate
from rostersync.store._roster import RosterVersions
from rostersync.store.engine import (
    SETTING,
    check_connection,
    describe,
    make_engine,
    sqlite_path,
    translate_errors,
)
from rostersync.store.records import (
    AuditEntry,
    District,
    RunRecord,
    Source,
    VersionDiff,
    dumps,
    loads,
)
from rostersync.store.schema import (
    audit_log,
    change_sets,
    config_versions,
    districts,
    runs,
    sources,
)

_RUN_JSON_FIELDS: Final = ("phases", "counts", "report", "change_summary")
_RUN_FIELDS: Final = frozenset(
    {
        "source",
        "trigger",
        "status",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "error",
        "roster_version",
        "owner",
        *_RUN_JSON_FIELDS,
    }
)
UPGRADE_HINT = "run `rostersync db upgrade`"


def slugify(name: str) -> str:
    """URL-safe lower-case slug of a district name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _district(row: Any) -> District:
    return District(id=row.id, name=row.name, slug=row.slug, created_at=as_utc(row.created_at))


def _run(row: Any) -> RunRecord:
    return RunRecord(
        id=row.id,
        district_id=row.district_id,
        source=row.source,
        trigger=row.trigger,
        status=row.status,
        created_at=as_utc(row.created_at),
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
        heartbeat_at=as_utc(row.heartbeat_at),
        phases=loads(row.phases),
        counts=loads(row.counts),
        report=loads(row.report),
        change_summary=loads(row.change_summary),
        error=row.error,
        roster_version=row.roster_version,
    )


class Store(RosterVersions):
    """The metadata database and the versioned roster, over one SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def _read(self, stmt: sa.Executable) -> list[Any]:
        with translate_errors(self.engine), self.engine.connect() as conn:
            return list(conn.execute(stmt))

    # -- schema -------------------------------------------------------------------------------

    def upgrade(self) -> None:
        """Create or migrate the database schema to the newest revision (alembic upgrade head)."""
        with translate_errors(self.engine):
            _migrate.upgrade(self.engine)

    def current_revision(self) -> str | None:
        with translate_errors(self.engine):
            return _migrate.current_revision(self.engine)

    def check_ready(self) -> None:
        """Raise a one-line error unless the database exists and is at the newest revision."""
        path = sqlite_path(self.engine)
        if path is not None and not path.exists():
            raise StoreUnavailable(
                f"The store {path} has not been created yet", setting=SETTING, hint=UPGRADE_HINT
            )
        check_connection(self.engine)
        current = self.current_revision()
        if current == _migrate.head_revision():
            return
        if current is None:
            raise StoreUnavailable(
                f"The store at {describe(self.engine)} has not been created yet",
                setting=SETTING,
                hint=UPGRADE_HINT,
            )
        if current not in _migrate.known_revisions():
            raise StoreUnavailable(
                f"The store at {describe(self.engine)} is at migration {current}, newer than "
                "this rostersync knows",
                setting=SETTING,
                hint="upgrade rostersync, or point ROSTERSYNC_DATABASE_URL at another database",
            )
        raise StoreUnavailable(
            f"The store at {describe(self.engine)} is at migration {current}, not the newest "
            f"({_migrate.head_revision()})",
            setting=SETTING,
            hint=UPGRADE_HINT,
        )

    # -- districts and sources ----------------------------------------------------------------

    def create_district(self, name: str) -> District:
        """Create a district; its slug is derived from the name."""
        name = name.strip()
        slug = slugify(name)
        if not slug:
            raise ConfigurationError(
                f"District name {name!r} has no letters or digits",
                hint="choose a name such as 'Springfield Public Schools'",
            )
        try:
            with translate_errors(self.engine), self.engine.begin() as conn:
                row = conn.execute(
                    districts.insert()
                    .values(name=name, slug=slug, created_at=utcnow())
                    .returning(*districts.c)
                ).one()
        except IntegrityError as exc:
            raise ConfigurationError(
                f"A district named {name!r} (slug {slug!r}) already exists",
                hint="choose another name; see `rostersync districts list`",
            ) from exc
        return _district(row)

    def list_districts(self) -> list[District]:
        return [_district(r) for r in self._read(sa.select(districts).order_by(districts.c.id))]

    def get_district(self, key: str | int) -> District:
        """A district by id, name or slug; a configuration error naming it if there is none."""
        text = str(key).strip()
        cond = (districts.c.name == text) | (districts.c.slug == text)
        if text.isdigit():
            cond = cond | (districts.c.id == int(text))
        rows = self._read(sa.select(districts).where(cond).order_by(districts.c.id))
        if not rows:
            raise ConfigurationError(
                f"No district {text!r}", hint="see `rostersync districts list`"
            )
        return _district(rows[0])

    def add_source(self, district_id: int, name: str, app: str) -> Source:
        """Activate a source app for a district under a name unique within the district."""
        try:
            with translate_errors(self.engine), self.engine.begin() as conn:
                row = conn.execute(
                    sources.insert()
                    .values(district_id=district_id, name=name, app=app, created_at=utcnow())
                    .returning(*sources.c)
                ).one()
        except IntegrityError as exc:
            raise ConfigurationError(
                f"Source {name!r} already exists in this district, or the district does not",
                hint="choose another source name",
            ) from exc
        return Source(row.id, row.district_id, row.name, row.app, as_utc(row.created_at))

    def list_sources(self, district_id: int) -> list[Source]:
        stmt = sa.select(sources).where(sources.c.district_id == district_id).order_by(sources.c.id)
        return [
            Source(r.id, r.district_id, r.name, r.app, as_utc(r.created_at))
            for r in self._read(stmt)
        ]

    # -- configuration versions ----------------------------------------------------------------

    def save_config_version(
        self,
        district_id: int,
        body: Mapping[str, Any],
        *,
        created_by: str = "cli",
        comment: str | None = None,
    ) -> int:
        """Store a district's configuration as its next version; returns the version number."""
        text = dumps(dict(body))
        # One statement that numbers the version and inserts it: a transaction that read the
        # newest number first and then wrote was refused at once on SQLite ("database is
        # locked", without waiting) whenever another writer got in between.
        c = config_versions.c
        numbered = sa.select(
            sa.literal(district_id),
            sa.func.coalesce(sa.func.max(c.version), 0) + 1,
            sa.literal(text),
            sa.literal(utcnow(), sa.DateTime(timezone=True)),
            sa.literal(created_by),
            sa.literal(comment, sa.Text),
        ).where(c.district_id == district_id)
        insert = config_versions.insert().from_select(
            ["district_id", "version", "body", "created_at", "created_by", "comment"], numbered
        )
        try:
            with translate_errors(self.engine), self.engine.begin() as conn:
                version = int(conn.execute(insert.returning(c.version)).scalar_one())
        except IntegrityError as exc:
            raise ConfigurationError(
                "The configuration was saved by someone else at the same time, or the "
                "district does not exist",
                hint="reload the configuration and save again",
            ) from exc
        return version

    def get_config_version(
        self, district_id: int, version: int | None = None
    ) -> tuple[int, dict[str, Any]]:
        """A configuration version (None: the newest) as ``(version, body)``."""
        stmt = sa.select(config_versions.c.version, config_versions.c.body).where(
            config_versions.c.district_id == district_id
        )
        if version is None:
            stmt = stmt.order_by(config_versions.c.version.desc()).limit(1)
        else:
            stmt = stmt.where(config_versions.c.version == version)
        rows = self._read(stmt)
        if not rows:
            what = "has no saved configuration" if version is None else f"has no config {version}"
            raise VersionNotFound(f"District {district_id} {what}")
        return int(rows[0].version), json.loads(rows[0].body)

    # -- runs -----------------------------------------------------------------------------------

    def create_run(self, district_id: int, *, trigger: str, source: str | None = None) -> int:
        """Record a new run (status ``pending``); returns its id."""
        with translate_errors(self.engine), self.engine.begin() as conn:
            return int(
                conn.execute(
                    runs.insert()
                    .values(
                        district_id=district_id,
                        source=source,
                        trigger=trigger,
                        status="pending",
                        created_at=utcnow(),
                    )
                    .returning(runs.c.id)
                ).scalar_one()
            )

    def update_run(
        self, run_id: int, *, only_if_status: Collection[str] | None = None, **fields: Any
    ) -> bool:
        """Set fields of a run; dict-valued fields (phases, counts, report…) replace the old.

        With ``only_if_status`` the write is a compare-and-set: it happens only while the run's
        status is one of those, and False is returned when it was not (the run ledger's guard).
        """
        unknown = set(fields) - _RUN_FIELDS
        if unknown:
            raise FatalError(f"update_run: unknown run fields {sorted(unknown)}")
        values = {k: dumps(v) if k in _RUN_JSON_FIELDS else v for k, v in fields.items()}
        stmt = runs.update().where(runs.c.id == run_id)
        if only_if_status is not None:
            stmt = stmt.where(runs.c.status.in_(sorted(only_if_status)))
        with translate_errors(self.engine), self.engine.begin() as conn:
            result = conn.execute(stmt.values(**values))
            if result.rowcount == 1:
                return True
            exists = conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first()
        if exists is None:
            raise VersionNotFound(f"Run {run_id} does not exist")
        return False

    def get_run(self, run_id: int) -> RunRecord:
        rows = self._read(sa.select(runs).where(runs.c.id == run_id))
        if not rows:
            raise VersionNotFound(
                f"Run {run_id} does not exist", hint="see `rostersync runs list --district …`"
            )
        return _run(rows[0])

    def list_runs(self, district_id: int, limit: int = 50) -> list[RunRecord]:
        """A district's runs, newest first."""
        stmt = (
            sa.select(runs)
            .where(runs.c.district_id == district_id)
            .order_by(runs.c.id.desc())
            .limit(limit)
        )
        return [_run(r) for r in self._read(stmt)]

    # -- change sets ----------------------------------------------------------------------------

    def save_change_set(self, run_id: int, diffs: Mapping[str, VersionDiff]) -> None:
        """Record what a run changes (or would change), per entity and kind."""
        rows = [
            {
                "run_id": run_id,
                "entity": entity,
                "kind": kind,
                "count": ids.len(),
                "sourced_ids": json.dumps(ids.to_list()),
            }
            for entity, diff in diffs.items()
            for kind, ids in (
                ("added", diff.added),
                ("updated", diff.updated),
                ("deleted", diff.deleted),
            )
            if ids.len()
        ]
        with translate_errors(self.engine), self.engine.begin() as conn:
            conn.execute(change_sets.delete().where(change_sets.c.run_id == run_id))
            if rows:
                conn.execute(change_sets.insert(), rows)

    def get_change_set(self, run_id: int) -> dict[str, VersionDiff]:
        """A run's recorded change set (entities without changes are absent)."""
        stmt = sa.select(change_sets).where(change_sets.c.run_id == run_id)
        parts: dict[str, dict[str, pl.Series]] = {}
        for row in self._read(stmt):
            ids = pl.Series("sourcedId", json.loads(row.sourced_ids), pl.Utf8)
            parts.setdefault(row.entity, {})[row.kind] = ids
        return {entity: VersionDiff(**kinds) for entity, kinds in parts.items()}

    # -- audit ----------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, district_id: int | None = None, **detail: Any) -> None:
        """Append an entry to the audit log (who did what, to which district)."""
        with translate_errors(self.engine), self.engine.begin() as conn:
            conn.execute(
                audit_log.insert().values(
                    district_id=district_id,
                    actor=actor,
                    action=action,
                    detail=dumps(detail),
                    at=utcnow(),
                )
            )

    def list_audit(self, district_id: int | None = None, limit: int = 100) -> list[AuditEntry]:
        """Audit entries, newest first (all districts when ``district_id`` is None)."""
        stmt = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if district_id is not None:
            stmt = stmt.where(audit_log.c.district_id == district_id)
        return [
            AuditEntry(r.id, r.district_id, r.actor, r.action, loads(r.detail), as_utc(r.at))
            for r in self._read(stmt)
        ]


def open_store(settings: Settings, upgrade: bool = False) -> Store:
    """The store of these settings; checks it is ready (or upgrades it when ``upgrade``)."""
    if not settings.database_url:
        settings.ensure_data_dir()  # the default SQLite file lives there
    store = Store(make_engine(settings.resolved_database_url))
    if upgrade:
        store.upgrade()
    else:
        store.check_ready()
    return store
