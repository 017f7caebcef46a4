"""The provider's keys from a JWK Set in the settings: every host signs with the same ring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from joserfc.jwk import KeySet, RSAKey

from panjereh.core.config import Settings
from panjereh.core.keys import KeyConfigurationError
from panjereh.oidc import keys


def test_configured_oidc_keys_sign_on_every_host_and_no_folder_is_made(tmp_path: Path) -> None:
    private = KeySet([RSAKey.generate_key(2048, {"kid": "national-1"})]).as_dict(private=True)
    one = Settings(home=tmp_path / "host-a", oidc_signing_keys=json.dumps(private))
    other = Settings(home=tmp_path / "host-b", oidc_signing_keys=json.dumps(private))
    assert keys.load_keyring(one).active_kid == keys.load_keyring(other).active_kid == "national-1"
    assert not (tmp_path / "host-a").exists() and not (tmp_path / "host-b").exists()
    with pytest.raises(KeyConfigurationError, match="PANJEREH_OIDC_SIGNING_KEYS"):
        keys.rotate(one)  # rotation belongs to the secret store
