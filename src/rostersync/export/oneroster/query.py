"""Collection and single-object queries of the OneRoster provider, compiled to SQL.

Every query reads the current version of a district's roster (``valid_to IS NULL``), so a
publish in progress, which is one transaction, stays invisible until it commits. ``filter``,
``sort``/``orderBy``, ``fields``, ``limit``/``offset`` and the client's sharing rules all
become SQLAlchemy Core expressions with bound parameters; the count and the page are read in
one transaction so ``X-Total-Count`` matches the rows.

Deletions stay visible (OneRoster's model: a consumer learns of a deletion by seeing the record
as ``tobedeleted``). A record a publish deleted is served, from the row that publish closed,
with ``status: tobedeleted`` and its deletion time as ``dateLastModified``, for the district's
``deletion_retention_days`` (default 30) after the deletion; afterwards it answers 404. Such
tombstones are part of every collection that is not narrowed by a path (``/users``,
``/classes``…, with or without ``filter``: so ``filter=dateLastModified>'T'`` returns the
records changed *and* deleted since T) and of single-object reads by sourcedId; collections
narrowed by a path (``/classes/{id}/students``) and parent checks see current records only
(their index lookups cover current rows). A record deleted and later re-added is served as
its current row, never twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from rostersync.clock import utcnow
from rostersync.config import DistrictConfig
from rostersync.export.oneroster.catalog import DOTTED_ALIASES, JsonField, Resource
from rostersync.export.oneroster.filtering import (
    FilterError,
    Target,
    ValueKind,
    compile_filter,
    parse_filter,
)
from rostersync.export.oneroster.pagecache import VersionCache
from rostersync.export.oneroster.protocol import OneRosterError
from rostersync.export.oneroster.serialize import as_list
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.model import ENTITIES
from rostersync.store.schema import config_versions, roster_versions

#: Collections longer than this get their ordered IDs cached (then: keyset pages, no count).
KEYSET_FROM = 1000
#: Result column of the page statement's window count (not a canonical field name).
_TOTAL = "rostersync_total_count"
_LO, _HI = "rostersync_keyset_lo", "rostersync_keyset_hi"
#: Longest a provider query may run on PostgreSQL before it is cancelled (milliseconds).
QUERY_TIMEOUT_MS = 30_000

_KIND_OF: dict[str, ValueKind] = {
    "text": "text",
    "date": "date",
    "datetime": "datetime",
    "boolstr": "bool",
    "list": "list",
    "ref": "text",
    "refs": "list",
    "userIds": "list",
}


@dataclass(frozen=True)
class Scope:
    """Who asks and what they may see: the district and the client's sharing rules."""

    district_id: int
    sharing: SharingRules


#: Days a deleted record stays readable as ``tobedeleted`` when the district's configuration
#: does not say: the setting's own default (``deletion_retention_days``).
DEFAULT_DELETION_RETENTION_DAYS: int = DistrictConfig.model_fields[
    "deletion_retention_days"
].default
#: Seconds a district's retention setting is reused before it is read again.
_RETENTION_TTL_S = 60.0
#: (store, district) → (when read, days).
_retention: dict[tuple[str, int], tuple[float, int]] = {}
#: The (district, days) the current request's :func:`begin_read` found.
_request_retention: ContextVar[tuple[int, int] | None] = ContextVar(
    "rostersync_deletion_retention", default=None
)


def deletion_retention_days(district_id: int) -> int:
    """The district's retention of deleted records, as this request's :func:`begin_read` read
    it (the default outside a request)."""
    found = _request_retention.get()
    if found is not None and found[0] == district_id:
        return found[1]
    return DEFAULT_DELETION_RETENTION_DAYS


def _refresh_retention(conn: sa.Connection, district_id: int) -> None:
    """Read the district's ``deletion_retention_days`` from its newest configuration (at most
    once a minute per store and district: a request costs no extra statement)."""
    now = time.monotonic()
    key = (str(conn.engine.url), district_id)
    found = _retention.get(key)
    if found is not None and now - found[0] < _RETENTION_TTL_S:
        _request_retention.set((district_id, found[1]))
        return
    body = conn.execute(
        sa.select(config_versions.c.body)
        .where(config_versions.c.district_id == district_id)
        .order_by(config_versions.c.version.desc())
        .limit(1)
    ).scalar()
    days = DEFAULT_DELETION_RETENTION_DAYS
    if body:
        value = json.loads(body).get("deletion_retention_days")
        # Validated when the configuration was saved; a hand-edited store keeps the default.
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            days = value
    _retention[key] = (now, days)
    _request_retention.set((district_id, days))


class VersionMoved(Exception):
    """A publish committed while a request was being answered; the request starts over."""


def read_engine(store_engine: Engine, pool_size: int = 12) -> Engine:
    """The engine the provider reads with.

    On PostgreSQL, a pool of its own: autocommit (a page is one statement, consistent by
    itself; see :func:`version_guard`), the statement timeout set once per connection, no
    ping on checkout, and as many connections as the server's worker threads use at once, so
    a request is two round trips (version, page) instead of six. On SQLite, the store's engine,
    whose explicit transactions already give each request one snapshot.
    """
    if store_engine.dialect.name != "postgresql":
        return store_engine
    url = store_engine.url
    options = url.query.get("options", "")
    options = " ".join([*(options if isinstance(options, tuple) else [options])])
    return sa.create_engine(
        url.difference_update_query(["options"]),
        isolation_level="AUTOCOMMIT",
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=QUERY_TIMEOUT_MS / 1000,
        # Appended to the URL's own options (a search_path, say), which connect_args replace.
        connect_args={"options": f"{options} -c statement_timeout={QUERY_TIMEOUT_MS}".strip()},
    )


def _latest(district_id: int) -> sa.Select[tuple[Any]]:
    return sa.select(sa.func.max(roster_versions.c.version)).where(
        roster_versions.c.district_id == district_id
    )


def begin_read(
    conn: sa.Connection, district_id: int, already: tuple[int | None] | None = None
) -> int | None:
    """The district's current roster version, read first by every request.

    Every later statement of the request carries :func:`version_guard`, so a publish that
    commits meanwhile makes it return nothing (then :class:`VersionMoved`, and a retry)
    instead of rows of another version than the cached counts and IDs describe.

    ``already``: the version as this request's first statement on ``conn`` read it (with
    the API client's row), so it costs no second round trip.
    """
    value = already[0] if already is not None else conn.execute(_latest(district_id)).scalar()
    _refresh_retention(conn, district_id)
    return int(value) if value is not None else None


def version_guard(district_id: int, version: int | None) -> ColumnElement[bool]:
    """SQL: the district's current version is still ``version``."""
    latest = _latest(district_id).scalar_subquery()
    return sa.func.coalesce(latest, 0) == (version or 0)


def check_version(conn: sa.Connection, district_id: int, version: int | None) -> None:
    """Raise :class:`VersionMoved` if the district's version is no longer ``version``."""
    if begin_read(conn, district_id) != version:
        raise VersionMoved


def _dicts(result: sa.CursorResult[Any]) -> list[dict[str, Any]]:
    """Rows as plain dicts (several times cheaper than ``dict(row_mapping)`` per row)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


class Page(NamedTuple):
    """A page: its rows (``None`` when the caller knew them all), the collection's total,
    the fields to serialize, and, for keyset pages, the page's sourcedIds in order."""

    rows: list[dict[str, Any]] | None
    total: int
    fields: list[JsonField]
    ids: list[str] | None


@dataclass(frozen=True)
class ListParams:
    limit: int
    offset: int
    sort: str | None
    descending: bool
    filter: str | None
    fields: str | None


class Query:
    """Queries over one resource (a OneRoster object type) for one client."""

    def __init__(
        self,
        resource: Resource,
        tables: Mapping[str, sa.Table],
        scope: Scope,
        cache: VersionCache | None = None,
        version: int | None = None,
        guarded: bool = False,
    ) -> None:
        self.resource = resource
        self.entity = resource.entity
        self.tables = tables
        self.table = tables[resource.entity]
        self.scope = scope
        self.cache = cache
        self.version = version
        #: Whether statements check the version read by :func:`begin_read` (see there).
        self.guarded = guarded

    # -- field resolution -----------------------------------------------------------------

    def visible(self, field: JsonField) -> bool:
        return all(self.scope.sharing.column_visible(self.entity, c) for c in field.columns)

    def target(self, name: str) -> Target | None:
        """Resolve a filter/sort field name (dotted names reach into refs) to a column."""
        alias = DOTTED_ALIASES.get(self.entity, {}).get(name)
        if alias is not None:
            field = JsonField(name, alias, "list" if alias.endswith("Ids") else "text")
        else:
            base, _, rest = name.partition(".")
            found = self.resource.field(base)
            if found is None:
                return None
            if rest:
                if found.kind not in ("ref", "refs") or rest != "sourcedId":
                    return None
            elif found.kind in ("roles", "metadata"):
                return None
            field = found
        if not self.visible(field) or field.column not in ENTITIES[self.entity].schema:
            return None
        return Target(self.presented(field.column), _KIND_OF[field.kind])

    def presented(self, column: str) -> ColumnElement[Any]:
        """A column as consumers see it: a tombstone's ``status`` is ``tobedeleted`` and its
        ``dateLastModified`` the deletion time (the expression ``ix_<table>_modified`` indexes,
        so filters on it are range scans)."""
        t = self.table
        if column == "status":
            return sa.case((t.c.valid_to.is_(None), t.c.status), else_=sa.literal("tobedeleted"))
        if column == "dateLastModified":
            return sa.func.coalesce(t.c.deleted_at, t.c.dateLastModified, type_=t.c.deleted_at.type)
        return t.c[column]

    def selected_fields(self, fields: str | None) -> list[JsonField]:
        visible = [f for f in self.resource.fields if self.visible(f)]
        if not fields:
            return visible
        wanted = [f.strip() for f in fields.split(",") if f.strip()]
        by_name = {f.name: f for f in visible}
        unknown = [w for w in wanted if w not in by_name]
        if unknown:
            raise OneRosterError(
                "invalid_selection_field",
                f"unknown field(s) in fields: {', '.join(unknown)}",
            )
        return [by_name[w] for w in wanted]

    # -- conditions -----------------------------------------------------------------------

    def base_conditions(self, *, tombstones: bool = False) -> list[ColumnElement[bool]]:
        """The district's current rows the client may see; with ``tombstones``, also its
        records deleted within the retention period (see the module docstring)."""
        t = self.table
        live: ColumnElement[bool] = t.c.valid_to.is_(None)
        if tombstones:
            later = t.alias("later")
            cutoff = utcnow() - timedelta(days=deletion_retention_days(self.scope.district_id))
            live = sa.and_(
                # Redundant, but literally the lookup indexes' predicate: both backends then
                # see that those indexes cover every row this query may return.
                sa.or_(t.c.valid_to.is_(None), t.c.deleted_at.is_not(None)).self_group(),
                sa.or_(
                    live,
                    sa.and_(
                        t.c.deleted_at >= cutoff,
                        ~sa.exists().where(
                            later.c.district_id == t.c.district_id,
                            later.c.sourcedId == t.c.sourcedId,
                            later.c.valid_from >= t.c.valid_to,
                        ),
                    ),
                ).self_group(),
            )
        conds = [
            t.c.district_id == self.scope.district_id,
            live,
            self.scope.sharing.sql_condition(self.entity, self.tables, self.scope.district_id),
        ]
        if self.guarded:
            conds.append(version_guard(self.scope.district_id, self.version))
        return conds

    def check_version(self, conn: sa.Connection) -> None:
        """After an empty answer: raise :class:`VersionMoved` if a publish caused it."""
        if self.guarded:
            check_version(conn, self.scope.district_id, self.version)

    def filter_condition(self, text: str) -> ColumnElement[bool]:
        try:
            return compile_filter(parse_filter(text), self.target)
        except FilterError as exc:
            where = f" at position {exc.position}" if exc.position is not None else ""
            raise OneRosterError("invalid_filter_field", f"filter: {exc.message}{where}") from exc

    def columns(self, fields: Sequence[JsonField]) -> list[ColumnElement[Any]]:
        names = {"sourcedId"} | {c for f in fields for c in f.columns}
        return [
            self.presented(n).label(n) if n in ("status", "dateLastModified") else self.table.c[n]
            for n in ENTITIES[self.entity].field_names
            if n in names
        ]

    # -- reads ----------------------------------------------------------------------------

    def page(
        self,
        conn: sa.Connection,
        params: ListParams,
        extra: Sequence[ColumnElement[bool]] = (),
        key: Hashable | None = None,
        known: Callable[[list[str]], bool] | None = None,
        *,
        broad: bool = False,
    ) -> Page:
        """One page of rows, the total count, and the fields to serialize.

        ``broad``: the collection is not narrowed by a path (``/users``, not
        ``/classes/{id}/students``), so it is likely big and its IDs are read up front.

        ``key`` names the collection (everything ``extra`` encodes, apart from this query's
        resource, client and filter); with a cache and a version, the collection's ordered IDs
        are read once per version and every page becomes a keyset range over them. Then, if
        ``known(page_ids)`` says the caller already holds those rows serialized, no row is
        read (``rows`` is ``None``).
        """
        fields = self.selected_fields(params.fields)
        ids_key = self._ids_key(key, params.filter)
        conds = [*self.base_conditions(tombstones=broad), *extra]
        if params.filter:
            conds.append(self.filter_condition(params.filter))
        ids = self.cache.get(ids_key) if self.cache is not None and ids_key is not None else None
        if ids is None and broad and not params.filter and not params.sort and ids_key:
            # A whole collection (all users, all enrollments…) is big: its IDs first, read
            # once per version by one thread, then every page is a keyset range, where an
            # OFFSET query would cost what the offset is deep.
            assert self.cache is not None
            ids = self.cache.get_or_compute(ids_key, lambda: self._read_ids(conn, conds))
        if ids is not None and not params.sort:
            assert ids_key is not None
            return self._keyset_page(conn, params, extra, ids, ids_key, fields, known, broad)
        order: list[Any] = []
        if params.sort:
            target = self.target(params.sort)
            if target is None or target.kind == "list":
                raise OneRosterError("invalid_sort_field", f"cannot sort on {params.sort!r}")
            order.append(target.column.desc() if params.descending else target.column.asc())
        sid = self.table.c.sourcedId
        descending = params.descending and not params.sort
        order.append(sid.desc() if descending else sid.asc())
        stmt = sa.select(*self.columns(fields)).where(*conds).order_by(*order).limit(params.limit)
        if ids is None:
            # One statement for the page and the collection's total.
            counted = stmt.add_columns(sa.func.count().over().label(_TOTAL)).offset(params.offset)
            rows = _dicts(conn.execute(counted))
            total = int(rows[0][_TOTAL]) if rows else 0
            for row in rows:
                del row[_TOTAL]
            if not rows and params.offset > 0:
                total = int(
                    conn.execute(
                        sa.select(sa.func.count()).select_from(self.table).where(*conds)
                    ).scalar_one()
                )
            if total == 0:
                self.check_version(conn)
            if ids_key is not None and self.cache is not None and total > KEYSET_FROM:
                self.cache.get_or_compute(ids_key, lambda: self._read_ids(conn, conds))
            return Page(self.hide_related(conn, rows), total, fields, None)
        total = ids.len()
        if params.offset >= total:
            return Page([], total, fields, [])
        rows = _dicts(conn.execute(stmt.offset(params.offset)))
        if not rows:
            self.check_version(conn)
        return Page(self.hide_related(conn, rows), total, fields, None)

    def _keyset_page(
        self,
        conn: sa.Connection,
        params: ListParams,
        extra: Sequence[ColumnElement[bool]],
        ids: pl.Series,
        ids_key: Hashable,
        fields: list[JsonField],
        known: Callable[[list[str]], bool] | None,
        tombstones: bool,
    ) -> Page:
        """A page in sourcedId order of a collection whose IDs are cached: one range scan.

        The statement is built once per collection, field selection and limit (its bounds are
        bound parameters), so a page costs no SQL construction or compilation.
        """
        total = ids.len()
        if params.offset >= total:
            return Page([], total, fields, [])
        descending = params.descending
        last = min(params.offset + params.limit, total) - 1
        if descending:
            first_at, last_at = total - 1 - last, total - 1 - params.offset
        else:
            first_at, last_at = params.offset, last
        page_ids = ids.slice(first_at, last_at - first_at + 1).to_list()
        if descending:
            page_ids.reverse()
        if known is not None and known(page_ids):
            return Page(None, total, fields, page_ids)

        def build() -> sa.Select[Any]:
            sid = self.table.c.sourcedId
            conds = [*self.base_conditions(tombstones=tombstones), *extra]
            if params.filter:
                conds.append(self.filter_condition(params.filter))
            return (
                sa.select(*self.columns(fields))
                .where(*conds, sid >= sa.bindparam(_LO), sid <= sa.bindparam(_HI))
                .order_by(sid.desc() if descending else sid.asc())
                .limit(params.limit)
            )

        assert self.cache is not None
        shape = (ids_key, tuple(f.name for f in fields), descending, params.limit)
        stmt = self.cache.statement(shape, build)
        rows = _dicts(conn.execute(stmt, {_LO: ids[first_at], _HI: ids[last_at]}))
        if not rows:
            self.check_version(conn)
        return Page(self.hide_related(conn, rows), total, fields, page_ids)

    def _ids_key(self, key: Hashable | None, filter_text: str | None) -> Hashable | None:
        """The cache key of a collection's IDs, or ``None`` when they cannot be cached."""
        if self.cache is None or self.version is None or key is None:
            return None
        return (
            self.version,
            self.scope.district_id,
            self.entity,
            self.scope.sharing.cache_key(),
            # Listings include tombstones: a new retention setting lists anew. (Within a
            # version, a tombstone whose retention ends stays in a cached listing until the
            # next publish; read by sourcedId it answers 404 at once.)
            deletion_retention_days(self.scope.district_id),
            key,
            filter_text,
        )

    def _read_ids(self, conn: sa.Connection, conds: Sequence[ColumnElement[bool]]) -> pl.Series:
        """The sourcedIds matching ``conds`` in the store's order."""
        sid = self.table.c.sourcedId
        found = conn.execute(sa.select(sid).where(*conds).order_by(sid.asc())).scalars().all()
        if not found:
            self.check_version(conn)  # never cache an answer a publish emptied
        return pl.Series("sourcedId", found, dtype=pl.String)

    def one(
        self,
        conn: sa.Connection,
        sourced_id: str,
        fields: str | None,
        extra: Sequence[ColumnElement[bool]] = (),
    ) -> tuple[dict[str, Any] | None, list[JsonField]]:
        chosen = self.selected_fields(fields)
        stmt = sa.select(*self.columns(chosen)).where(
            *self.base_conditions(tombstones=True), self.table.c.sourcedId == sourced_id, *extra
        )
        row = conn.execute(stmt).mappings().first()
        if row is None:
            self.check_version(conn)
            return None, chosen
        return self.hide_related(conn, [dict(row)])[0], chosen

    def exists_clause(
        self, sourced_id: str, extra: Sequence[ColumnElement[bool]] = ()
    ) -> ColumnElement[bool]:
        """SQL: the object ``sourced_id`` exists and is visible (what :meth:`exists` asks), as
        a condition of another statement."""
        return sa.exists(
            sa.select(self.table.c.sourcedId).where(
                *self.base_conditions(), self.table.c.sourcedId == sourced_id, *extra
            )
        )

    def exists(
        self, conn: sa.Connection, sourced_id: str, extra: Sequence[ColumnElement[bool]] = ()
    ) -> bool:
        stmt = sa.select(self.table.c.sourcedId).where(
            *self.base_conditions(), self.table.c.sourcedId == sourced_id, *extra
        )
        if conn.execute(stmt.limit(1)).first() is not None:
            return True
        self.check_version(conn)
        return False

    def hide_related(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Drop related users (agents) the client may not see, so they are not even named."""
        sharing = self.scope.sharing
        if self.entity != "users" or (sharing.user_roles() is None and sharing.schools is None):
            return rows
        agents = {a for r in rows for a in as_list(r.get("agentSourcedIds"))}
        if not agents:
            return rows
        users = Query(self.resource, self.tables, self.scope, None, self.version, self.guarded)
        visible = set(
            conn.scalars(
                sa.select(users.table.c.sourcedId).where(
                    *users.base_conditions(), users.table.c.sourcedId.in_(sorted(agents))
                )
            )
        )
        if len(visible) < len(agents):
            self.check_version(conn)
        for r in rows:
            if r.get("agentSourcedIds") is not None:
                r["agentSourcedIds"] = [a for a in as_list(r["agentSourcedIds"]) if a in visible]
        return rows
