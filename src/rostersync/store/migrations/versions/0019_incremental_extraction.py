"""Incremental extraction and the events feed: each source's baseline (the last extraction's
frames and cursor), the per-record events of published versions and how far they are written,
each district's early-access opt-in, and the SIS's next first day of school per source.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _district_key() -> sa.Column[int]:
    """The district a per-district row belongs to (first part of its primary key)."""
    return sa.Column(
        "district_id",
        sa.Integer,
        sa.ForeignKey("districts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "extraction_baselines",
        _district_key(),
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("cursor", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("full_at", TS, nullable=False),
        sa.Column("saved_at", TS, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=True),
        sa.Column("frames", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "roster_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column(
            "district_id",
            sa.Integer,
            sa.ForeignKey("districts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("sourced_id", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=True),
        sa.Column("schools", sa.Text, nullable=True),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_roster_events_district", "roster_events", ["district_id", "id"])
    op.create_table(
        "roster_event_marks",
        _district_key(),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("pruned_below", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "early_access",
        _district_key(),
        sa.Column("opted_in", sa.Boolean, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_table(
        "sis_calendars",
        _district_key(),
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("first_day", sa.Date, nullable=True),
        sa.Column("seen_at", TS, nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("sis_calendars")
    op.drop_table("early_access")
    op.drop_table("roster_event_marks")
    op.drop_index("ix_roster_events_district", table_name="roster_events")
    op.drop_table("roster_events")
    op.drop_table("extraction_baselines")
