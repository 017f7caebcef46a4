"""Document numbers: the Jalali year, eleven random digits and a Verhoeff check digit, shown 4-4-4-4."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from stdnum import verhoeff

from panjereh.core import jalali
from panjereh.core.identifiers import compact, group_digits

# Verhoeff's check digit catches every single-digit error and every swap of neighbours, which Luhn
# and the national code's mod-11 do not (Luhn misses 09 <-> 90).
NUMBER_LENGTH = 16


def check_digit(digits: str) -> str:
    """The Verhoeff check digit that completes `digits`."""
    return verhoeff.calc_check_digit(digits)


def has_valid_check_digit(digits: str) -> bool:
    """True when the last digit is the Verhoeff check digit of the others."""
    # stdnum reads digits with int(), which takes Persian digits too: only folded ASCII input is a number.
    if not digits.isascii() or not digits.isdigit() or len(digits) < 2:
        return False
    return verhoeff.is_valid(digits)


def new_number(when: date | datetime) -> str:
    """A fresh document number for an issue on `when` (the caller makes sure it is unused)."""
    year = jalali.to_jalali(when).year
    body = f"{year:04d}{secrets.randbelow(10**11):011d}"
    return body + check_digit(body)


def normalize_number(text: str) -> str | None:
    """The canonical 16 digits of a typed number (Persian digits, dashes and spaces allowed), or None."""
    cleaned = compact(text or "", "/")
    if len(cleaned) != NUMBER_LENGTH or not has_valid_check_digit(cleaned):
        return None
    return cleaned


def format_number(number: str) -> str:
    """Group a number for people: 1404-1234-5678-9012."""
    return group_digits(number)
