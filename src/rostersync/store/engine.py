"""Database engines of the store: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL.

Every way of failing to reach the database ends as one :class:`StoreUnavailable` line naming
``ROSTERSYNC_DATABASE_URL`` and what to do, never a driver traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from rostersync import fsutil
from rostersync.errors import ConfigurationError, StoreUnavailable
from rostersync.settings import redact_url

SETTING = "ROSTERSYNC_DATABASE_URL"
URL_HINT = "use sqlite:///path/to/file.db or postgresql+psycopg://user@host:5432/dbname"
#: How long a SQLite writer waits for another writer's lock before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: SQLite page cache per connection (KiB), and the larger one a publish may fill while it
#: writes (memory is taken only as pages are dirtied): a first publish of a million-student
#: district writes about 1.6 GB of pages, and spilling them to the WAL in the middle of the
#: transaction made its copy a third slower than keeping them until the commit.
SQLITE_CACHE_KIB = 64 * 1024
SQLITE_PUBLISH_CACHE_KIB = 2 * 1024 * 1024
#: Page size of a new SQLite store (an existing file keeps the one it was made with). A publish
#: moves every row through the WAL and a checkpoint page by page; 16 KiB pages make that a
#: quarter as many writes as SQLite's default 4 KiB, about a tenth off a mega first publish.
SQLITE_PAGE_BYTES = 16 * 1024
#: SQLite's own default: a commit that leaves more pages than this in the WAL checkpoints it.
#: A publish turns that off for its connection and checkpoints after it (``publish``).
SQLITE_AUTOCHECKPOINT_PAGES = 1000
#: Size the WAL file is cut back to once checkpointed: a first publish grows it to the size
#: of everything it wrote (1.7 GB at a million students), which would otherwise stay on disk.
SQLITE_WAL_KEEP_BYTES = 64 * 1024 * 1024


def parse_url(url: str) -> URL:
    """Parse and check a store URL; a malformed or unsupported one is a configuration error."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"{SETTING} is not a database URL: {redact_url(url)!r}", setting=SETTING, hint=URL_HINT
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        # One driver everywhere: psycopg 3 (COPY support for the bulk paths).
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise ConfigurationError(
            f"{SETTING} names an unsupported database {backend!r}", setting=SETTING, hint=URL_HINT
        )
    return parsed


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine for the store, tuned for its backend."""
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = sa.create_engine(
                parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
            )
            _tune_sqlite(engine)
        else:
            engine = sa.create_engine(parsed, pool_pre_ping=True)
    except NoSuchModuleError as exc:
        raise ConfigurationError(
            f"{SETTING}: no driver for {parsed.drivername}",
            setting=SETTING,
            hint="install the PostgreSQL driver with `pip install 'rostersync[postgres]'`",
        ) from exc
    except ModuleNotFoundError as exc:
        raise ConfigurationError(
            f"{SETTING}: the database driver {exc.name!r} is not installed",
            setting=SETTING,
            hint="install the PostgreSQL driver with `pip install 'rostersync[postgres]'`",
        ) from exc
    return engine


def _tune_sqlite(engine: Engine) -> None:
    """WAL so readers never block the writer, foreign keys on, explicit transactions.

    pysqlite's own transaction handling begins transactions lazily and commits around DDL; the
    SQLAlchemy-documented recipe below makes ``BEGIN`` explicit, so a publish is exactly one
    transaction even when it mixes Core statements and raw ``executemany`` calls.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if engine.url.database not in (None, "", ":memory:"):
                # The file holds pupils' data: 0600 before anything is written to it (its WAL
                # and shared-memory files take the database file's mode).
                fsutil.make_private(Path(engine.url.database))
                # Before WAL: once a file is in WAL mode its page size is fixed.
                cursor.execute(f"PRAGMA page_size = {SQLITE_PAGE_BYTES}")
                cursor.execute("PRAGMA journal_mode = WAL")
                # With WAL, NORMAL is durable across application crashes (not power loss of the
                # last commit), and it makes bulk publishes much faster.
                cursor.execute("PRAGMA synchronous = NORMAL")
                cursor.execute(f"PRAGMA journal_size_limit = {SQLITE_WAL_KEEP_BYTES}")
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            cursor.execute("PRAGMA temp_store = MEMORY")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_path(engine: Engine) -> Path | None:
    """The file of a SQLite store, or None for PostgreSQL / in-memory SQLite."""
    if not is_sqlite(engine) or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(str(engine.url.database))


def describe(engine: Engine) -> str:
    """The store's URL with any password hidden, for messages."""
    return redact_url(engine.url.render_as_string(hide_password=False))


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


#: How SQLite and PostgreSQL say the disk under the store is full.
_DISK_FULL = ("disk is full", "no space left on device")


def unavailable(engine: Engine, exc: BaseException) -> StoreUnavailable:
    """Translate a driver error into the one-line error an admin sees."""
    reason = _first_line(exc)
    if any(words in reason.lower() for words in _DISK_FULL):
        where = sqlite_path(engine)
        hint = (
            f"free disk space where the store lives ({where.parent})"
            if where is not None
            else "free disk space on the database server"
        ) + "; nothing of the interrupted write was kept"
    else:
        hint = f"check that the database is running and reachable, or fix {SETTING}"
    return StoreUnavailable(
        f"Cannot use the store at {describe(engine)}: {reason}", setting=SETTING, hint=hint
    )


@contextmanager
def translate_errors(engine: Engine) -> Iterator[None]:
    """Turn connection-level driver errors (refused, auth, locked, disk) into StoreUnavailable."""
    raw_errors: tuple[type[BaseException], ...] = ()
    dbapi = engine.dialect.dbapi
    if dbapi is not None:  # errors of raw-cursor bulk paths are not wrapped by SQLAlchemy
        raw_errors = (dbapi.OperationalError, dbapi.InterfaceError)
    try:
        yield
    except DBAPIError as exc:
        if exc.connection_invalidated or isinstance(
            exc, sa.exc.OperationalError | sa.exc.InterfaceError
        ):
            raise unavailable(engine, exc) from exc
        raise
    except raw_errors as exc:
        raise unavailable(engine, exc) from exc


def check_connection(engine: Engine) -> None:
    """Connect once, raising StoreUnavailable with a one-line reason if that fails."""
    with translate_errors(engine), engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
