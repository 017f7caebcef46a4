"""Documents: the wallet's copies of other issuers' documents, shares of chosen claims and their openings.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents_wallet_copy",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subject_national_code", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("item_key", sa.String(length=200), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("claims_hash", sa.String(length=64), nullable=False),
        sa.Column("fetched_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checked_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["issued_document.id"],
            name=op.f("fk_documents_wallet_copy_document_id_issued_document"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents_wallet_copy")),
    )
    op.create_index(
        "ix_documents_wallet_copy_current",
        "documents_wallet_copy",
        ["subject_national_code", "source", "item_key"],
        unique=False,
    )
    op.create_index(
        op.f("ix_documents_wallet_copy_document_id"), "documents_wallet_copy", ["document_id"], unique=False
    )
    op.create_table(
        "documents_share",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("owner_national_code", sa.String(length=10), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("recipient_label", sa.String(length=100), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["issued_document.id"],
            name=op.f("fk_documents_share_document_id_issued_document"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents_share")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_documents_share_token_hash")),
    )
    op.create_index(op.f("ix_documents_share_document_id"), "documents_share", ["document_id"], unique=False)
    op.create_index(
        op.f("ix_documents_share_owner_national_code"),
        "documents_share",
        ["owner_national_code"],
        unique=False,
    )
    op.create_table(
        "documents_share_opening",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("share_id", sa.String(length=32), nullable=False),
        sa.Column("opened_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("agent", sa.String(length=40), nullable=False),
        sa.Column("network", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["share_id"],
            ["documents_share.id"],
            name=op.f("fk_documents_share_opening_share_id_documents_share"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents_share_opening")),
    )
    op.create_index(
        op.f("ix_documents_share_opening_share_id"), "documents_share_opening", ["share_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("documents_share_opening")
    op.drop_table("documents_share")
    op.drop_table("documents_wallet_copy")
