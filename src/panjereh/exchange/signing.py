"""The exchange's log-sealing keys: Ed25519, a `core.keys` ring in PANJEREH_HOME/keys/exchange-log."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.jwk import OKPKey

from panjereh.core import keys

EARLIER_KEY_FILE = "exchange-log-ed25519.pem"  # where the one sealing key lived before the key rings


def _unpadded(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def seal_key_id(key: OKPKey) -> str:
    """The id seals carry: the start of the SHA-256 of the raw public key (as seals have always had)."""
    return hashlib.sha256(_unpadded(str(key.as_dict(private=False)["x"]))).hexdigest()[:16]


def _earlier_key(home: Path) -> OKPKey | None:
    # A home made before the rings keeps its key, so the seals it already signed still verify.
    path = home / "keys" / EARLIER_KEY_FILE
    return OKPKey.import_key(path.read_bytes()) if path.exists() else None


POLICY = keys.KeyPolicy(
    purpose="exchange-log",
    algorithm="Ed25519",
    key_class=OKPKey,
    setting=None,
    kid=seal_key_id,
    earlier_key=_earlier_key,
)


@dataclass(frozen=True)
class LogSigner:
    """Signs seals over the chain head with the ring's active key and verifies them with the key they name."""

    home: Path
    # A ring read once (`pinned`), for checking many signatures in a row; unset, each use reads the ring
    # afresh, so a rotation is seen at once.
    fixed_ring: keys.KeyRing[OKPKey] | None = field(default=None, compare=False, repr=False)

    @property
    def ring(self) -> keys.KeyRing[OKPKey]:
        return self.fixed_ring if self.fixed_ring is not None else keys.load(POLICY, self.home)

    def pinned(self) -> LogSigner:
        """This signer over the ring as it is now, read once (verify-log checks thousands of signatures)."""
        return LogSigner(self.home, self.ring)

    def sign(self, message: bytes) -> tuple[str, str]:
        """The signing key's id and the signature (base64url, unpadded)."""
        return self._sign(self.ring.active, message)

    @staticmethod
    def _sign(key: OKPKey, message: bytes) -> tuple[str, str]:
        private = key.private_key
        if not isinstance(private, Ed25519PrivateKey):
            raise keys.KeyConfigurationError(f"seal key {key.kid} is not an Ed25519 private key")
        return str(key.kid), base64.urlsafe_b64encode(private.sign(message)).decode().rstrip("=")

    def sign_naming_key(self, message_for: Callable[[str], bytes]) -> tuple[str, str]:
        """Sign a message that names the signing key itself (built by `message_for(key_id)`)."""
        key = self.ring.active
        return self._sign(key, message_for(str(key.kid)))

    def knows(self, key_id: str) -> bool:
        """Whether the ring publishes this key."""
        return self.ring.find(key_id) is not None

    def verify(self, key_id: str, message: bytes, signature: str) -> bool:
        key = self.ring.find(key_id)
        public = key.public_key if key is not None else None
        if not isinstance(public, Ed25519PublicKey):
            return False
        try:
            public.verify(_unpadded(signature), message)
        except (InvalidSignature, ValueError):
            return False
        return True


def load_signer(home: Path) -> LogSigner:
    """The signer over `home`'s ring (its first key made on first use, readable by the owner only)."""
    keys.load(POLICY, home)
    return LogSigner(home)
