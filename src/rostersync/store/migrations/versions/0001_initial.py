"""Initial schema: metadata tables and one versioned roster table per canonical entity.

Generated once with Alembic autogenerate from ``rostersync.store.schema`` and checked in; later
changes to the schema (including new canonical fields in ``rostersync.model``) need a new
revision, which ``tests/store/test_store_schema.py`` enforces.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 21:55:07.786398
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "districts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("slug"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_district_at", ["district_id", "at"], unique=False)

    op.create_table(
        "config_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("district_id", "version", name="uq_config_versions_district_version"),
    )
    op.create_table(
        "roster_academicSessions",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("sourcedId", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("dateLastModified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("sourceId", sa.Text(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("startDate", sa.Date(), nullable=True),
        sa.Column("endDate", sa.Date(), nullable=True),
        sa.Column("parentSourcedId", sa.Text(), nullable=True),
        sa.Column("schoolYear", sa.Text(), nullable=True),
        sa.Column("orgSourcedId", sa.Text(), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(
            "district_id", "sourcedId", "valid_from", name="pk_roster_academicSessions"
        ),
    )
    with op.batch_alter_table("roster_academicSessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_roster_academicSessions_valid_to", ["district_id", "valid_to"], unique=False
        )

    op.create_table(
        "roster_classes",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("sourcedId", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("dateLastModified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("sourceId", sa.Text(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("grades", sa.Text(), nullable=True),
        sa.Column("courseSourcedId", sa.Text(), nullable=True),
        sa.Column("classCode", sa.Text(), nullable=True),
        sa.Column("classType", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("schoolSourcedId", sa.Text(), nullable=True),
        sa.Column("termSourcedIds", sa.Text(), nullable=True),
        sa.Column("subjects", sa.Text(), nullable=True),
        sa.Column("subjectCodes", sa.Text(), nullable=True),
        sa.Column("periods", sa.Text(), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("district_id", "sourcedId", "valid_from", name="pk_roster_classes"),
    )
    with op.batch_alter_table("roster_classes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_roster_classes_valid_to", ["district_id", "valid_to"], unique=False
        )

    op.create_table(
        "roster_courses",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("sourcedId", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("dateLastModified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("sourceId", sa.Text(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("schoolYearSourcedId", sa.Text(), nullable=True),
        sa.Column("courseCode", sa.Text(), nullable=True),
        sa.Column("grades", sa.Text(), nullable=True),
        sa.Column("orgSourcedId", sa.Text(), nullable=True),
        sa.Column("subjects", sa.Text(), nullable=True),
        sa.Column("subjectCodes", sa.Text(), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("district_id", "sourcedId", "valid_from", name="pk_roster_courses"),
    )
    with op.batch_alter_table("roster_courses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_roster_courses_valid_to", ["district_id", "valid_to"], unique=False
        )

    op.create_table(
        "roster_demographics",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("sourcedId", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("dateLastModified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("sourceId", sa.Text(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.Column("birthDate", sa.Date(), nullable=True),
        sa.Column("sex", sa.Text(), nullable=True),
        sa.Column("americanIndianOrAlaskaNative", sa.Boolean(), nullable=True),
        sa.Column("asian", sa.Boolean(), nullable=True),
        sa.Column("blackOrAfricanAmerican", sa.Boolean(), nullable=True),
        sa.Column("nativeHawaiianOrOtherPacificIslander", sa.Boolean(), nullable=True),
        sa.Column("white", sa.Boolean(), nullable=True),
        sa.Column("demographicRaceTwoOrMoreRaces", sa.Boolean(), nullable=True),
        sa.Column("hispanicOrLatinoEthnicity", sa.Boolean(), nullable=True),
        sa.Column("countryOfBirthCode", sa.Text(), nullable=True),
        sa.Column("stateOfBirthAbbreviation", sa.Text(), nullable=True),
        sa.Column("cityOfBirth", sa.Text(), nullable=True),
        sa.Column("publicSchoolResidenceStatus", sa.Text(), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(
            "district_id", "sourcedId", "valid_from", name="pk_roster_demographics"
        ),
    )
    with op.batch_alter_table("roster_demographics", schema=None) as batch_op:
        batch_op.create_index(
            "ix_roster_demographics_valid_to", ["district_id", "valid_to"], unique=False
        )

    op.create_table(
        "roster_enrollments",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("sourcedId", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("dateLastModified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("sourceId", sa.Text(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.Column("classSourcedId", sa.Text(), nullable=True),
        sa.Column("schoolSourcedId", sa.Text(), nullable=True),
        sa.Column("userSourcedId", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("primary", sa.Boolean(), nullable=True),
        sa.Column("teacherRole", sa.Text(), nullable=True),
        sa.Column("beginDate", sa.Date(), nullable=True),
        sa.Column("endDate", sa.Date(), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(
            "district_id", "sourcedId", "valid_from", name="pk_roster_enrollments"
        ),
    )
    with op.batch_alter_table("roster_enrollments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_roster_enrollments_valid_to", ["district_id", "valid_to"], unique=False
        )

    op.create_table(
        "roster_orgs",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("sourcedId", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("dateLastModified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("sourceId", sa.Text(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("identifier", sa.Text(), nullable=True),
        sa.Column("parentSourcedId", sa.Text(), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("district_id", "sourcedId", "valid_from", name="pk_roster_orgs"),
    )
    with op.batch_alter_table("roster_orgs", schema=None) as batch_op:
        batch_op.create_index("ix_roster_orgs_valid_to", ["district_id", "valid_to"], unique=False)

    op.create_table(
        "roster_userContacts",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("sourcedId", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("dateLastModified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("sourceId", sa.Text(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.Column("studentSourcedId", sa.Text(), nullable=True),
        sa.Column("contactSourcedId", sa.Text(), nullable=True),
        sa.Column("relationshipType", sa.Text(), nullable=True),
        sa.Column("custodial", sa.Boolean(), nullable=True),
        sa.Column("emergency", sa.Boolean(), nullable=True),
        sa.Column("livesWith", sa.Boolean(), nullable=True),
        sa.Column("receivesMail", sa.Boolean(), nullable=True),
        sa.Column("priority", sa.Text(), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(
            "district_id", "sourcedId", "valid_from", name="pk_roster_userContacts"
        ),
    )
    with op.batch_alter_table("roster_userContacts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_roster_userContacts_valid_to", ["district_id", "valid_to"], unique=False
        )

    op.create_table(
        "roster_users",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("sourcedId", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("dateLastModified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("sourceId", sa.Text(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.Column("enabledUser", sa.Boolean(), nullable=True),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("userIds", sa.Text(), nullable=True),
        sa.Column("givenName", sa.Text(), nullable=True),
        sa.Column("familyName", sa.Text(), nullable=True),
        sa.Column("middleName", sa.Text(), nullable=True),
        sa.Column("preferredFirstName", sa.Text(), nullable=True),
        sa.Column("preferredLastName", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("orgSourcedIds", sa.Text(), nullable=True),
        sa.Column("primaryOrgSourcedId", sa.Text(), nullable=True),
        sa.Column("identifier", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("sms", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("agentSourcedIds", sa.Text(), nullable=True),
        sa.Column("grades", sa.Text(), nullable=True),
        sa.Column("birthDate", sa.Date(), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("district_id", "sourcedId", "valid_from", name="pk_roster_users"),
    )
    with op.batch_alter_table("roster_users", schema=None) as batch_op:
        batch_op.create_index("ix_roster_users_valid_to", ["district_id", "valid_to"], unique=False)

    op.create_table(
        "roster_versions",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("hash_tag", sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('published', 'restored')", name="ck_roster_versions_status"),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("district_id", "version"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("phases", sa.Text(), server_default="{}", nullable=False),
        sa.Column("counts", sa.Text(), server_default="{}", nullable=False),
        sa.Column("report", sa.Text(), server_default="{}", nullable=False),
        sa.Column("change_summary", sa.Text(), server_default="{}", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("roster_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("ix_runs_district_created", ["district_id", "id"], unique=False)

    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("app", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("district_id", "name", name="uq_sources_district_name"),
    )
    op.create_table(
        "change_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sourced_ids", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('added', 'updated', 'deleted')", name="ck_change_sets_kind"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("change_sets", schema=None) as batch_op:
        batch_op.create_index("ix_change_sets_run", ["run_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("change_sets", schema=None) as batch_op:
        batch_op.drop_index("ix_change_sets_run")

    op.drop_table("change_sets")
    op.drop_table("sources")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_district_created")

    op.drop_table("runs")
    op.drop_table("roster_versions")
    with op.batch_alter_table("roster_users", schema=None) as batch_op:
        batch_op.drop_index("ix_roster_users_valid_to")

    op.drop_table("roster_users")
    with op.batch_alter_table("roster_userContacts", schema=None) as batch_op:
        batch_op.drop_index("ix_roster_userContacts_valid_to")

    op.drop_table("roster_userContacts")
    with op.batch_alter_table("roster_orgs", schema=None) as batch_op:
        batch_op.drop_index("ix_roster_orgs_valid_to")

    op.drop_table("roster_orgs")
    with op.batch_alter_table("roster_enrollments", schema=None) as batch_op:
        batch_op.drop_index("ix_roster_enrollments_valid_to")

    op.drop_table("roster_enrollments")
    with op.batch_alter_table("roster_demographics", schema=None) as batch_op:
        batch_op.drop_index("ix_roster_demographics_valid_to")

    op.drop_table("roster_demographics")
    with op.batch_alter_table("roster_courses", schema=None) as batch_op:
        batch_op.drop_index("ix_roster_courses_valid_to")

    op.drop_table("roster_courses")
    with op.batch_alter_table("roster_classes", schema=None) as batch_op:
        batch_op.drop_index("ix_roster_classes_valid_to")

    op.drop_table("roster_classes")
    with op.batch_alter_table("roster_academicSessions", schema=None) as batch_op:
        batch_op.drop_index("ix_roster_academicSessions_valid_to")

    op.drop_table("roster_academicSessions")
    op.drop_table("config_versions")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_district_at")

    op.drop_table("audit_log")
    op.drop_table("districts")
