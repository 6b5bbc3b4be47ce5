"""Scheduler claims: which scheduler tick dispatched a source's last slot.

Lets several schedulers sharing one store claim a whole group of due slots with one UPDATE and
still tell their claims apart (see ``rostersync.schedule.scheduler``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 22:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("schedule_state") as batch:
        batch.add_column(sa.Column("claimed_by", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("schedule_state") as batch:
        batch.drop_column("claimed_by")
