"""Signing keys and the JWKS: RS256 keys made with joserfc, rotated, old keys kept for verification."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Sequence
from typing import Any

from joserfc import jwk
from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.crypto import fernet
from panjereh.core.db import utcnow
from panjereh.oidc.models import OidcSigningKey

ALG = "RS256"  # OIDC Core §15.1: every OP supports RS256
CACHE_SECONDS = 30


def generate(session: Session, settings: Settings) -> OidcSigningKey:
    """A new active key; earlier active keys are retired (still published, no longer used to sign)."""
    kid = f"{utcnow():%Y%m%d}-{secrets.token_hex(4)}"
    key = jwk.RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": ALG})
    pem = key.as_pem(private=True)
    now = utcnow()
    for old in session.scalars(select(OidcSigningKey).where(OidcSigningKey.status == "active")):
        old.status, old.retired_at = "retired", now
    row = OidcSigningKey(
        kid=kid,
        alg=ALG,
        private_key=fernet(settings.secret_key, "oidc-keys").encrypt(pem).decode(),
        public_jwk=key.as_dict(private=False),
        status="active",
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def all_keys(session: Session) -> Sequence[OidcSigningKey]:
    return session.scalars(select(OidcSigningKey).order_by(OidcSigningKey.created_at.desc())).all()


class KeyRing:
    """The keys of this process, re-read every few seconds (so a rotation reaches every worker)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self._signing: jwk.RSAKey | None = None
        self._public: list[dict[str, Any]] = []

    def _load(self, session: Session) -> None:
        rows = list(all_keys(session))
        if not any(row.status == "active" for row in rows):
            generate(session, self.settings)
            rows = list(all_keys(session))
        active = next(row for row in rows if row.status == "active")
        pem = fernet(self.settings.secret_key, "oidc-keys").decrypt(active.private_key.encode())
        self._signing = jwk.RSAKey.import_key(pem, parameters={"kid": active.kid, "use": "sig", "alg": ALG})
        self._public = [dict(row.public_jwk) for row in rows]
        self._loaded_at = time.monotonic()

    def refresh(self, session: Session, *, force: bool = False) -> None:
        with self._lock:
            if force or self._signing is None or time.monotonic() - self._loaded_at > CACHE_SECONDS:
                self._load(session)

    def signing_key(self, session: Session) -> jwk.RSAKey:
        self.refresh(session)
        assert self._signing is not None
        return self._signing

    def jwks(self, session: Session) -> dict[str, Any]:
        self.refresh(session)
        return {"keys": list(self._public)}

    def key_set(self, session: Session) -> jwk.KeySet:
        return jwk.KeySet.import_key_set(self.jwks(session))  # type: ignore[arg-type]
