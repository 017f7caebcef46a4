"""OIDC tables: clients, signing keys, authorization codes, grants, tokens, consents, assertion ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.core.db import Base, new_id, utcnow


class OidcClient(Base):
    """An agency app registered as a relying party."""

    __tablename__ = "oidc_client"

    client_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name_fa: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    agency_code: Mapped[str | None] = mapped_column(String(40))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40))
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    subject_type: Mapped[str] = mapped_column(String(20), default="public")
    sector_identifier: Mapped[str] = mapped_column(String(300), default="")
    scopes: Mapped[str] = mapped_column(String(300), default="openid profile national_code phone")
    min_level: Mapped[int] = mapped_column(Integer, default=1)
    # OIDC Dynamic Registration §2: "web" (a server) or "native" (a mobile or desktop app, RFC 8252).
    application_type: Mapped[str] = mapped_column(String(10), default="web")
    # OIDC Back-Channel Logout 1.0 §2.2: where the provider POSTs a logout token when a session ends.
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(500))
    # A sandbox app signs in the test personas only (oidc.authorize.admits; docs/protocols/oidc.md).
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Verified registry attributes (oidc.attributes): the reason the client gave for each it asks for
    # ({scope: [fa, en]}), and those an operator approved; only approved ones are ever asked of a citizen.
    attribute_purposes: Mapped[dict[str, list[str]] | None] = mapped_column(JSON, default=dict)
    approved_attributes: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column()


class OidcGrant(Base):
    """What a citizen granted a client in one authorization; every token descends from one grant."""

    __tablename__ = "oidc_grant"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oidc_client.client_id", ondelete="CASCADE"), index=True
    )
    citizen_id: Mapped[str] = mapped_column(ForeignKey("identity_citizen.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str | None] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(300))
    acr: Mapped[str] = mapped_column(String(40))
    amr: Mapped[str] = mapped_column(String(100))
    auth_time: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_reason: Mapped[str | None] = mapped_column(String(60))


class OidcAuthorizationCode(Base):
    """A single-use authorization code (only its hash is stored)."""

    __tablename__ = "oidc_authorization_code"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id", ondelete="CASCADE"))
    citizen_id: Mapped[str] = mapped_column(ForeignKey("identity_citizen.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(String(32))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(300))
    nonce: Mapped[str | None] = mapped_column(String(300))
    code_challenge: Mapped[str] = mapped_column(String(128))
    acr: Mapped[str] = mapped_column(String(40))
    amr: Mapped[str] = mapped_column(String(100))
    auth_time: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    grant_id: Mapped[str | None] = mapped_column(String(32))


class OidcToken(Base):
    """An access or refresh token (only its hash is stored); a used refresh token marks its rotation."""

    __tablename__ = "oidc_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # access | refresh
    # An access token's own scope when a refresh narrowed it (RFC 6749 §6); None: the grant's scope.
    scope: Mapped[str | None] = mapped_column(String(300))
    grant_id: Mapped[str] = mapped_column(ForeignKey("oidc_grant.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class OidcConsent(Base):
    """The scopes a citizen agreed to share with a client; remembered until revoked. Each attribute scope
    (`oidc.attributes`) is consented to, and withdrawn, on its own: it is in `scope` or it is not."""

    __tablename__ = "oidc_consent"
    __table_args__ = (UniqueConstraint("citizen_id", "client_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    citizen_id: Mapped[str] = mapped_column(ForeignKey("identity_citizen.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(300))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class OidcAssertionJti(Base):
    """`jti` values of client assertions already used (private_key_jwt replay protection)."""

    __tablename__ = "oidc_assertion_jti"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
