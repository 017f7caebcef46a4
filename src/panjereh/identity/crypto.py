"""Keyed hashes and at-rest encryption derived from the platform secret."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet


def sha256_hex(value: str) -> str:
    """SHA-256 of a high-entropy random token (a session token, an attempt binding)."""
    return hashlib.sha256(value.encode()).hexdigest()


def keyed_hash(secret_key: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 under a purpose-specific key: a stolen table alone does not let codes be checked."""
    key = hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def fernet(secret_key: str, purpose: str) -> Fernet:
    """An authenticated cipher for a purpose (TOTP secrets, signing keys), keyed from the platform secret."""
    key = hmac.new(secret_key.encode(), ("fernet:" + purpose).encode(), hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))
