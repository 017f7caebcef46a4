"""The log's sealing keys: an older home keeps its key; a seal names the key it verifies with."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from panjereh.core import keys
from panjereh.exchange.signing import EARLIER_KEY_FILE, POLICY, load_signer


def test_a_home_with_the_earlier_pem_key_keeps_signing_with_it(tmp_path: Path) -> None:
    earlier = Ed25519PrivateKey.generate()
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / EARLIER_KEY_FILE).write_bytes(
        earlier.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    raw = earlier.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id, signature = load_signer(tmp_path).sign(b"head")
    assert key_id == hashlib.sha256(raw).hexdigest()[:16]  # the id its seals already carry
    earlier.public_key().verify(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), b"head")


def test_seals_signed_before_a_rotation_still_verify_with_the_key_they_name(tmp_path: Path) -> None:
    signer = load_signer(tmp_path)
    old_id, old_signature = signer.sign(b"head 1")
    keys.rotate(POLICY, tmp_path)
    new_id, new_signature = signer.sign(b"head 2")
    assert new_id != old_id
    assert signer.verify(old_id, b"head 1", old_signature) and signer.verify(new_id, b"head 2", new_signature)
    assert not signer.verify(new_id, b"head 1", old_signature)
    assert not signer.knows("0" * 16) and not signer.verify("0" * 16, b"head 1", old_signature)
