"""Notify: the English alternative of an inbox message (shown when the citizen reads in English; rows from
before have none and show in Persian), and an index to find an SMS by the provider's message id (its
delivery-report callback).

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notify_inbox_message") as batch:
        batch.add_column(sa.Column("subject_en", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("body_en", sa.Text(), nullable=True))
    op.create_index(
        "ix_notify_notification_provider_reference",
        "notify_notification",
        ["provider", "provider_reference"],
    )


def downgrade() -> None:
    op.drop_index("ix_notify_notification_provider_reference", table_name="notify_notification")
    with op.batch_alter_table("notify_inbox_message") as batch:
        batch.drop_column("body_en")
        batch.drop_column("subject_en")
