"""OIDC: signing keys leave the database for the key ring under PANJEREH_HOME (`core.keys`).

The provider makes a new key on first use; tokens signed by a key of this table stop verifying.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("oidc_signing_key")


def downgrade() -> None:
    op.create_table(
        "oidc_signing_key",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=10), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_oidc_signing_key")),
    )
