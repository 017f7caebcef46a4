"""Representation: delegations, the trail of acts for another, a request's subject and actor, and a
company as a request's or a document's subject (an 11-digit legal-entity ID).

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "representation_delegation",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("grantor_code", sa.String(length=10), nullable=False),
        sa.Column("grantor_name", sa.String(length=200), nullable=False),
        sa.Column("delegate_code", sa.String(length=10), nullable=False),
        sa.Column("delegate_name", sa.String(length=200), nullable=False),
        sa.Column("slugs", sa.JSON(), nullable=False),
        sa.Column("valid_from", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "active",
                "declined",
                "revoked",
                name="delegationstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_representation_delegation")),
    )
    op.create_index(
        "ix_representation_delegation_delegate", "representation_delegation", ["delegate_code", "status"]
    )
    op.create_index(
        "ix_representation_delegation_grantor", "representation_delegation", ["grantor_code", "status"]
    )
    op.create_table(
        "representation_act",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_code", sa.String(length=10), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("subject_kind", sa.String(length=10), nullable=False),
        sa.Column("subject_code", sa.String(length=20), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_representation_act")),
    )
    op.create_index("ix_representation_act_subject", "representation_act", ["subject_code", "at"])
    op.create_index("ix_representation_act_actor", "representation_act", ["actor_code", "at"])
    # A company's legal-entity ID is 11 digits (SQLite copies the table: env.py turns foreign keys off).
    with op.batch_alter_table("delivery_request") as batch:
        batch.alter_column("national_code", existing_type=sa.String(length=10), type_=sa.String(length=11))
    with op.batch_alter_table("issued_document") as batch:
        batch.alter_column(
            "subject_national_code", existing_type=sa.String(length=10), type_=sa.String(length=11)
        )
    op.add_column(
        "delivery_request",
        sa.Column("subject_kind", sa.String(length=10), server_default="person", nullable=False),
    )
    op.add_column("delivery_request", sa.Column("acted_by", sa.String(length=10), nullable=True))
    op.add_column("delivery_request", sa.Column("representation", sa.JSON(), nullable=True))
    op.create_index("ix_delivery_request_acted_by", "delivery_request", ["acted_by"])


def downgrade() -> None:
    op.drop_index("ix_delivery_request_acted_by", "delivery_request")
    with op.batch_alter_table("delivery_request") as batch:
        batch.drop_column("representation")
        batch.drop_column("acted_by")
        batch.drop_column("subject_kind")
        batch.alter_column("national_code", existing_type=sa.String(length=11), type_=sa.String(length=10))
    with op.batch_alter_table("issued_document") as batch:
        batch.alter_column(
            "subject_national_code", existing_type=sa.String(length=11), type_=sa.String(length=10)
        )
    op.drop_table("representation_act")
    op.drop_table("representation_delegation")
