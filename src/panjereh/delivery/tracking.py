"""Tracking codes («کد رهگیری»): twelve digits, the last a Damm check digit, written 4-4-4."""

from __future__ import annotations

import secrets
import unicodedata

from panjereh.delivery.exceptions import InvalidTrackingCode

# The Damm quasigroup of order 10: catches every single-digit error and every adjacent transposition,
# the two mistakes people make reading a code aloud or typing it.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
LENGTH = 12


def check_digit(digits: str) -> str:
    """The Damm check digit of a string of ASCII digits."""
    interim = 0
    for char in digits:
        interim = _DAMM[interim][int(char)]
    return str(interim)


def new_tracking_code() -> str:
    """A fresh random code (11 random digits, the first never 0, and the check digit)."""
    body = str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(LENGTH - 2))
    return body + check_digit(body)


def normalize(raw: str) -> str:
    """Fold Persian/Arabic digits, drop spaces and dashes, and verify the check digit."""
    digits = []
    for char in raw.strip():
        if char in " -_\u200c":
            continue
        value = unicodedata.digit(char, None)
        if value is None:
            raise InvalidTrackingCode(f"not a digit: {char!r}", "کد رهگیری فقط رقم دارد")
        digits.append(str(value))
    code = "".join(digits)
    if len(code) != LENGTH or check_digit(code) != "0":
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
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def in_sentence(code: str) -> str:
    """The code as shown inside a Persian sentence (timeline, inbox, SMS): grouped, and isolated as
    left-to-right text (Unicode LRI … PDI), or a right-to-left line shows its groups in reverse order."""
    return f"\u2066{display(code)}\u2069"
