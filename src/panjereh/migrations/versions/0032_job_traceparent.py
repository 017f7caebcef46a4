"""A job keeps the W3C traceparent of the request that queued it, so that the worker's run (and its
registry calls) continues that request's trace (docs/protocols/tracing.md, "Through a job").

Jobs that exist keep none (`NULL`): each of their runs starts a trace of its own, as before. A nullable
column without a default: on PostgreSQL adding it changes the catalog only, not the rows.

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_job") as batch:
        batch.add_column(sa.Column("traceparent", sa.String(length=55), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_job") as batch:
        batch.drop_column("traceparent")
