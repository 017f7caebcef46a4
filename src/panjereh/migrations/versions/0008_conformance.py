"""The connection standard: runs, results with reasons, streaks, status history.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conformance_run",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum("schedule", "manual", "demo", name="runtrigger", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("started_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "verdict",
            sa.Enum(
                "passing",
                "failing",
                "unreachable",
                "no_systems",
                name="runverdict",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("warned", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column(
            "status_before",
            sa.Enum(
                "not_connected",
                "connected",
                "standard_lost",
                "disconnected",
                name="connectionstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status_after",
            sa.Enum(
                "not_connected",
                "connected",
                "standard_lost",
                "disconnected",
                name="connectionstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_conformance_run_agency_id_agency"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conformance_run")),
    )
    with op.batch_alter_table("conformance_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conformance_run_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_conformance_run_started_at"), ["started_at"], unique=False)

    op.create_table(
        "conformance_state",
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("failing_streak", sa.Integer(), nullable=False),
        sa.Column("unreachable_streak", sa.Integer(), nullable=False),
        sa.Column("passing_streak", sa.Integer(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("suspended_reason", sa.Text(), nullable=False),
        sa.Column("last_run_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_conformance_state_agency_id_agency"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agency_id", name=op.f("pk_conformance_state")),
    )
    with op.batch_alter_table("conformance_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conformance_state_last_run_at"), ["last_run_at"], unique=False)

    op.create_table(
        "conformance_result",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("system_code", sa.String(length=60), nullable=True),
        sa.Column("check_id", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pass",
                "warn",
                "fail",
                "not_applicable",
                "skipped",
                name="checkstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.Column("reason_fa", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["conformance_run.id"],
            name=op.f("fk_conformance_result_run_id_conformance_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conformance_result")),
    )
    with op.batch_alter_table("conformance_result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conformance_result_run_id"), ["run_id"], unique=False)

    op.create_table(
        "connection_status_change",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "not_connected",
                "connected",
                "standard_lost",
                "disconnected",
                name="connectionstatus",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "not_connected",
                "connected",
                "standard_lost",
                "disconnected",
                name="connectionstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.Column("reason_fa", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_connection_status_change_agency_id_agency"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["conformance_run.id"],
            name=op.f("fk_connection_status_change_run_id_conformance_run"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection_status_change")),
    )
    with op.batch_alter_table("connection_status_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connection_status_change_agency_id"), ["agency_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_connection_status_change_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("connection_status_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connection_status_change_at"))
        batch_op.drop_index(batch_op.f("ix_connection_status_change_agency_id"))

    op.drop_table("connection_status_change")
    with op.batch_alter_table("conformance_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conformance_result_run_id"))

    op.drop_table("conformance_result")
    with op.batch_alter_table("conformance_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conformance_state_last_run_at"))

    op.drop_table("conformance_state")
    with op.batch_alter_table("conformance_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conformance_run_started_at"))
        batch_op.drop_index(batch_op.f("ix_conformance_run_agency_id"))

    op.drop_table("conformance_run")
