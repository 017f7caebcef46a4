"""Documents' signing keys: ES256 (P-256), ids from the thumbprint, one ring in `core.keys`.

Two sources: `PANJEREH_DOCUMENTS_SIGNING_KEYS` (a JWK Set of private keys, the first one active — for
production, where keys come from a secret store), or the folder `$PANJEREH_HOME/keys/documents/` where a
key is made on first use.
"""

from __future__ import annotations

from pathlib import Path

from joserfc.jwk import ECKey

from panjereh.core import keys
from panjereh.core.config import Settings
from panjereh.core.keys import KeyRing

ALGORITHM = "ES256"
POLICY = keys.KeyPolicy(
    purpose="documents", algorithm=ALGORITHM, key_class=ECKey, setting="PANJEREH_DOCUMENTS_SIGNING_KEYS"
)


def key_folder(settings: Settings) -> Path:
    """Where keys live when the settings do not supply them."""
    return POLICY.folder(settings.home)


def load_keyring(settings: Settings) -> KeyRing[ECKey]:
    """The keys to sign and verify with; the first key is made on first use when none is configured."""
    return keys.load(POLICY, settings.home, settings.documents_signing_keys)


def rotate(settings: Settings) -> KeyRing[ECKey]:
    """Make a new active key in the key folder; the old ones stay published so issued documents verify."""
    return keys.rotate(POLICY, settings.home, settings.documents_signing_keys)
