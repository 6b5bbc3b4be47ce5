"""Schema migrations: Alembic, driven programmatically with the store's own engine.

The migration scripts live inside the package (``store/migrations``), so an installed
rostersync can create and upgrade its database without an ``alembic.ini`` or a source checkout.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migrations (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest migration this version of rostersync knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Keep Alembic's "Context impl …" and "Running upgrade …" lines out of every command's output
    unless the log level asks for debug detail (``ROSTERSYNC_LOG_LEVEL=DEBUG``)."""
    logger = logging.getLogger("alembic")
    level = logger.level
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    with _quiet_alembic(), engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run ``alembic upgrade`` on the store's engine, in one transaction (quietly, see above)."""
    config = alembic_config()
    with _quiet_alembic(), engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
