"""Document numbers: a Verhoeff check digit catches every single-digit slip and every neighbour swap."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from panjereh.documents.numbers import (
    check_digit,
    format_number,
    has_valid_check_digit,
    new_number,
    normalize_number,
)

digits15 = st.text(alphabet="0123456789", min_size=15, max_size=15)


def test_known_verhoeff_values() -> None:
    assert check_digit("236") == "3"
    assert check_digit("12345") == "1"
    assert has_valid_check_digit("2363") and not has_valid_check_digit("2364")
    # Issued by the hand-written Verhoeff code this module had before it used python-stdnum.
    assert check_digit("140412345678901") == "8"
    assert normalize_number("1404-1234-5678-9018") == "1404123456789018"


def test_new_numbers_carry_the_jalali_year_and_verify() -> None:
    number = new_number(date(2025, 3, 21))  # 1 Farvardin 1404
    assert len(number) == 16 and number.startswith("1404")
    assert has_valid_check_digit(number)
    assert normalize_number(number) == number


@given(digits15, st.integers(0, 15), st.integers(1, 9))
def test_every_single_digit_error_is_caught(body: str, position: int, delta: int) -> None:
    number = body + check_digit(body)
    wrong = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not has_valid_check_digit(wrong)


@given(digits15, st.integers(0, 14))
def test_every_adjacent_swap_is_caught(body: str, position: int) -> None:
    number = body + check_digit(body)
    a, b = number[position], number[position + 1]
    if a == b:
        return
    swapped = number[:position] + b + a + number[position + 2 :]
    assert not has_valid_check_digit(swapped)


def test_people_may_type_persian_digits_dashes_and_spaces() -> None:
    number = new_number(date(2025, 6, 1))
    shown = format_number(number)
    assert shown.count("-") == 3
    persian = shown.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert normalize_number(persian) == number
    assert normalize_number(" ".join(shown.split("-"))) == number


def test_malformed_numbers_are_refused() -> None:
    number = new_number(date(2025, 6, 1))
    assert normalize_number(number[:-1]) is None
    assert normalize_number(number + "0") is None
    assert normalize_number("abcd-efgh-ijkl-mnop") is None
    assert normalize_number("") is None
    assert normalize_number("1404-1234-5678-901⁸") is None
