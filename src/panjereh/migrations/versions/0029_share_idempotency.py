"""A share's link is shown once (`link_shown_at`), and shares made through the API remember the caller's
Idempotency-Key, so a retry makes no second share.

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "documents_share",
        sa.Column("link_shown_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column("documents_share", sa.Column("idempotency_key", sa.String(length=80), nullable=True))
    op.add_column("documents_share", sa.Column("request_digest", sa.String(length=64), nullable=True))
    # Shares made on the page have no key: NULLs never collide in a unique index (SQLite and PostgreSQL).
    op.create_index(
        "uq_documents_share_idempotency",
        "documents_share",
        ["owner_national_code", "idempotency_key"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_documents_share_idempotency", "documents_share")
    with op.batch_alter_table("documents_share") as batch:
        batch.drop_column("request_digest")
        batch.drop_column("idempotency_key")
        batch.drop_column("link_shown_at")
