"""Analytics: the rollups' version number, which the dashboard's cached figures are keyed on.

Revision ID: 0021
Revises: 0020
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "analytics_rollup_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_rollup_version")),
    )
    # The one row exists from the start: a change is then always an UPDATE, which PostgreSQL serialises.
    op.bulk_insert(table, [{"id": 1, "generation": 0, "changed_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("analytics_rollup_version")
