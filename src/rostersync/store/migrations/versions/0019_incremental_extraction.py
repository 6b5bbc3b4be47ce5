"""Incremental extraction: each source's baseline (the last extraction's frames and cursor).

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-02 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0019"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "extraction_baselines",
        sa.Column(
            "district_id",
            sa.Integer,
            sa.ForeignKey("districts.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("cursor", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("full_at", TS, nullable=False),
        sa.Column("saved_at", TS, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=True),
        sa.Column("frames", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("extraction_baselines")
