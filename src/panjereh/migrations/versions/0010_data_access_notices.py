"""Data-access notices: the citizen's choice to hear about looks at their data, and the ledger cursor.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_ledger_notice_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_ledger_notice_cursor")),
    )
    op.create_table(
        "notify_preference",
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("data_access", sa.Boolean(), nullable=False),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("national_code", name=op.f("pk_notify_preference")),
    )


def downgrade() -> None:
    op.drop_table("notify_preference")
    op.drop_table("exchange_ledger_notice_cursor")
