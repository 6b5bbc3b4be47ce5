"""Hold overrides that can be taken back: who revoked a grant, when and why.

Before this, the district's override was the latest ``until`` date of all its grants, so a
shorter grant could not end a longer one and nothing could cancel it. Now the latest grant wins
and a grant can be revoked; the columns record the revocation next to the grant.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("hold_overrides") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_by", sa.Text(), nullable=True))
        batch.add_column(sa.Column("revoke_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("hold_overrides") as batch:
        batch.drop_column("revoke_reason")
        batch.drop_column("revoked_by")
        batch.drop_column("revoked_at")
