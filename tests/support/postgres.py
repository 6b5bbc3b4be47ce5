"""A fresh PostgreSQL schema on the test server, for one test or one session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def fresh_pg_schema(base_url: str, prefix: str = "rs_test") -> Iterator[str]:
    """A brand-new schema on the server of ``base_url``, as a URL whose search_path points at it.

    The name is unique per process and call, so parallel test runs never collide; the schema is
    dropped (with everything in it) afterwards.
    """
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    base = sa.make_url(base_url)
    if base.get_driver_name() != "psycopg":
        base = base.set(drivername="postgresql+psycopg")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    try:
        yield base.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        admin.dispose()
