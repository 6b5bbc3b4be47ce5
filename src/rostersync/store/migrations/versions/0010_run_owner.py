"""Runs record their owner (``host:pid:start``) so an interrupted run is recovered at once.

A run killed with its process stayed ``running`` (or ``publishing``) until a heartbeat went
stale, or forever; with its owner recorded, the next start on the same host sees the owner is
gone and settles the run (failed, back to held, or published when its publish committed).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("owner", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("owner")
