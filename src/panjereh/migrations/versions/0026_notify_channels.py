"""Notify: channels chosen per kind of notice, the citizen's verified e-mail address, and delivery reports.

The data-access choice (one flag) becomes the `data_access` topic's channels (the inbox, as before).

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_topic_preference",
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("channels", sa.String(length=40), nullable=False),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("national_code", "topic", name=op.f("pk_notify_topic_preference")),
    )
    with op.batch_alter_table("notify_topic_preference", schema=None) as batch_op:
        batch_op.create_index("ix_notify_topic_preference_topic", ["topic", "national_code"], unique=False)
    op.execute(
        "INSERT INTO notify_topic_preference (national_code, topic, channels, updated_at) "
        "SELECT national_code, 'data_access', 'inbox', updated_at FROM notify_preference "
        "WHERE data_access = true"
    )
    with op.batch_alter_table("notify_preference", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(
            sa.Column("email_verified_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("email_pending", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("email_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("email_token_expires_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_column("data_access")
    with op.batch_alter_table("notify_notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inbox_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("subject_en", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("body_en_sealed", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("delivered_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("report", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("report_checked_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_notify_notification_inbox_id"), ["inbox_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notify_notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notify_notification_inbox_id"))
        batch_op.drop_column("report_checked_at")
        batch_op.drop_column("report")
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("body_en_sealed")
        batch_op.drop_column("subject_en")
        batch_op.drop_column("inbox_id")
    with op.batch_alter_table("notify_preference", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data_access", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_column("email_token_expires_at")
        batch_op.drop_column("email_token_hash")
        batch_op.drop_column("email_pending")
        batch_op.drop_column("email_verified_at")
        batch_op.drop_column("email")
    op.execute(
        "UPDATE notify_preference SET data_access = true WHERE national_code IN ("
        "SELECT national_code FROM notify_topic_preference WHERE topic = 'data_access' AND channels <> '')"
    )
    with op.batch_alter_table("notify_topic_preference", schema=None) as batch_op:
        batch_op.drop_index("ix_notify_topic_preference_topic")
    op.drop_table("notify_topic_preference")
