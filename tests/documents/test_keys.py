"""Signing keys: made on first use with a private file only the owner reads, rotated with old keys kept."""

from __future__ import annotations

import json
import stat

import pytest
from joserfc.jwk import ECKey

from panjereh.core import keys as core_keys
from panjereh.core.config import Settings
from panjereh.core.keys import KeyConfigurationError
from panjereh.documents.keys import POLICY, key_folder, load_keyring, rotate


def test_first_use_makes_one_key_readable_by_the_owner_only(isolated_settings: Settings) -> None:
    assert not key_folder(isolated_settings).exists()
    ring = load_keyring(isolated_settings)
    key_file = key_folder(isolated_settings) / f"{ring.active_kid}.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_folder(isolated_settings).stat().st_mode) == 0o700
    assert json.loads(key_file.read_text())["d"]  # the private part is on disk, nowhere else
    # Loading again gives the same key, not a new one.
    assert load_keyring(isolated_settings).active_kid == ring.active_kid
    assert ring.active_kid == ring.active.thumbprint()[: core_keys.KID_LENGTH]


def test_published_keys_never_carry_private_parts(isolated_settings: Settings) -> None:
    jwks = load_keyring(isolated_settings).jwks()
    assert len(jwks["keys"]) == 1
    key = jwks["keys"][0]
    assert set(key) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
    assert key["alg"] == "ES256" and key["crv"] == "P-256" and key["use"] == "sig"


def test_rotation_signs_with_the_new_key_and_keeps_publishing_the_old(isolated_settings: Settings) -> None:
    first = load_keyring(isolated_settings).active_kid
    ring = rotate(isolated_settings)
    assert ring.active_kid != first
    kids = [key["kid"] for key in ring.jwks()["keys"]]
    assert kids[0] == ring.active_kid and first in kids
    # Another process (a fresh load) sees the rotation too.
    core_keys._cache.clear()
    assert load_keyring(isolated_settings).active_kid == ring.active_kid


def test_keys_from_settings_for_production(isolated_settings: Settings) -> None:
    active, retired = POLICY.new_key(), POLICY.new_key()
    retired_public = ECKey.import_key(retired.as_dict(private=False))
    jwks = {"keys": [active.as_dict(private=True), retired_public.as_dict(private=False)]}
    configured = isolated_settings.model_copy(update={"documents_signing_keys": json.dumps(jwks)})
    ring = load_keyring(configured)
    assert ring.active_kid == active.kid
    assert [key["kid"] for key in ring.jwks()["keys"]] == [active.kid, retired.kid]
    assert not key_folder(configured).exists()  # nothing written to disk when the settings hold the keys
    with pytest.raises(KeyConfigurationError):
        rotate(configured)


@pytest.mark.parametrize(
    "value",
    ["not json", '{"keys": []}', '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}'],
)
def test_unusable_configured_keys_are_refused(isolated_settings: Settings, value: str) -> None:
    with pytest.raises(KeyConfigurationError):
        load_keyring(isolated_settings.model_copy(update={"documents_signing_keys": value}))


def test_a_public_key_alone_cannot_be_the_signing_key(isolated_settings: Settings) -> None:
    public = POLICY.new_key().as_dict(private=False)
    with pytest.raises(KeyConfigurationError):
        load_keyring(
            isolated_settings.model_copy(update={"documents_signing_keys": json.dumps({"keys": [public]})})
        )
