"""The smart share is measured, never modelled: the demo's modelled smart figures (`demo-model`, Azar 1402)
are removed; the smart duty reads the published definitions the catalog badges (issue 16, item 8).

Downgrade leaves them gone: `panjereh seed` no longer writes them, and they were never measured data.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM analytics_agency_share WHERE metric = 'smart' AND source = 'demo-model'"))


def downgrade() -> None:
    pass
