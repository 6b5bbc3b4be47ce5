"""Drop the (district_id, valid_to) index of every roster table.

Reading any version scans a district's rows anyway, closing rows goes through the primary key
(district_id, sourcedId, valid_from), and the provider's current-row lookups have their own
partial indexes (0005); the valid_to index only made every bulk publish slower.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 22:20:00
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The entities as of 0001, when these indexes were created.
_ENTITIES_0001 = (
    "academicSessions",
    "classes",
    "courses",
    "demographics",
    "enrollments",
    "orgs",
    "userContacts",
    "users",
)


def upgrade() -> None:
    """Upgrade schema."""
    for entity in _ENTITIES_0001:
        op.drop_index(f"ix_roster_{entity}_valid_to", table_name=f"roster_{entity}")


def downgrade() -> None:
    """Downgrade schema."""
    for entity in _ENTITIES_0001:
        op.create_index(
            f"ix_roster_{entity}_valid_to", f"roster_{entity}", ["district_id", "valid_to"]
        )
