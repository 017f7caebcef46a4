"""Analytics: pseudonymous visit events (partitioned by day on PostgreSQL), rollups, dated agency shares.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_agency_share",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("metric", sa.String(length=30), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("base", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("recorded_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_agency_share")),
        sa.UniqueConstraint(
            "agency_code", "metric", "period", "source", name=op.f("uq_analytics_agency_share_agency_code")
        ),
    )
    with op.batch_alter_table("analytics_agency_share", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_agency_share_agency_code"), ["agency_code"], unique=False
        )

    op.create_table(
        "analytics_month_active",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("active_users", sa.BigInteger(), nullable=False),
        sa.Column("visits", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("computed_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", "month", name=op.f("pk_analytics_month_active")),
    )
    op.create_table(
        "analytics_user",
        sa.Column("visitor", sa.Uuid(), nullable=False),
        sa.Column("first_seen_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("visitor", name=op.f("pk_analytics_user")),
    )
    with op.batch_alter_table("analytics_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_analytics_user_first_seen_on"), ["first_seen_on"], unique=False)

    op.create_table(
        "analytics_user_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("new_users", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_analytics_user_daily")),
    )
    op.create_table(
        "analytics_visit_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("visits", sa.BigInteger(), nullable=False),
        sa.Column("authenticated_visits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "agency_code", "channel", name=op.f("pk_analytics_visit_daily")),
    )
    op.create_table(
        "visit_event",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("occurred_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("visitor", sa.Uuid(), nullable=True),
        sa.Column("agency_code", sa.String(length=40), nullable=True),
        sa.Column("service", sa.String(length=80), nullable=True),
        sa.Column("channel", sa.String(length=12), nullable=False),
        postgresql_partition_by="RANGE (day)",
    )
    with op.batch_alter_table("visit_event", schema=None) as batch_op:
        batch_op.create_index("ix_visit_event_day", ["day"], unique=False, postgresql_using="brin")
    if op.get_bind().dialect.name == "postgresql":
        # Partitions live in their own schema: the models describe the partitioned table, not its parts.
        # Rows of months without their own partition (the national loader makes one per month) land in
        # the default one.
        op.execute("CREATE SCHEMA IF NOT EXISTS analytics_partitions")
        op.execute("CREATE TABLE analytics_partitions.visit_event_default PARTITION OF visit_event DEFAULT")


def downgrade() -> None:
    with op.batch_alter_table("visit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_event_day", postgresql_using="brin")

    op.drop_table("visit_event")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SCHEMA IF EXISTS analytics_partitions CASCADE")
    op.drop_table("analytics_visit_daily")
    op.drop_table("analytics_user_daily")
    with op.batch_alter_table("analytics_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_user_first_seen_on"))

    op.drop_table("analytics_user")
    op.drop_table("analytics_month_active")
    with op.batch_alter_table("analytics_agency_share", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_agency_share_agency_code"))

    op.drop_table("analytics_agency_share")
