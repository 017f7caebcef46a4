"""The sandbox as a flag: exchange clients and grants, OIDC clients, service requests and message-log
entries say whether they belong to the sandbox (issue 16, item 5).

Rows that exist are production's (`false`): the sandbox's dry runs before this revision were marked by a
`sandbox:` purpose, and those calls were kept out of the ledger and the figures when they were written.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TABLES = ("exchange_client", "exchange_grant", "exchange_log", "oidc_client", "delivery_request")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("sandbox", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("sandbox")
