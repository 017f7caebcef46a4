"""Identity, notify and OIDC: citizens, sessions, login history, rate counters, inbox, OIDC provider.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_citizen",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("father_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("gender", sa.String(length=10), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.Column("registry_checked_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("totp_secret", sa.Text(), nullable=True),
        sa.Column("totp_enabled_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_citizen")),
        sa.UniqueConstraint("national_code", name=op.f("uq_identity_citizen_national_code")),
    )
    with op.batch_alter_table("identity_citizen", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_citizen_mobile"), ["mobile"], unique=False)

    op.create_table(
        "identity_login_event",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("method", sa.String(length=30), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_login_event")),
    )
    with op.batch_alter_table("identity_login_event", schema=None) as batch_op:
        batch_op.create_index("ix_identity_login_event_owner_at", ["national_code", "at"], unique=False)

    op.create_table(
        "identity_rate_counter",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_identity_rate_counter")),
    )
    with op.batch_alter_table("identity_rate_counter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_rate_counter_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "notify_inbox_message",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("subject_fa", sa.String(length=300), nullable=False),
        sa.Column("body_fa", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_inbox_message")),
    )
    with op.batch_alter_table("notify_inbox_message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notify_inbox_message_owner_created", ["national_code", "created_at"], unique=False
        )

    op.create_table(
        "oidc_assertion_jti",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("expires_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_oidc_assertion_jti")),
    )
    with op.batch_alter_table("oidc_assertion_jti", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_assertion_jti_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "oidc_client",
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("name_fa", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=True),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False),
        sa.Column("token_endpoint_auth_method", sa.String(length=40), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("jwks", sa.JSON(), nullable=True),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("sector_identifier", sa.String(length=300), nullable=False),
        sa.Column("scopes", sa.String(length=300), nullable=False),
        sa.Column("min_level", sa.Integer(), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_oidc_client")),
    )
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
    op.create_table(
        "identity_login_attempt",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.Column("citizen_id", sa.String(length=32), nullable=True),
        sa.Column("registry_data", sa.JSON(), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("binding_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("code_verified_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["identity_citizen.id"],
            name=op.f("fk_identity_login_attempt_citizen_id_identity_citizen"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_login_attempt")),
    )
    with op.batch_alter_table("identity_login_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_login_attempt_national_code"), ["national_code"], unique=False
        )

    op.create_table(
        "identity_web_session",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("citizen_id", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("amr", sa.String(length=100), nullable=False),
        sa.Column("auth_time", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["identity_citizen.id"],
            name=op.f("fk_identity_web_session_citizen_id_identity_citizen"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_web_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_identity_web_session_token_hash")),
    )
    with op.batch_alter_table("identity_web_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_web_session_citizen_id"), ["citizen_id"], unique=False)

    op.create_table(
        "oidc_authorization_code",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("citizen_id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("nonce", sa.String(length=300), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("acr", sa.String(length=40), nullable=False),
        sa.Column("amr", sa.String(length=100), nullable=False),
        sa.Column("auth_time", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("grant_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["identity_citizen.id"],
            name=op.f("fk_oidc_authorization_code_citizen_id_identity_citizen"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_client.client_id"],
            name=op.f("fk_oidc_authorization_code_client_id_oidc_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_oidc_authorization_code")),
    )
    with op.batch_alter_table("oidc_authorization_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oidc_authorization_code_citizen_id"), ["citizen_id"], unique=False
        )

    op.create_table(
        "oidc_consent",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("citizen_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("granted_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["identity_citizen.id"],
            name=op.f("fk_oidc_consent_citizen_id_identity_citizen"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_client.client_id"],
            name=op.f("fk_oidc_consent_client_id_oidc_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_consent")),
        sa.UniqueConstraint("citizen_id", "client_id", name=op.f("uq_oidc_consent_citizen_id")),
    )
    with op.batch_alter_table("oidc_consent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_consent_citizen_id"), ["citizen_id"], unique=False)

    op.create_table(
        "oidc_grant",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("citizen_id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=True),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("acr", sa.String(length=40), nullable=False),
        sa.Column("amr", sa.String(length=100), nullable=False),
        sa.Column("auth_time", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["identity_citizen.id"],
            name=op.f("fk_oidc_grant_citizen_id_identity_citizen"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_client.client_id"],
            name=op.f("fk_oidc_grant_client_id_oidc_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_grant")),
    )
    with op.batch_alter_table("oidc_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_grant_citizen_id"), ["citizen_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oidc_grant_client_id"), ["client_id"], unique=False)

    op.create_table(
        "oidc_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["oidc_grant.id"],
            name=op.f("fk_oidc_token_grant_id_oidc_grant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oidc_token")),
    )
    with op.batch_alter_table("oidc_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_token_grant_id"), ["grant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oidc_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_token_grant_id"))

    op.drop_table("oidc_token")
    with op.batch_alter_table("oidc_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_grant_client_id"))
        batch_op.drop_index(batch_op.f("ix_oidc_grant_citizen_id"))

    op.drop_table("oidc_grant")
    with op.batch_alter_table("oidc_consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_consent_citizen_id"))

    op.drop_table("oidc_consent")
    with op.batch_alter_table("oidc_authorization_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_authorization_code_citizen_id"))

    op.drop_table("oidc_authorization_code")
    with op.batch_alter_table("identity_web_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_web_session_citizen_id"))

    op.drop_table("identity_web_session")
    with op.batch_alter_table("identity_login_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_login_attempt_national_code"))

    op.drop_table("identity_login_attempt")
    op.drop_table("oidc_signing_key")
    op.drop_table("oidc_client")
    with op.batch_alter_table("oidc_assertion_jti", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_assertion_jti_expires_at"))

    op.drop_table("oidc_assertion_jti")
    with op.batch_alter_table("notify_inbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_notify_inbox_message_owner_created")

    op.drop_table("notify_inbox_message")
    with op.batch_alter_table("identity_rate_counter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_rate_counter_expires_at"))

    op.drop_table("identity_rate_counter")
    with op.batch_alter_table("identity_login_event", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_login_event_owner_at")

    op.drop_table("identity_login_event")
    with op.batch_alter_table("identity_citizen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_citizen_mobile"))

    op.drop_table("identity_citizen")
