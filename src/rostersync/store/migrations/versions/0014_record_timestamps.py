"""Record timestamps and deletion times: ``dateLastModified`` filled, ``deleted_at`` added.

Until now no roster row had a ``dateLastModified``: the pipeline does not fill it and the store
did not stamp it. From here a publish stamps every row it writes with its own time, and the rows
already stored get the time of the version that wrote them (``valid_from``'s ``created_at``),
which is when their content last changed as far as the store knows.

``deleted_at`` is set on the row a publish closed because its record was deleted; consumers see
such a row as a ``tobedeleted`` tombstone for the district's retention period. Rows already
deleted get it here: a closed row that no later row of its sourcedId follows was deleted by the
version that closed it.

The provider's partial lookup indexes (0005) also cover those rows now (``valid_to IS NULL OR
deleted_at IS NOT NULL``), so its listings, which include the tombstones, keep using them.

One index per roster table on ``(district_id, coalesce(deleted_at, "dateLastModified"))`` makes
``filter=dateLastModified>'T'`` a range scan (on PostgreSQL it is created on the partitioned
table, so every district's partition gets its own).

Downgrade drops both again and empties the ``dateLastModified`` values equal to their
version's publish time (the ones this revision or a later publish stamped).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
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
MODIFIED = 'coalesce(deleted_at, "dateLastModified")'
# The partial lookup indexes of each roster table (see 0005).
LOOKUPS = {
    "enrollments": ("classSourcedId", "userSourcedId", "schoolSourcedId"),
    "classes": ("schoolSourcedId", "courseSourcedId"),
    "courses": ("orgSourcedId",),
    "users": ("familyName", "givenName"),
}


def _lookups(entity: str, predicate: str) -> None:
    table = f"roster_{entity}"
    for column in LOOKUPS.get(entity, ()):
        op.execute(f'DROP INDEX "ix_{table}_cur_{column}"')
        op.execute(
            f'CREATE INDEX "ix_{table}_cur_{column}" ON "{table}" (district_id, "{column}") '
            f"WHERE {predicate}"
        )


def _version_time(table: str, version_column: str) -> str:
    return (
        "(SELECT v.created_at FROM roster_versions AS v "
        f'WHERE v.district_id = "{table}".district_id AND v.version = "{table}".{version_column})'
    )


def upgrade() -> None:
    """Upgrade schema."""
    for entity in ENTITIES:
        table = f"roster_{entity}"
        op.add_column(table, sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        op.execute(
            f'UPDATE "{table}" SET "dateLastModified" = {_version_time(table, "valid_from")} '
            'WHERE "dateLastModified" IS NULL'
        )
        op.execute(
            f'UPDATE "{table}" SET deleted_at = {_version_time(table, "valid_to")} '
            "WHERE valid_to IS NOT NULL AND NOT EXISTS ("
            f'SELECT 1 FROM "{table}" AS later WHERE later.district_id = "{table}".district_id '
            f'AND later."sourcedId" = "{table}"."sourcedId" '
            f'AND later.valid_from >= "{table}".valid_to)'
        )
        op.execute(f'CREATE INDEX "ix_{table}_modified" ON "{table}" (district_id, {MODIFIED})')
        _lookups(entity, "valid_to IS NULL OR deleted_at IS NOT NULL")


def downgrade() -> None:
    """Downgrade schema."""
    for entity in ENTITIES:
        table = f"roster_{entity}"
        op.execute(f'DROP INDEX "ix_{table}_modified"')
        _lookups(entity, "valid_to IS NULL")
        op.execute(
            f'UPDATE "{table}" SET "dateLastModified" = NULL '
            f'WHERE "dateLastModified" = {_version_time(table, "valid_from")}'
        )
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN deleted_at')
