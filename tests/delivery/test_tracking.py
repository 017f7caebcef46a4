"""Tracking codes: twelve digits with a Damm check digit that catches the usual slips."""

from __future__ import annotations

import pytest

from panjereh.core.persian import to_persian_digits
from panjereh.delivery import tracking
from panjereh.delivery.exceptions import InvalidTrackingCode


def test_round_trip_in_any_script() -> None:
    code = tracking.new_tracking_code()
    assert len(code) == 12 and code.isascii() and code[0] != "0"
    assert tracking.normalize(tracking.display(code)) == code
    assert tracking.normalize(to_persian_digits(tracking.display(code))) == code


def test_every_single_digit_error_is_caught() -> None:
    code = tracking.new_tracking_code()
    for position in range(12):
        for digit in "0123456789":
            if digit != code[position]:
                assert not tracking.is_valid(code[:position] + digit + code[position + 1 :])


def test_every_adjacent_transposition_is_caught() -> None:
    for _ in range(50):
        code = tracking.new_tracking_code()
        for i in range(11):
            if code[i] != code[i + 1]:
                assert not tracking.is_valid(code[:i] + code[i + 1] + code[i] + code[i + 2 :])


@pytest.mark.parametrize("raw", ["", "abc", "12345", "1234-5678-90123", "۱۲۳۴"])
def test_garbage_is_refused(raw: str) -> None:
    with pytest.raises(InvalidTrackingCode):
        tracking.normalize(raw)


def test_known_damm_values_and_an_issued_code_still_validate() -> None:
    assert tracking.check_digit("572") == "4"
    # Issued by the hand-written Damm code this module had before it used python-stdnum.
    assert tracking.normalize("5723-1704-1205") == "572317041205"
    assert not tracking.is_valid("5723-1704-1250")


@pytest.mark.parametrize("raw", ["57231704120⁵", "5723170412⑤", "５72317041205"])
def test_digit_lookalikes_are_refused(raw: str) -> None:
    with pytest.raises(InvalidTrackingCode):
        tracking.normalize(raw)
