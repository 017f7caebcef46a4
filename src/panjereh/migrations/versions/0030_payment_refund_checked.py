"""Payments: a settled payment's refund decided once (`refund_checked_at`), so the refund sweep reads only
the open ones; a request may now be `withdrawn` (stored as a string: no schema change for the state).

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

OPEN = "state = 'settled' AND refund_checked_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("refund_checked_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_payment_refund_open",
            ["request_id"],
            unique=False,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )


def downgrade() -> None:
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_payment_refund_open", sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN)
        )
        batch_op.drop_column("refund_checked_at")
