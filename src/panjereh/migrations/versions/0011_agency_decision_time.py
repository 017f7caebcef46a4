"""Analytics: each agency's time to decision per Jalali month (seconds, beside the 0..1 shares).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_agency_decision_time",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("median_seconds", sa.Float(), nullable=False),
        sa.Column("decided", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("recorded_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_agency_decision_time")),
        sa.UniqueConstraint(
            "agency_code", "period", "source", name=op.f("uq_analytics_agency_decision_time_agency_code")
        ),
    )
    with op.batch_alter_table("analytics_agency_decision_time", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_agency_decision_time_agency_code"), ["agency_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("analytics_agency_decision_time", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_agency_decision_time_agency_code"))
    op.drop_table("analytics_agency_decision_time")
