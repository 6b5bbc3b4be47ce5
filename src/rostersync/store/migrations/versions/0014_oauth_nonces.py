"""OAuth 1.0a nonces shared by every server process, so a signed request is accepted once only.

A nonce remembered per process let ``serve --workers N`` accept the same signed request once per
worker. The primary key (client, nonce, timestamp) makes the insert the check: the second insert
of a replay finds the row. Rows whose timestamp left the accepted window are purged by the server.

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-02 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "oauth_nonces",
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("nonce", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("client_id", "nonce", "timestamp"),
    )
    op.create_index("ix_oauth_nonces_timestamp", "oauth_nonces", ["timestamp"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_oauth_nonces_timestamp", table_name="oauth_nonces")
    op.drop_table("oauth_nonces")
