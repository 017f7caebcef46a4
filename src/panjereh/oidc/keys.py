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
# How long relying parties may cache the JWKS (and discovery): a new key is published at least this long
# before it signs, so a verifier holding the previous JWKS never meets a token from a key it lacks.
JWKS_MAX_AGE_SECONDS = 300
PUBLISH_AHEAD = timedelta(seconds=JWKS_MAX_AGE_SECONDS)


def load_keyring(settings: Settings) -> KeyRing:
    """The provider's keys; the first is made on first use."""
    return keys.load(POLICY, settings.home, settings.oidc_signing_keys)


def rotate(settings: Settings, *, publish_ahead: timedelta | None = PUBLISH_AHEAD) -> KeyRing:
    """A new key, published at once and signing once `publish_ahead` (the JWKS cache time) has passed;
    earlier keys stay published. `publish_ahead=None` signs at once (a key known to be compromised)."""
    return keys.rotate(POLICY, settings.home, settings.oidc_signing_keys, publish_ahead=publish_ahead)
