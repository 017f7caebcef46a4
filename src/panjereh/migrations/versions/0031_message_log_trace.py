"""The message log records the W3C trace id of the request that made each call, so an operator can go
from a trace to its log entries and back (docs/protocols/tracing.md).

Entries that exist keep no trace id (`NULL`): the chain hashes the field only when set, so they verify
unchanged.

Revision ID: 0031
Revises: 0030
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_log") as batch:
        batch.add_column(sa.Column("trace_id", sa.String(length=32), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # The message log is append-only and national-size: a plain CREATE INDEX would block its writes
        # (every exchange call) for the whole build. CONCURRENTLY cannot run in a transaction.
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_exchange_log_trace_id",
                "exchange_log",
                ["trace_id"],
                postgresql_concurrently=True,
                if_not_exists=True,
            )
    else:
        op.create_index("ix_exchange_log_trace_id", "exchange_log", ["trace_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.drop_index(
                "ix_exchange_log_trace_id",
                table_name="exchange_log",
                postgresql_concurrently=True,
                if_exists=True,
            )
    else:
        op.drop_index("ix_exchange_log_trace_id", table_name="exchange_log")
    with op.batch_alter_table("exchange_log") as batch:
        batch.drop_column("trace_id")
