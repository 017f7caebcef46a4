"""Template helpers: Jalali dates in Tehran time, Persian digits, thousands separators."""

from __future__ import annotations

from datetime import UTC, date, datetime

from panjereh.web.templating import (
    format_date,
    format_datetime,
    format_digits,
    format_number,
    list_separator,
)


def test_persian_digits_for_persian_pages_only() -> None:
    assert format_digits("1402", "fa") == "۱۴۰۲"
    assert format_digits("1402", "en") == "1402"


def test_numbers_get_thousands_separators() -> None:
    assert format_number(35_000_000, "en") == "35,000,000"
    fa = format_number(35_000_000, "fa")
    assert fa.startswith("۳۵") and "۰۰۰" in fa and "3" not in fa


def test_gregorian_date_is_shown_jalali() -> None:
    text = format_date(date(2023, 3, 21), "fa")
    assert "۱۴۰۲" in text and "فروردین" in text and "۱" in text


def test_instant_is_converted_to_tehran_before_the_date_is_taken() -> None:
    # 21:00 UTC on 20 March 2023 is already 21 March (1 Farvardin 1402) in Tehran.
    text = format_datetime(datetime(2023, 3, 20, 21, 0, tzinfo=UTC), "en")
    assert "1402" in text and "00:30" in text


def test_clock_time_is_shown_once() -> None:
    text = format_datetime(datetime(2023, 3, 21, 8, 15, tzinfo=UTC), "en")
    assert text.count("11:45") == 1
    assert ":" not in format_date(datetime(2023, 3, 21, 8, 15, tzinfo=UTC), "en")


def test_english_pages_name_jalali_months_in_english() -> None:
    assert format_date(date(2023, 3, 21), "en") == "1 Farvardin 1402"
    assert format_date(date(2024, 3, 19), "fa") == "۲۹ اسفند ۱۴۰۲"


def test_lists_and_date_with_time_use_the_pages_comma() -> None:
    assert list_separator("fa") == "، " and list_separator("en") == ", "
    english = format_datetime(datetime(2023, 3, 21, 8, 15, tzinfo=UTC), "en")
    assert english == "1 Farvardin 1402, 11:45"
    assert format_datetime(datetime(2023, 3, 21, 8, 15, tzinfo=UTC), "fa") == "۱ فروردین ۱۴۰۲، ۱۱:۴۵"
