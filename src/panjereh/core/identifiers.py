"""Iranian identifiers: national code, legal-entity national ID, mobile number, postal code.

Every identifier is a string: national codes start with 0 and ``int()`` would drop it. Input is
folded to ASCII digits first and then checked against ``[0-9]`` only, because ``re``'s ``\\d`` and
``str.isdigit()`` also accept Persian and Arabic-Indic digits. Algorithms and test vectors:
``/work/shared/domain.md`` §4.
"""

from __future__ import annotations

import random
import re
from functools import cache

from panjereh.core.persian import fold_digits

__all__ = [
    "InvalidIdentifier",
    "compact",
    "format_postal_code",
    "group_digits",
    "is_plausible_postal_code",
    "is_valid_legal_entity_id",
    "is_valid_mobile",
    "is_valid_national_code",
    "legal_entity_check_digit",
    "make_national_code",
    "national_code_check_digit",
    "normalize_legal_entity_id",
    "normalize_mobile",
    "normalize_national_code",
    "normalize_postal_code",
]

# Separators people type inside identifiers: spaces of every kind, ZWNJ, and every dash.
_SEPARATORS = " \t\u00a0\u200c\u200f\u200e\u2009\u202f-\u2010\u2011\u2012\u2013\u2014\u2212_"
_ASCII_DIGITS = re.compile(r"[0-9]+")
_MOBILE = re.compile(r"(?:\+98|0098|98|0)?(9[0-9]{9})")
_LEGAL_WEIGHTS = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)
_POSTAL = re.compile(r"[13-9]{5}[0-9]{5}")


class InvalidIdentifier(ValueError):
    """An identifier that failed normalization or validation; ``code`` is machine-readable."""

    def __init__(self, kind: str, value: object, reason: str) -> None:
        self.kind = kind
        self.value = value
        self.reason = reason
        self.code = f"invalid_{kind}.{reason}"
        super().__init__(f"invalid {kind} {value!r}: {reason}")


def compact(value: str, also: str = "") -> str:
    """``value`` with its digits folded to ASCII and the separators people type (and ``also``) dropped."""
    return fold_digits(value).translate(_dropping(_SEPARATORS + also))


@cache
def _dropping(chars: str) -> dict[int, int | None]:
    return str.maketrans("", "", chars)


def group_digits(code: str, size: int = 4) -> str:
    """A long number the way people read it aloud, in dash-separated groups: 1404-1234-5678-9012."""
    return "-".join(code[i : i + size] for i in range(0, len(code), size))


def _clean(kind: str, value: object) -> str:
    """Fold digits and drop separators; reject None, non-strings and empty input."""
    if value is None:
        raise InvalidIdentifier(kind, value, "empty")
    if not isinstance(value, str):
        raise InvalidIdentifier(kind, value, "not_a_string")
    cleaned = compact(value)
    if not cleaned:
        raise InvalidIdentifier(kind, value, "empty")
    if not _ASCII_DIGITS.fullmatch(cleaned):
        raise InvalidIdentifier(kind, value, "not_digits")
    return cleaned


# --- national code (کد ملی) -------------------------------------------------------------------


def national_code_check_digit(first9: str) -> int:
    """The check digit that completes the 9 leading digits of a national code."""
    if len(first9) != 9 or not _ASCII_DIGITS.fullmatch(first9):
        raise InvalidIdentifier("national_code", first9, "length")
    r = sum(int(first9[i]) * (10 - i) for i in range(9)) % 11
    return r if r < 2 else 11 - r


def normalize_national_code(s: str) -> str:
    """Return the canonical 10-digit national code, or raise ``InvalidIdentifier``."""
    code = _clean("national_code", s)
    if not 8 <= len(code) <= 10:
        raise InvalidIdentifier("national_code", s, "length")
    code = code.zfill(10)
    if len(set(code)) == 1:
        raise InvalidIdentifier("national_code", s, "repeated_digits")
    if code[3:9] == "000000":
        raise InvalidIdentifier("national_code", s, "zero_serial")
    if int(code[9]) != national_code_check_digit(code[:9]):
        raise InvalidIdentifier("national_code", s, "checksum")
    return code


def is_valid_national_code(s: str | None) -> bool:
    """True when ``s`` normalizes to a valid national code."""
    try:
        normalize_national_code(s)  # type: ignore[arg-type]
    except InvalidIdentifier:
        return False
    return True


def make_national_code(rng: random.Random) -> str:
    """A synthetic valid national code made from random digits (never a real person's)."""
    while True:
        first9 = f"{rng.randrange(10**9):09d}"
        code = first9 + str(national_code_check_digit(first9))
        if code[3:9] != "000000" and len(set(code)) > 1:
            return code


# --- legal-entity national ID (شناسه ملی) -------------------------------------------------------


def legal_entity_check_digit(first10: str) -> int:
    """The check digit that completes the 10 leading digits of a legal-entity national ID."""
    if len(first10) != 10 or not _ASCII_DIGITS.fullmatch(first10):
        raise InvalidIdentifier("legal_entity_id", first10, "length")
    d = int(first10[9]) + 2
    r = sum((int(first10[i]) + d) * _LEGAL_WEIGHTS[i] for i in range(10)) % 11
    return 0 if r == 10 else r


def normalize_legal_entity_id(s: str) -> str:
    """Return the canonical 11-digit legal-entity national ID, or raise ``InvalidIdentifier``."""
    code = _clean("legal_entity_id", s)
    if len(code) != 11:
        raise InvalidIdentifier("legal_entity_id", s, "length")
    if code[3:9] == "000000":
        raise InvalidIdentifier("legal_entity_id", s, "zero_serial")
    if int(code[10]) != legal_entity_check_digit(code[:10]):
        raise InvalidIdentifier("legal_entity_id", s, "checksum")
    return code


def is_valid_legal_entity_id(s: str | None) -> bool:
    """True when ``s`` normalizes to a valid legal-entity national ID."""
    try:
        normalize_legal_entity_id(s)  # type: ignore[arg-type]
    except InvalidIdentifier:
        return False
    return True


# --- mobile -----------------------------------------------------------------------------------


def normalize_mobile(s: str) -> str:
    """Return the mobile number as ``09XXXXXXXXX``, or raise ``InvalidIdentifier``."""
    if s is None or not isinstance(s, str):
        raise InvalidIdentifier("mobile", s, "empty" if s is None else "not_a_string")
    cleaned = compact(s, "()")
    if not cleaned:
        raise InvalidIdentifier("mobile", s, "empty")
    match = _MOBILE.fullmatch(cleaned)
    if match is None:
        raise InvalidIdentifier("mobile", s, "pattern")
    return "0" + match.group(1)


def is_valid_mobile(s: str | None) -> bool:
    """True when ``s`` normalizes to an Iranian mobile number."""
    try:
        normalize_mobile(s)  # type: ignore[arg-type]
    except InvalidIdentifier:
        return False
    return True


# --- postal code (کد پستی) ----------------------------------------------------------------------


def normalize_postal_code(s: str) -> str:
    """Return the plausible postal code as 10 plain digits, or raise ``InvalidIdentifier``."""
    code = _clean("postal_code", s)
    if len(code) != 10:
        raise InvalidIdentifier("postal_code", s, "length")
    # Iran Post never uses 0 or 2 in the first five digits; all-equal codes are placeholders.
    if not _POSTAL.fullmatch(code) or len(set(code)) == 1:
        raise InvalidIdentifier("postal_code", s, "implausible")
    return code


def is_plausible_postal_code(s: str | None) -> bool:
    """True when ``s`` could be a postal code (only the Post registry proves one exists)."""
    try:
        normalize_postal_code(s)  # type: ignore[arg-type]
    except InvalidIdentifier:
        return False
    return True


def format_postal_code(s: str) -> str:
    """Write a postal code the way Iran Post prints it: ``XXXXX-XXXXX``."""
    code = normalize_postal_code(s)
    return group_digits(code, 5)
