"""Gradebook: OneRoster 1.2 Gradebook objects, and their write-back to the SIS (links, log,
holds of mass grade changes).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def _district() -> sa.Column[int]:
    return sa.Column(
        "district_id",
        sa.Integer(),
        sa.ForeignKey("districts.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "gradebook_objects",
        _district(),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("sourcedId", _id(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("dateLastModified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        *(
            sa.Column(name, _id(), nullable=True)
            for name in (
                "classSourcedId",
                "schoolSourcedId",
                "lineItemSourcedId",
                "studentSourcedId",
                "categorySourcedId",
                "academicSessionSourcedId",
                "scoreScaleSourcedId",
            )
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("district_id", "kind", "sourcedId", name="pk_gradebook_objects"),
    )
    op.create_index(
        "ix_gradebook_objects_class",
        "gradebook_objects",
        ["district_id", "kind", "classSourcedId"],
    )
    op.create_index(
        "ix_gradebook_objects_line_item", "gradebook_objects", ["district_id", "lineItemSourcedId"]
    )
    op.create_index(
        "ix_gradebook_objects_student", "gradebook_objects", ["district_id", "studentSourcedId"]
    )
    op.create_table(
        "gradebook_writeback_links",
        _district(),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("sourcedId", _id(), nullable=False),
        sa.Column("sis_id", sa.Text(), nullable=False),
        sa.Column("written", sa.Text(), nullable=False),
        sa.Column("seen", sa.Text(), nullable=True),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "district_id", "source", "kind", "sourcedId", name="pk_gradebook_writeback_links"
        ),
    )
    op.create_table(
        "gradebook_writeback_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _district(),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("sourcedId", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_gradebook_writeback_log_district_at", "gradebook_writeback_log", ["district_id", "at"]
    )
    op.create_table(
        "gradebook_writeback_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        _district(),
        sa.Column("classSourcedId", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("gradebook_writeback_holds")
    op.drop_index("ix_gradebook_writeback_log_district_at", table_name="gradebook_writeback_log")
    op.drop_table("gradebook_writeback_log")
    op.drop_table("gradebook_writeback_links")
    op.drop_index("ix_gradebook_objects_student", table_name="gradebook_objects")
    op.drop_index("ix_gradebook_objects_line_item", table_name="gradebook_objects")
    op.drop_index("ix_gradebook_objects_class", table_name="gradebook_objects")
    op.drop_table("gradebook_objects")
