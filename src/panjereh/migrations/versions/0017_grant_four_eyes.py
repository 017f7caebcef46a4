"""Exchange grants: who asked and who approved, and a second approver where a data service requires one.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_service") as batch:
        batch.add_column(sa.Column("grant_approvals", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("exchange_grant") as batch:
        batch.add_column(sa.Column("approvals_required", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("requested_by", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("first_approved_by", sa.String(length=80), nullable=True))
        batch.add_column(
            sa.Column("first_approved_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("approved_by", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exchange_grant") as batch:
        batch.drop_column("approved_by")
        batch.drop_column("first_approved_at")
        batch.drop_column("first_approved_by")
        batch.drop_column("requested_by")
        batch.drop_column("approvals_required")
    with op.batch_alter_table("exchange_service") as batch:
        batch.drop_column("grant_approvals")
