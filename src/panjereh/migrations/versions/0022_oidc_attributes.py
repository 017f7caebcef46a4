"""Verified attributes for relying parties (issue 14, item 4): an OIDC client keeps the reason it gave for
each registry attribute it asks for and the attributes an operator approved.

Clients that exist asked for no attribute: no reasons (`{}`) and nothing approved (`''`).

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_client") as batch:
        batch.add_column(sa.Column("attribute_purposes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("approved_attributes", sa.String(300), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("oidc_client") as batch:
        batch.drop_column("approved_attributes")
        batch.drop_column("attribute_purposes")
