"""The platform's Ed25519 key that signs the chain head (kept under PANJEREH_HOME/keys)."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "exchange-log-ed25519.pem"


@dataclass(frozen=True)
class LogSigner:
    """Signs and verifies seals over the chain head."""

    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()[:16]

    def sign(self, message: bytes) -> str:
        return base64.urlsafe_b64encode(self.private_key.sign(message)).decode().rstrip("=")

    def verify(self, message: bytes, signature: str) -> bool:
        try:
            padded = signature + "=" * (-len(signature) % 4)
            self.public_key.verify(base64.urlsafe_b64decode(padded), message)
        except (InvalidSignature, ValueError):
            return False
        return True


def load_signer(home: Path) -> LogSigner:
    """The key under `home/keys`, made on first use (readable by the owner only)."""
    folder = home / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / KEY_FILE
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # Another process may have made it meanwhile: create exclusively, then read whichever won.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return LogSigner(loaded)
