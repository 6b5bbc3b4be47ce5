"""Byte-order collation (``COLLATE "C"``) for the ID columns of the roster tables (PostgreSQL).

IDs are opaque strings: comparing them under the database's linguistic collation (e.g.
``C.UTF-8`` or ``en_US.UTF-8``) costs a ``strcoll`` per comparison and keeps PostgreSQL from
using abbreviated sort keys, in every primary-key and lookup-index insert of a bulk publish.
Byte order is also the order Polars sorts in. SQLite already compares text bytewise (BINARY),
so this migration changes nothing there. The indexes on these columns are rebuilt by the
``ALTER COLUMN … TYPE``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 23:20:00
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The ID columns of each roster table as of this revision (sourcedId and every *SourcedId).
ID_COLUMNS = {
    "orgs": ("sourcedId", "parentSourcedId"),
    "academicSessions": ("sourcedId", "parentSourcedId", "orgSourcedId"),
    "courses": ("sourcedId", "schoolYearSourcedId", "orgSourcedId"),
    "classes": ("sourcedId", "courseSourcedId", "schoolSourcedId"),
    "users": ("sourcedId", "primaryOrgSourcedId"),
    "enrollments": ("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId"),
    "demographics": ("sourcedId",),
    "userContacts": ("sourcedId", "studentSourcedId", "contactSourcedId"),
}


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for entity, columns in ID_COLUMNS.items():
        changes = ", ".join(
            f'ALTER COLUMN "{column}" TYPE TEXT COLLATE "{collation}"' for column in columns
        )
        op.execute(f'ALTER TABLE "roster_{entity}" {changes}')


def upgrade() -> None:
    """Upgrade schema."""
    _collate("C")


def downgrade() -> None:
    """Downgrade schema."""
    _collate("default")
