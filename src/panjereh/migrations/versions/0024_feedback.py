"""Feedback: citizens' ratings of services and their problem reports, with the agencies' replies.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_rating",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("service_slug", sa.String(length=80), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("tracking_code", sa.String(length=12), nullable=True),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_rating")),
        sa.UniqueConstraint("national_code", "service_slug", name=op.f("uq_feedback_rating_national_code")),
    )
    op.create_index(
        "ix_feedback_rating_agency_service", "feedback_rating", ["agency_code", "service_slug"], unique=False
    )
    op.create_table(
        "feedback_problem_report",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("service_slug", sa.String(length=80), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("tracking_code", sa.String(length=12), nullable=True),
        sa.Column(
            "category",
            sa.Enum(
                "page_broken",
                "wrong_information",
                "could_not_finish",
                "registry_error",
                "accessibility",
                "other",
                name="problemcategory",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("open", "acknowledged", "resolved", name="reportstate", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("handled_by", sa.String(length=10), nullable=True),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_problem_report")),
    )
    op.create_index(
        "ix_feedback_problem_report_agency_state",
        "feedback_problem_report",
        ["agency_code", "state"],
        unique=False,
    )
    op.create_index(
        "ix_feedback_problem_report_reporter",
        "feedback_problem_report",
        ["national_code", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_feedback_problem_report_reporter", table_name="feedback_problem_report")
    op.drop_index("ix_feedback_problem_report_agency_state", table_name="feedback_problem_report")
    op.drop_table("feedback_problem_report")
    op.drop_index("ix_feedback_rating_agency_service", table_name="feedback_rating")
    op.drop_table("feedback_rating")
