"""Document numbers: the Jalali year, eleven random digits and a Verhoeff check digit, shown 4-4-4-4."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from panjereh.core import jalali
from panjereh.core.identifiers import fold_digits

NUMBER_LENGTH = 16
_SEPARATORS = str.maketrans("", "", " \t\u00a0\u200c\u200f\u200e-\u2010\u2011\u2012\u2013\u2014\u2212_/")

# Verhoeff's dihedral-group tables: they catch every single-digit error and every swap of neighbours,
# which Luhn and the national code's mod-11 do not (Luhn misses 09 <-> 90).
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def check_digit(digits: str) -> str:
    """The Verhoeff check digit that completes `digits`."""
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[(i + 1) % 8][int(ch)]]
    return str(_INV[c])


def has_valid_check_digit(digits: str) -> bool:
    """True when the last digit is the Verhoeff check digit of the others."""
    if not digits.isascii() or not digits.isdigit() or len(digits) < 2:
        return False
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[i % 8][int(ch)]]
    return c == 0


def new_number(when: date | datetime) -> str:
    """A fresh document number for an issue on `when` (the caller makes sure it is unused)."""
    year = jalali.to_jalali(when).year
    body = f"{year:04d}{secrets.randbelow(10**11):011d}"
    return body + check_digit(body)


def normalize_number(text: str) -> str | None:
    """The canonical 16 digits of a typed number (Persian digits, dashes and spaces allowed), or None."""
    cleaned = fold_digits(text or "").translate(_SEPARATORS)
    if len(cleaned) != NUMBER_LENGTH or not has_valid_check_digit(cleaned):
        return None
    return cleaned


def format_number(number: str) -> str:
    """Group a number for people: 1404-1234-5678-9012."""
    return "-".join(number[i : i + 4] for i in range(0, len(number), 4))
