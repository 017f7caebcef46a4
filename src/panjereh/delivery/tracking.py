"""Tracking codes («کد رهگیری»): twelve digits, the last a Damm check digit, written 4-4-4."""

from __future__ import annotations

import secrets

from stdnum import damm

from panjereh.core.identifiers import compact, group_digits
from panjereh.delivery.exceptions import InvalidTrackingCode

# Damm's check digit catches every single-digit error and every adjacent transposition, the two
# mistakes people make reading a code aloud or typing it.
LENGTH = 12


def check_digit(digits: str) -> str:
    """The Damm check digit of a string of ASCII digits."""
    return damm.calc_check_digit(digits)


def new_tracking_code() -> str:
    """A fresh random code (11 random digits, the first never 0, and the check digit)."""
    body = str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(LENGTH - 2))
    return body + check_digit(body)


def normalize(raw: str) -> str:
    """Fold Persian/Arabic digits, drop spaces and dashes, and verify the check digit."""
    code = compact(raw)
    stray = next((char for char in code if char not in "0123456789"), None)
    if stray is not None:
        raise InvalidTrackingCode(f"not a digit: {stray!r}", "کد رهگیری فقط رقم دارد")
    if len(code) != LENGTH or not damm.is_valid(code):
        raise InvalidTrackingCode()
    return code


def is_valid(raw: str) -> bool:
    try:
        normalize(raw)
    except InvalidTrackingCode:
        return False
    return True


def display(code: str) -> str:
    """The code as people read it: 1234-5678-9012."""
    return group_digits(code)


def in_sentence(code: str) -> str:
    """The code as shown inside a Persian sentence (timeline, inbox, SMS): grouped, and isolated as
    left-to-right text (Unicode LRI … PDI), or a right-to-left line shows its groups in reverse order."""
    return f"\u2066{display(code)}\u2069"
