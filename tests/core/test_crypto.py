"""Per-purpose keys: HKDF gives each purpose its own key, and nothing computed for one serves another."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet, InvalidToken

from panjereh.core.crypto import derive_key, fernet, keyed_digest, keyed_hash, stable_keyed_hash

SECRET = "a-test-secret-that-is-long-enough-0123456789"


def test_keys_are_stable_per_purpose_and_differ_between_purposes() -> None:
    assert derive_key(SECRET, "csrf") == derive_key(SECRET, "csrf")
    assert (
        len({derive_key(SECRET, p) for p in ("csrf", "visitor-pseudonym", "login-code", "fernet/totp")}) == 4
    )
    assert derive_key(SECRET, "csrf") != derive_key(SECRET + "x", "csrf")
    assert SECRET.encode() not in derive_key(SECRET, "csrf", 64)


def test_derive_key_is_rfc5869_hkdf_sha256_with_the_purpose_as_info() -> None:
    # Extract (no salt means a zero salt, §2.2), then one block of expand (§2.3), from the RFC's formulas.
    prk = hmac.digest(bytes(32), SECRET.encode(), hashlib.sha256)
    okm = hmac.digest(prk, b"panjereh/csrf" + b"\x01", hashlib.sha256)
    assert derive_key(SECRET, "csrf") == okm


def test_keyed_hashes_of_one_value_differ_by_purpose() -> None:
    assert (
        keyed_hash(SECRET, "login-code", "a:123456") == keyed_digest(SECRET, "login-code", "a:123456").hex()
    )
    assert keyed_hash(SECRET, "login-code", "a:123456") != keyed_hash(SECRET, "pairwise-sub", "a:123456")
    assert keyed_hash(SECRET, "login-code", "a:123456") != keyed_hash(SECRET, "login-code", "a:123457")


def test_a_cipher_opens_only_its_own_purpose() -> None:
    sealed = fernet(SECRET, "totp").encrypt(b"JBSWY3DPEHPK3PXP")
    assert fernet(SECRET, "totp").decrypt(sealed) == b"JBSWY3DPEHPK3PXP"
    with pytest.raises(InvalidToken):
        fernet(SECRET, "oidc-keys").decrypt(sealed)


def _first_wave_fernet(purpose: str) -> Fernet:
    """The first wave's cipher, from its formula: Fernet under HMAC(secret, "fernet:" + purpose)."""
    key = hmac.digest(SECRET.encode(), f"fernet:{purpose}".encode(), hashlib.sha256)
    return Fernet(base64.urlsafe_b64encode(key))


def test_a_secret_encrypted_before_the_hkdf_keys_still_opens_and_rotates_to_the_new_key() -> None:
    stored = _first_wave_fernet("totp").encrypt(b"JBSWY3DPEHPK3PXP")
    cipher = fernet(SECRET, "totp")
    assert cipher.decrypt(stored) == b"JBSWY3DPEHPK3PXP"
    rotated = cipher.rotate(stored)
    with pytest.raises(InvalidToken):  # re-encrypted under the HKDF key, which the first wave's cipher lacks
        _first_wave_fernet("totp").decrypt(rotated)
    assert cipher.decrypt(rotated) == b"JBSWY3DPEHPK3PXP"
    with pytest.raises(InvalidToken):  # and the earlier key of another purpose still opens nothing here
        cipher.decrypt(_first_wave_fernet("other").encrypt(b"x"))


def test_a_stable_keyed_hash_is_the_first_waves_value() -> None:
    # OIDC pairwise subjects are relying parties' account keys: the value for the same inputs must never
    # change, so it is held to the first wave's formula, HMAC(HMAC(secret, purpose), value).
    key = hmac.digest(SECRET.encode(), b"pairwise-sub", hashlib.sha256)
    expected = hmac.new(key, b"https://bank.example:42", hashlib.sha256).hexdigest()
    assert stable_keyed_hash(SECRET, "pairwise-sub", "https://bank.example:42") == expected
    assert stable_keyed_hash(SECRET, "pairwise-sub", "x") != keyed_hash(SECRET, "pairwise-sub", "x")
