"""OIDC's signing keys: RS256, a `core.keys` ring in `$PANJEREH_HOME/keys/oidc/`, or a JWK Set of private
keys in `PANJEREH_OIDC_SIGNING_KEYS` (from a secret store: every host signs with the same ring).

Retired keys stay in the JWKS so the tokens they signed still verify. A rotation reaches every worker
process at its next token: the ring notices the folder's change (see `core.keys`).
"""

from __future__ import annotations

from datetime import timedelta

from joserfc.jwk import RSAKey

from panjereh.core import keys
from panjereh.core.config import Settings

ALG = "RS256"  # OIDC Core §15.1: every OP supports RS256
KeyRing = keys.KeyRing[RSAKey]  # the provider's ring
POLICY = keys.KeyPolicy(purpose="oidc", algorithm=ALG, key_class=RSAKey, setting="PANJEREH_OIDC_SIGNING_KEYS")


def load_keyring(settings: Settings) -> KeyRing:
    """The provider's keys; the first is made on first use."""
    return keys.load(POLICY, settings.home, settings.oidc_signing_keys)


def rotate(settings: Settings, *, publish_ahead: timedelta | None = None) -> KeyRing:
    """A new signing key; earlier keys are retired (still published, no longer used to sign)."""
    return keys.rotate(POLICY, settings.home, settings.oidc_signing_keys, publish_ahead=publish_ahead)
