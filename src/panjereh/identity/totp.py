"""TOTP (RFC 6238, HMAC-SHA1, 30-second steps, 6 digits): the authenticator-app second factor, on pyotp."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import pyotp

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # accept the previous and next step too (clock drift), RFC 6238 §5.2
ISSUER = "Panjereh"


def new_secret() -> str:
    """A 160-bit random secret, base32 (what authenticator apps expect), RFC 4226 §4's recommended length."""
    return pyotp.random_base32(32)


def authenticator(
    secret: str, *, digits: int = DIGITS, digest: Callable[..., Any] = hashlib.sha1
) -> pyotp.TOTP:
    """The generator for a base32 secret (padding optional); the defaults are what apps show."""
    return pyotp.TOTP(secret, digits=digits, digest=digest, interval=STEP_SECONDS)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def code_for(secret: str, now: float | None = None) -> str:
    """The code an authenticator shows now."""
    return authenticator(secret).generate_otp(current_step(now))


def matching_step(secret: str, code: str, *, after_step: int | None, now: float | None = None) -> int | None:
    """The step the code belongs to, if valid and newer than the last one used (no replay)."""
    code = code.strip()
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    generator = authenticator(secret)
    here = current_step(now)
    for step in range(here - DRIFT_STEPS, here + DRIFT_STEPS + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(generator.generate_otp(step), code):
            return step
    return None


def provisioning_uri(secret: str, account: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI an authenticator app scans (as a QR code)."""
    return authenticator(secret).provisioning_uri(name=account, issuer_name=issuer)
