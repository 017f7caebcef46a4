"""TOTP against RFC 6238 Appendix B: 8-digit codes for SHA-1, SHA-256 and SHA-512, each with its own seed."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from panjereh.identity import totp

# Appendix B's seeds are ASCII strings of the digest's size (20, 32 and 64 bytes), given here in base32
# as an authenticator app receives them.
SEEDS: dict[str, tuple[Callable[..., Any], str]] = {
    "SHA1": (hashlib.sha1, base64.b32encode(b"12345678901234567890").decode()),
    "SHA256": (hashlib.sha256, base64.b32encode(b"12345678901234567890123456789012").decode()),
    "SHA512": (
        hashlib.sha512,
        base64.b32encode(b"1234567890123456789012345678901234567890123456789012345678901234").decode(),
    ),
}
VECTORS = [
    (59, "94287082", "SHA1"),
    (59, "46119246", "SHA256"),
    (59, "90693936", "SHA512"),
    (1111111109, "07081804", "SHA1"),
    (1111111109, "68084774", "SHA256"),
    (1111111109, "25091201", "SHA512"),
    (1111111111, "14050471", "SHA1"),
    (1111111111, "67062674", "SHA256"),
    (1111111111, "99943326", "SHA512"),
    (1234567890, "89005924", "SHA1"),
    (1234567890, "91819424", "SHA256"),
    (1234567890, "93441116", "SHA512"),
    (2000000000, "69279037", "SHA1"),
    (2000000000, "90698825", "SHA256"),
    (2000000000, "38618901", "SHA512"),
    (20000000000, "65353130", "SHA1"),
    (20000000000, "77737706", "SHA256"),
    (20000000000, "47863826", "SHA512"),
]


@pytest.mark.parametrize(("now", "expected", "mode"), VECTORS)
def test_rfc6238_appendix_b(now: int, expected: str, mode: str) -> None:
    digest, seed = SEEDS[mode]
    assert totp.authenticator(seed, digits=8, digest=digest).generate_otp(totp.current_step(now)) == expected


@pytest.mark.parametrize(("now", "expected"), [(now, code) for now, code, mode in VECTORS if mode == "SHA1"])
def test_six_digit_codes_are_the_last_six_of_the_sha1_vectors(now: int, expected: str) -> None:
    seed = SEEDS["SHA1"][1]
    assert totp.code_for(seed, now) == expected[-6:]
    assert totp.code_for(seed.rstrip("="), now) == expected[-6:]  # apps and our secrets drop the padding


def test_a_code_matches_its_step_within_the_drift_once() -> None:
    seed = SEEDS["SHA1"][1]
    now = 1111111111
    step = totp.current_step(now)
    assert totp.matching_step(seed, "050471", after_step=None, now=now) == step
    assert totp.matching_step(seed, "050471", after_step=None, now=now + totp.STEP_SECONDS) == step
    assert totp.matching_step(seed, "050471", after_step=None, now=now + 2 * totp.STEP_SECONDS) is None
    assert totp.matching_step(seed, "050471", after_step=step, now=now) is None  # no replay
    assert totp.matching_step(seed, "050472", after_step=None, now=now) is None


def test_new_secrets_are_160_bits_and_provision_an_app() -> None:
    secret = totp.new_secret()
    assert len(base64.b32decode(secret)) == 20 and secret != totp.new_secret()
    uri = totp.provisioning_uri(secret, "0499370899")
    assert uri.startswith("otpauth://totp/Panjereh:0499370899?") and f"secret={secret}" in uri
