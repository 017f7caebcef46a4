"""The exchange: data services, clients and keys, grants, message log, ledger, stats.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_ledger",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("client_agency_code", sa.String(length=40), nullable=False),
        sa.Column("service_code", sa.String(length=80), nullable=False),
        sa.Column("provider_agency_code", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("case_ref", sa.String(length=200), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_ledger")),
        sa.UniqueConstraint("message_id", name=op.f("uq_exchange_ledger_message_id")),
    )
    with op.batch_alter_table("exchange_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_exchange_ledger_subject_at", ["subject", "at"], unique=False)

    op.create_table(
        "exchange_log",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("client_agency_code", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=80), nullable=False),
        sa.Column("service_code", sa.String(length=80), nullable=False),
        sa.Column("provider_agency_code", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=True),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("case_ref", sa.String(length=200), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=60), nullable=False),
        sa.Column("duration_ms", sa.Double(), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("response_digest", sa.String(length=64), nullable=False),
        sa.Column("request_body", sa.Text(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_exchange_log")),
        sa.UniqueConstraint("message_id", name=op.f("uq_exchange_log_message_id")),
    )
    with op.batch_alter_table("exchange_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_log_at"), ["at"], unique=False)

    op.create_table(
        "exchange_log_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("anchor_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("anchor_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_log_head")),
    )
    op.create_table(
        "exchange_log_seal",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_log_seal")),
    )
    with op.batch_alter_table("exchange_log_seal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_log_seal_seq"), ["seq"], unique=False)

    op.create_table(
        "exchange_stat",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bucket", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("client_agency_code", sa.String(length=40), nullable=False),
        sa.Column("service_code", sa.String(length=80), nullable=False),
        sa.Column("provider_agency_code", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Integer(), nullable=False),
        sa.Column("client_errors", sa.Integer(), nullable=False),
        sa.Column("provider_errors", sa.Integer(), nullable=False),
        sa.Column("platform_errors", sa.Integer(), nullable=False),
        sa.Column("total_ms", sa.Double(), nullable=False),
        sa.Column("max_ms", sa.Double(), nullable=False),
        sa.Column("h0", sa.Integer(), nullable=False),
        sa.Column("h1", sa.Integer(), nullable=False),
        sa.Column("h2", sa.Integer(), nullable=False),
        sa.Column("h3", sa.Integer(), nullable=False),
        sa.Column("h4", sa.Integer(), nullable=False),
        sa.Column("h5", sa.Integer(), nullable=False),
        sa.Column("h6", sa.Integer(), nullable=False),
        sa.Column("h7", sa.Integer(), nullable=False),
        sa.Column("h8", sa.Integer(), nullable=False),
        sa.Column("h9", sa.Integer(), nullable=False),
        sa.Column("h10", sa.Integer(), nullable=False),
        sa.Column("h11", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_stat")),
        sa.UniqueConstraint(
            "bucket", "client_agency_code", "service_code", name=op.f("uq_exchange_stat_bucket")
        ),
    )
    with op.batch_alter_table("exchange_stat", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_stat_bucket"), ["bucket"], unique=False)

    op.create_table(
        "exchange_client",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=80), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("rate_per_second", sa.Integer(), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_exchange_client_agency_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_client")),
        sa.UniqueConstraint("client_id", name=op.f("uq_exchange_client_client_id")),
    )
    with op.batch_alter_table("exchange_client", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_client_agency_id"), ["agency_id"], unique=False)

    op.create_table(
        "exchange_client_key",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_pk", sa.String(length=32), nullable=False),
        sa.Column("kid", sa.String(length=100), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["exchange_client.id"],
            name=op.f("fk_exchange_client_key_client_pk_exchange_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_client_key")),
        sa.UniqueConstraint("client_pk", "kid", name=op.f("uq_exchange_client_key_client_pk")),
    )
    with op.batch_alter_table("exchange_client_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_client_key_client_pk"), ["client_pk"], unique=False)

    op.create_table(
        "exchange_service",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("provider_agency_id", sa.String(length=32), nullable=False),
        sa.Column("system_id", sa.String(length=32), nullable=False),
        sa.Column("title_fa", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("personal_data", sa.Boolean(), nullable=False),
        sa.Column("subject_field", sa.String(length=60), nullable=True),
        sa.Column("latency_objective_ms", sa.Integer(), nullable=False),
        sa.Column("timeout_ms", sa.Integer(), nullable=False),
        sa.Column("request_schema", sa.JSON(), nullable=True),
        sa.Column("response_schema", sa.JSON(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_agency_id"], ["agency.id"], name=op.f("fk_exchange_service_provider_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["system_id"], ["agency_system.id"], name=op.f("fk_exchange_service_system_id_agency_system")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_service")),
        sa.UniqueConstraint("code", name=op.f("uq_exchange_service_code")),
    )
    with op.batch_alter_table("exchange_service", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_service_provider_agency_id"), ["provider_agency_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_exchange_service_system_id"), ["system_id"], unique=False)

    op.create_table(
        "exchange_grant",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_agency_id", sa.String(length=32), nullable=False),
        sa.Column("service_id", sa.String(length=32), nullable=False),
        sa.Column("client_agency_code", sa.String(length=40), nullable=False),
        sa.Column("service_code", sa.String(length=80), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("valid_from", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "approved",
                "refused",
                "revoked",
                name="grantstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("standing", sa.Boolean(), nullable=False),
        sa.Column("requested_note", sa.Text(), nullable=False),
        sa.Column("decided_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("revoked_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_agency_id"], ["agency.id"], name=op.f("fk_exchange_grant_client_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["exchange_service.id"],
            name=op.f("fk_exchange_grant_service_id_exchange_service"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_grant")),
    )
    with op.batch_alter_table("exchange_grant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_grant_client_agency_id"), ["client_agency_id"], unique=False
        )
        batch_op.create_index(
            "ix_exchange_grant_lookup", ["client_agency_code", "service_code", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_exchange_grant_service_id"), ["service_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("exchange_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_grant_service_id"))
        batch_op.drop_index("ix_exchange_grant_lookup")
        batch_op.drop_index(batch_op.f("ix_exchange_grant_client_agency_id"))

    op.drop_table("exchange_grant")
    with op.batch_alter_table("exchange_service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_service_system_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_service_provider_agency_id"))

    op.drop_table("exchange_service")
    with op.batch_alter_table("exchange_client_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_client_key_client_pk"))

    op.drop_table("exchange_client_key")
    with op.batch_alter_table("exchange_client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_client_agency_id"))

    op.drop_table("exchange_client")
    with op.batch_alter_table("exchange_stat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_stat_bucket"))

    op.drop_table("exchange_stat")
    with op.batch_alter_table("exchange_log_seal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_log_seal_seq"))

    op.drop_table("exchange_log_seal")
    op.drop_table("exchange_log_head")
    with op.batch_alter_table("exchange_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_log_at"))

    op.drop_table("exchange_log")
    with op.batch_alter_table("exchange_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_ledger_subject_at")

    op.drop_table("exchange_ledger")
