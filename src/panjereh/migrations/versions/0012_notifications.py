"""Notify: each SMS and e-mail stored with its delivery status, sent by a job through a provider.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_notification",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=True),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("subject_fa", sa.String(length=300), nullable=False),
        sa.Column("body_sealed", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("expires_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "queued", "sending", "sent", "failed", name="notificationstatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("provider", sa.String(length=40), nullable=True),
        sa.Column("provider_reference", sa.String(length=120), nullable=True),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_notification")),
    )
    with op.batch_alter_table("notify_notification", schema=None) as batch_op:
        batch_op.create_index("ix_notify_notification_status_created", ["status", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notify_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notify_notification_status_created")
    op.drop_table("notify_notification")
