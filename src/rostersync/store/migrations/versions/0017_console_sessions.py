"""Browser sessions of the admin console (server-side; the cookie holds a random id, the table
its SHA-256).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 06:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "admin_sessions",
        sa.Column("id_hash", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("shown_district_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["admin_accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shown_district_id"], ["districts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_admin_sessions_account", "admin_sessions", ["account_id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_admin_sessions_account", table_name="admin_sessions")
    op.drop_table("admin_sessions")
