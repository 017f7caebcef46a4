"""Delivery: service definitions, requests and their timelines, officers, jobs, feed cursors.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_definition",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("title_fa", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.Column("derived_level", sa.Integer(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("is_smart", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("loaded_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_definition")),
        sa.UniqueConstraint("slug", "digest", name="uq_delivery_definition_slug_digest"),
    )
    with op.batch_alter_table("delivery_definition", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_definition_slug"), ["slug"], unique=False)

    op.create_table(
        "delivery_feed_cursor",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("since", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_delivery_feed_cursor")),
    )
    op.create_table(
        "delivery_job",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=True),
        sa.Column(
            "status",
            sa.Enum("queued", "running", "done", "failed", name="jobstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(length=80), nullable=True),
        sa.Column("locked_until", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_job")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_delivery_job_dedupe_key")),
    )
    with op.batch_alter_table("delivery_job", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_job_status_run_at", ["status", "run_at"], unique=False)

    op.create_table(
        "delivery_officer",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_officer")),
        sa.UniqueConstraint("national_code", name=op.f("uq_delivery_officer_national_code")),
    )
    with op.batch_alter_table("delivery_officer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_officer_agency_code"), ["agency_code"], unique=False)

    op.create_table(
        "delivery_request",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tracking_code", sa.String(length=12), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("definition_id", sa.String(length=32), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("submission_digest", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "submitted",
                "processing",
                "waiting",
                "in_queue",
                "in_review",
                "needs_info",
                "approved",
                "refused",
                name="requeststate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("decision", sa.JSON(), nullable=True),
        sa.Column("recommendation", sa.JSON(), nullable=True),
        sa.Column("decided_automatically", sa.Boolean(), nullable=False),
        sa.Column("human_touched", sa.Boolean(), nullable=False),
        sa.Column("officer_national_code", sa.String(length=10), nullable=True),
        sa.Column("document_number", sa.String(length=40), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("decided_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["delivery_definition.id"],
            name=op.f("fk_delivery_request_definition_id_delivery_definition"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_request")),
        sa.UniqueConstraint("national_code", "idempotency_key", name="uq_delivery_request_idempotency"),
        sa.UniqueConstraint("tracking_code", name=op.f("uq_delivery_request_tracking_code")),
    )
    with op.batch_alter_table("delivery_request", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_request_agency_state", ["agency_code", "state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_delivery_request_definition_id"), ["definition_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_delivery_request_national_code"), ["national_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_delivery_request_slug"), ["slug"], unique=False)

    op.create_table(
        "delivery_request_event",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "submitted",
                "processing",
                "waiting",
                "in_queue",
                "in_review",
                "needs_info",
                "approved",
                "refused",
                name="requeststate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=20), nullable=False),
        sa.Column("message_fa", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["delivery_request.id"],
            name=op.f("fk_delivery_request_event_request_id_delivery_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_request_event")),
    )
    with op.batch_alter_table("delivery_request_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_request_event_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery_request_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_request_event_request_id"))

    op.drop_table("delivery_request_event")
    with op.batch_alter_table("delivery_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_request_slug"))
        batch_op.drop_index(batch_op.f("ix_delivery_request_national_code"))
        batch_op.drop_index(batch_op.f("ix_delivery_request_definition_id"))
        batch_op.drop_index("ix_delivery_request_agency_state")

    op.drop_table("delivery_request")
    with op.batch_alter_table("delivery_officer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_officer_agency_code"))

    op.drop_table("delivery_officer")
    with op.batch_alter_table("delivery_job", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_job_status_run_at")

    op.drop_table("delivery_job")
    op.drop_table("delivery_feed_cursor")
    with op.batch_alter_table("delivery_definition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_definition_slug"))

    op.drop_table("delivery_definition")
