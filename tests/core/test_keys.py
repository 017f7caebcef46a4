"""Key rings: one per purpose, for each algorithm the platform signs with; published ahead of signing."""

from __future__ import annotations

import json
import stat
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

from panjereh.core import keys

POLICIES: dict[str, keys.KeyPolicy[Any]] = {
    "ES256": keys.KeyPolicy(
        purpose="test-es", algorithm="ES256", key_class=ECKey, setting="PANJEREH_TEST_ES"
    ),
    "RS256": keys.KeyPolicy(purpose="test-rs", algorithm="RS256", key_class=RSAKey, setting=None),
    "Ed25519": keys.KeyPolicy(purpose="test-ed", algorithm="Ed25519", key_class=OKPKey, setting=None),
}


@pytest.mark.parametrize("algorithm", list(POLICIES))
def test_each_algorithm_signs_and_verifies_and_publishes_only_public_members(
    tmp_path: Path, algorithm: str
) -> None:
    policy = POLICIES[algorithm]
    ring = keys.load(policy, tmp_path)
    key_file = policy.folder(tmp_path) / f"{ring.active_kid}.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(policy.folder(tmp_path).stat().st_mode) == 0o700
    (published,) = ring.jwks()["keys"]
    assert published["alg"] == algorithm and published["use"] == "sig" and published["kid"] == ring.active_kid
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(published)
    token = jwt.encode(
        {"alg": algorithm, "kid": ring.active_kid}, {"sub": "x"}, ring.active, algorithms=[algorithm]
    )
    assert jwt.decode(token, ring.key_set(), algorithms=[algorithm]).claims == {"sub": "x"}


def test_a_key_published_ahead_signs_only_when_its_time_comes(tmp_path: Path) -> None:
    policy = POLICIES["ES256"]
    first = keys.load(policy, tmp_path).active_kid
    ring = keys.rotate(policy, tmp_path, publish_ahead=timedelta(milliseconds=400))
    newest = ring.entries[0].key.kid
    assert newest != first and [key["kid"] for key in ring.jwks()["keys"]] == [newest, first]
    assert ring.active_kid == first  # verifiers may not have the new key yet
    time.sleep(0.45)
    assert ring.active_kid == newest
    assert json.loads((policy.folder(tmp_path) / f"{newest}.json").read_text())["signs_from"]


def test_the_first_rotation_of_an_empty_ring_makes_its_first_key(tmp_path: Path) -> None:
    ring = keys.rotate(POLICIES["RS256"], tmp_path)
    assert len(ring.entries) == 1
    assert len(keys.rotate(POLICIES["RS256"], tmp_path).entries) == 2


def test_another_process_sees_a_rotation(tmp_path: Path) -> None:
    policy = POLICIES["Ed25519"]
    before = keys.load(policy, tmp_path).active_kid
    # Another process rotates: a key file and the `active` pointer change under this one's cache.
    other = policy.new_key()
    folder = policy.folder(tmp_path)
    (folder / f"{other.kid}.json").write_text(json.dumps({**other.as_dict(private=True), "kid": other.kid}))
    (folder / keys.ACTIVE_FILE).write_text(f"{other.kid}\n")
    ring = keys.load(policy, tmp_path)
    assert ring.active_kid == other.kid and ring.find(before) is not None


def test_a_policy_takes_its_first_key_from_an_earlier_layout(tmp_path: Path) -> None:
    earlier = OKPKey.generate_key("Ed25519", private=True)
    policy = keys.KeyPolicy(
        purpose="test-earlier",
        algorithm="Ed25519",
        key_class=OKPKey,
        setting=None,
        earlier_key=lambda _home: earlier,
    )
    ring = keys.load(policy, tmp_path)
    assert ring.active.thumbprint() == earlier.thumbprint() and ring.active_kid == keys.thumbprint_kid(
        earlier
    )


def test_configured_keys_of_another_type_are_refused(tmp_path: Path) -> None:
    rsa = POLICIES["RS256"].new_key()
    configured = json.dumps({"keys": [rsa.as_dict(private=True)]})
    with pytest.raises(keys.KeyConfigurationError):
        keys.load(POLICIES["ES256"], tmp_path, configured)


def _first_key_in_a_fresh_process(home: str) -> str:
    """What a newly started process signs with (its own import of the module: no shared cache)."""
    return keys.load(POLICIES["ES256"], Path(home)).active_kid


def test_processes_starting_together_agree_on_one_first_key(tmp_path: Path) -> None:
    # `serve --workers N` starts N processes that each find no key: exactly one key may become active, and
    # none may read the pointer while it exists but is still empty.
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(max_workers=6, mp_context=get_context("spawn")) as pool:
        kids = set(pool.map(_first_key_in_a_fresh_process, [str(tmp_path)] * 12))
    folder = POLICIES["ES256"].folder(tmp_path)
    assert len(kids) == 1
    assert {path.name for path in folder.iterdir()} == {"active", f"{kids.pop()}.json"}  # no leftovers
