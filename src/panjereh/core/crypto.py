"""Keys derived per purpose from the platform secret (HKDF, RFC 5869), and what is built on them.

One secret, many uses: a CSRF token, a visitor's pseudonym, a login code's hash, an OIDC pairwise
subject and an encrypted TOTP secret each get their own key, so that a value computed for one purpose
is never valid for another (a CSRF token for a citizen's id is not that citizen's pseudonym) and a
key leaked from one use does not open the others.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["derive_key", "fernet", "keyed_digest", "keyed_hash", "sha256_hex", "stable_keyed_hash"]


@lru_cache(maxsize=64)  # a few purposes, asked for on every request: derive each once
def derive_key(secret_key: str, purpose: str, length: int = 32) -> bytes:
    """The key for one purpose: HKDF-SHA256 of the secret, the purpose as HKDF's `info`."""
    # No salt: the secret is already uniformly random (settings refuse a short one), where RFC 5869
    # §3.1 lets the salt go; `info` is what separates the purposes (§3.2).
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=f"panjereh/{purpose}".encode())
    return hkdf.derive(secret_key.encode())


def sha256_hex(value: str) -> str:
    """SHA-256 of a high-entropy random token (a session token, an attempt binding)."""
    return hashlib.sha256(value.encode()).hexdigest()


def keyed_digest(secret_key: str, purpose: str, value: str) -> bytes:
    """HMAC-SHA256 of `value` under the purpose's key."""
    return hmac.digest(derive_key(secret_key, f"hmac/{purpose}"), value.encode(), hashlib.sha256)


def keyed_hash(secret_key: str, purpose: str, value: str) -> str:
    """`keyed_digest` in hex: a stolen table alone does not let the hashed values be checked."""
    return keyed_digest(secret_key, purpose, value).hex()


def stable_keyed_hash(secret_key: str, purpose: str, value: str) -> str:
    """A keyed hash that must never change for the same inputs: HMAC-SHA256 under HMAC(secret, purpose).

    This is the first wave's per-purpose derivation, kept for values other systems store: an OIDC
    pairwise subject is a relying party's account key (OpenID Connect Core §8.1), so moving it to the HKDF
    keys would make every citizen a stranger to every such agency app. Everything new uses `keyed_hash`.
    """
    key = hmac.digest(secret_key.encode(), purpose.encode(), hashlib.sha256)
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def fernet(secret_key: str, purpose: str) -> MultiFernet:
    """An authenticated cipher for a purpose (TOTP secrets), keyed from the platform secret.

    It encrypts under the HKDF key and still decrypts what was encrypted under the first wave's key
    (HMAC(secret, "fernet:" + purpose)), so secrets stored before the change keep working; `rotate`
    re-encrypts such a value under the current key.
    """
    current = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, f"fernet/{purpose}")))
    earlier = Fernet(
        base64.urlsafe_b64encode(hmac.digest(secret_key.encode(), f"fernet:{purpose}".encode(), "sha256"))
    )
    return MultiFernet([current, earlier])
