"""Roster tables without a per-row foreign key; on PostgreSQL, one partition per district.

Two costs dominated a big publish, both paid per row: the foreign-key check of ``district_id``
(it doubled the time of a ``COPY``) and inserting into B-tree indexes that grow bigger than
memory, in random key order. Roster rows are written only by a publish, which claims its version
in ``roster_versions`` (keyed to ``districts``) in the same transaction, so the foreign key
guarded nothing that was not guarded already; it is dropped on both backends.

On PostgreSQL each roster table becomes ``PARTITION BY LIST (district_id)``: a district's first
publish loads its partition as a fresh table, builds the indexes after the load (a sort, several
times cheaper than as many index inserts) and attaches it in the same transaction
(``store/_partitions.py``). Existing rows move into one partition per district here.

SQLite has no partitions; its tables are rebuilt without the foreign key (SQLite cannot drop a
constraint in place): new table from the stored definition minus the clause, rows copied,
indexes recreated from their stored definitions.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 01:10:00
"""

import re
from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTITIES = (
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "enrollments",
    "demographics",
    "userContacts",
)
# The partial lookup indexes of each roster table as of this revision (see 0005).
LOOKUPS = {
    "enrollments": ("classSourcedId", "userSourcedId", "schoolSourcedId"),
    "classes": ("schoolSourcedId", "courseSourcedId"),
    "courses": ("orgSourcedId",),
    "users": ("familyName", "givenName"),
}
FOREIGN_KEY = "FOREIGN KEY(district_id) REFERENCES districts (id) ON DELETE CASCADE"
_FOREIGN_KEY_RE = re.compile(
    r",\s*FOREIGN KEY\s*\(\s*district_id\s*\)\s*REFERENCES\s+districts\s*\(\s*id\s*\)"
    r"\s*ON DELETE CASCADE",
    re.IGNORECASE,
)


def _pg_indexes(table: str, entity: str) -> None:
    op.execute(
        f'ALTER TABLE "{table}" ADD CONSTRAINT "pk_{table}" '
        'PRIMARY KEY (district_id, "sourcedId", valid_from)'
    )
    for column in LOOKUPS.get(entity, ()):
        op.execute(
            f'CREATE INDEX "ix_{table}_cur_{column}" ON "{table}" (district_id, "{column}") '
            "WHERE valid_to IS NULL"
        )


def _pg_rebuild(entity: str, *, partitioned: bool) -> None:
    """Move a roster table's rows into a new (partitioned or plain) table of the same columns."""
    table = f"roster_{entity}"
    old = f"{table}_before_0009"
    op.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    suffix = " PARTITION BY LIST (district_id)" if partitioned else ""
    op.execute(f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS){suffix}')
    if partitioned:
        bind = op.get_bind()
        districts = bind.exec_driver_sql(f'SELECT DISTINCT district_id FROM "{old}"').scalars()
        for district in sorted(int(d) for d in districts):
            op.execute(
                f'CREATE TABLE "{table}_d{district}" PARTITION OF "{table}" '
                f"FOR VALUES IN ({district})"
            )
    op.execute(f'INSERT INTO "{table}" SELECT * FROM "{old}"')
    op.execute(f'DROP TABLE "{old}"')
    _pg_indexes(table, entity)
    if not partitioned:
        op.execute(
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_district_id_fkey" '
            "FOREIGN KEY (district_id) REFERENCES districts (id) ON DELETE CASCADE"
        )


def _sqlite_rebuild(entity: str, *, with_foreign_key: bool) -> None:
    """SQLite's documented way to change a table's constraints: copy it into a new one."""
    table = f"roster_{entity}"
    bind = op.get_bind()
    create = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    indexes = (
        bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        )
        .scalars()
        .all()
    )
    has_key = _FOREIGN_KEY_RE.search(create) is not None
    if has_key == with_foreign_key:
        return
    if with_foreign_key:
        body = create[: create.rstrip().rindex(")")].rstrip() + f", \n\t{FOREIGN_KEY}\n)"
    else:
        body = _FOREIGN_KEY_RE.sub("", create)
    new = f"{table}_0009"
    body = re.sub(r'^CREATE TABLE\s+("?)' + re.escape(table) + r"\1", f'CREATE TABLE "{new}"', body)
    op.execute(body)
    op.execute(f'INSERT INTO "{new}" SELECT * FROM "{table}"')
    op.execute(f'DROP TABLE "{table}"')
    op.execute(f'ALTER TABLE "{new}" RENAME TO "{table}"')
    for sql in indexes:
        op.execute(sql)


def _rebuild_all(*, partitioned: bool) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for entity in ENTITIES:
        if postgres:
            _pg_rebuild(entity, partitioned=partitioned)
        else:
            _sqlite_rebuild(entity, with_foreign_key=not partitioned)


def upgrade() -> None:
    """Upgrade schema."""
    _rebuild_all(partitioned=True)


def downgrade() -> None:
    """Downgrade schema."""
    _rebuild_all(partitioned=False)
