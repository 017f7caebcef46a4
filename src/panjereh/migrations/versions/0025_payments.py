"""Payments: a request's fee at the gateway, and the reconciliation runs with their mismatches.

A request may now wait in the state `awaiting_payment` (stored as a string: no schema change).

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_reconciliation",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("ran_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("gateway_count", sa.Integer(), nullable=False),
        sa.Column("platform_count", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_reconciliation")),
    )
    with op.batch_alter_table("payment_reconciliation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_reconciliation_day"), ["day"], unique=False)

    op.create_table(
        "payment_mismatch",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "unknown_here",
                "unsettled_here",
                "amount_differs",
                "missing_there",
                name="mismatchkind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("token", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("payment_id", sa.String(length=32), nullable=True),
        sa.Column("gateway_amount", sa.BigInteger(), nullable=True),
        sa.Column("platform_amount", sa.BigInteger(), nullable=True),
        sa.Column("gateway_state", sa.String(length=20), nullable=True),
        sa.Column("platform_state", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["payment_reconciliation.id"],
            name=op.f("fk_payment_mismatch_run_id_payment_reconciliation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_mismatch")),
    )
    with op.batch_alter_table("payment_mismatch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_mismatch_run_id"), ["run_id"], unique=False)

    op.create_table(
        "payment",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("tracking_code", sa.String(length=12), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("amount_rials", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=True),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("card_mask", sa.String(length=20), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "paid",
                "settled",
                "canceled",
                "declined",
                "expired",
                "failed",
                "reversed",
                name="paymentstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("failure", sa.String(length=60), nullable=True),
        sa.Column("refund_reason", sa.String(length=60), nullable=True),
        sa.Column("receipt_number", sa.String(length=40), nullable=True),
        sa.Column("paid_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("settled_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reversed_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["delivery_request.id"], name=op.f("fk_payment_request_id_delivery_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("order_id", name=op.f("uq_payment_order_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_payment_reference")),
        sa.UniqueConstraint("token", name=op.f("uq_payment_token")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_national_code"), ["national_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_request_id"), ["request_id"], unique=False)
        batch_op.create_index("ix_payment_state_updated", ["state", "updated_at"], unique=False)
        batch_op.create_index(
            "uq_payment_live_request",
            ["request_id"],
            unique=True,
            sqlite_where=sa.text("state IN ('pending', 'paid', 'settled')"),
            postgresql_where=sa.text("state IN ('pending', 'paid', 'settled')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_payment_live_request",
            sqlite_where=sa.text("state IN ('pending', 'paid', 'settled')"),
            postgresql_where=sa.text("state IN ('pending', 'paid', 'settled')"),
        )
        batch_op.drop_index("ix_payment_state_updated")
        batch_op.drop_index(batch_op.f("ix_payment_request_id"))
        batch_op.drop_index(batch_op.f("ix_payment_national_code"))

    op.drop_table("payment")
    with op.batch_alter_table("payment_mismatch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_mismatch_run_id"))

    op.drop_table("payment_mismatch")
    with op.batch_alter_table("payment_reconciliation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_reconciliation_day"))

    op.drop_table("payment_reconciliation")
