"""OIDC: native (RFC 8252) and web clients, back-channel logout URIs, an access token's narrowed scope.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_client", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("application_type", sa.String(length=10), nullable=False, server_default="web")
        )
        batch_op.add_column(sa.Column("backchannel_logout_uri", sa.String(length=500), nullable=True))
    with op.batch_alter_table("oidc_client", schema=None) as batch_op:
        batch_op.alter_column("application_type", server_default=None)
    with op.batch_alter_table("oidc_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oidc_token", schema=None) as batch_op:
        batch_op.drop_column("scope")
    with op.batch_alter_table("oidc_client", schema=None) as batch_op:
        batch_op.drop_column("backchannel_logout_uri")
        batch_op.drop_column("application_type")
