"""Partial indexes on current roster rows for the OneRoster provider's lookups.

Nested endpoints (``/classes/{id}/students``, ``/schools/{id}/classes``…) and name filters look
current rows up by a foreign sourcedId or a name; without these every such request scans the
district's whole table. Declared in ``rostersync.store.schema.CURRENT_LOOKUPS``.

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-28 22:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOOKUPS = {
    "enrollments": ("classSourcedId", "userSourcedId", "schoolSourcedId"),
    "classes": ("schoolSourcedId", "courseSourcedId"),
    "courses": ("orgSourcedId",),
    "users": ("familyName", "givenName"),
}


def upgrade() -> None:
    """Upgrade schema."""
    current = sa.text("valid_to IS NULL")
    for entity, columns in LOOKUPS.items():
        table = f"roster_{entity}"
        for column in columns:
            op.create_index(
                f"ix_{table}_cur_{column}",
                table,
                ["district_id", column],
                unique=False,
                postgresql_where=current,
                sqlite_where=current,
            )


def downgrade() -> None:
    """Downgrade schema."""
    for entity, columns in LOOKUPS.items():
        table = f"roster_{entity}"
        for column in columns:
            op.drop_index(f"ix_{table}_cur_{column}", table_name=table)
