"""Issued documents.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_document",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("document_type", sa.String(length=60), nullable=False),
        sa.Column("title_fa", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("subject_national_code", sa.String(length=10), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("issuer_agency_code", sa.String(length=40), nullable=False),
        sa.Column("issuer_name_fa", sa.String(length=200), nullable=False),
        sa.Column("issuer_name_en", sa.String(length=200), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("request_tracking_code", sa.String(length=40), nullable=True),
        sa.Column("issued_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("revoked_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=40), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_document")),
        sa.UniqueConstraint("number", name=op.f("uq_issued_document_number")),
    )
    with op.batch_alter_table("issued_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_issued_document_issuer_agency_code"), ["issuer_agency_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_issued_document_request_tracking_code"), ["request_tracking_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_issued_document_subject_national_code"), ["subject_national_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("issued_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_document_subject_national_code"))
        batch_op.drop_index(batch_op.f("ix_issued_document_request_tracking_code"))
        batch_op.drop_index(batch_op.f("ix_issued_document_issuer_agency_code"))
    op.drop_table("issued_document")
