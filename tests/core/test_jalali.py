"""Jalali conversion, fiscal years and ages against the vectors of domain.md §6."""

from datetime import UTC, date, datetime

import pytest

from panjereh.core.jalali import (
    age_on,
    fiscal_year_bounds,
    fiscal_year_of,
    format_jalali,
    from_jalali,
    is_leap,
    jalali_month_bounds,
    jalali_month_name,
    tehran_today,
    to_jalali,
    to_tehran,
)

VECTORS = [
    ((1401, 1, 1), date(2022, 3, 21)),
    ((1402, 1, 1), date(2023, 3, 21)),
    ((1402, 12, 29), date(2024, 3, 19)),
    ((1403, 1, 1), date(2024, 3, 20)),
    ((1403, 12, 30), date(2025, 3, 20)),
    ((1404, 1, 1), date(2025, 3, 21)),
]


@pytest.mark.parametrize(("jalali", "gregorian"), VECTORS)
def test_from_jalali_vectors(jalali: tuple[int, int, int], gregorian: date) -> None:
    assert from_jalali(*jalali) == gregorian


@pytest.mark.parametrize(("jalali", "gregorian"), VECTORS)
def test_to_jalali_vectors(jalali: tuple[int, int, int], gregorian: date) -> None:
    j = to_jalali(gregorian)
    assert (j.year, j.month, j.day) == jalali


@pytest.mark.parametrize("bad", [(1402, 7, 31), (1402, 12, 30), (1402, 13, 1), (1402, 0, 10), (1402, 1, 32)])
def test_nonexistent_dates_raise(bad: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError):
        from_jalali(*bad)


@pytest.mark.parametrize(
    ("year", "leap"), [(1399, True), (1402, False), (1403, True), (1404, False), (1408, True)]
)
def test_leap_years(year: int, leap: bool) -> None:
    assert is_leap(year) is leap


@pytest.mark.parametrize(
    ("month", "name"), [(1, "فروردین"), (6, "شهریور"), (7, "مهر"), (8, "آبان"), (10, "دی"), (12, "اسفند")]
)
def test_month_names(month: int, name: str) -> None:
    assert jalali_month_name(month) == name


@pytest.mark.parametrize("month", [0, 13])
def test_month_name_out_of_range(month: int) -> None:
    with pytest.raises(ValueError):
        jalali_month_name(month)


def test_saturday_is_weekday_zero() -> None:
    assert to_jalali(date(2024, 3, 16)).weekday() == 0  # a Saturday


def test_format_jalali_variants() -> None:
    d = date(2024, 3, 19)
    assert format_jalali(d) == "۲۹ اسفند ۱۴۰۲"
    assert format_jalali(d, persian_digits=False) == "29 اسفند 1402"
    assert format_jalali(d, with_month_name=False) == "۱۴۰۲/۱۲/۲۹"
    assert format_jalali(d, persian_digits=False, with_month_name=False) == "1402/12/29"


def test_format_aware_datetime_shows_tehran_time() -> None:
    # 20:45 UTC on 19 March 2024 is already 1 Farvardin 1403 in Tehran (UTC+03:30).
    moment = datetime(2024, 3, 19, 20, 45, tzinfo=UTC)
    assert format_jalali(moment, persian_digits=False, with_month_name=False) == "1403/01/01 00:15"


def test_to_tehran_converts_and_assumes_utc_for_naive() -> None:
    aware = to_tehran(datetime(2024, 1, 1, 12, 0, tzinfo=UTC))
    naive = to_tehran(datetime(2024, 1, 1, 12, 0))
    assert (aware.hour, aware.minute) == (15, 30)
    assert naive == aware
    assert str(aware.tzinfo) == "Asia/Tehran"


@pytest.mark.parametrize(
    ("moment", "year"),
    [
        (date(2023, 3, 20), 1401),
        (date(2023, 3, 21), 1402),
        (date(2024, 3, 19), 1402),
        (date(2024, 3, 20), 1403),
        (datetime(2024, 3, 19, 20, 45, tzinfo=UTC), 1403),
        (datetime(2024, 3, 19, 20, 15, tzinfo=UTC), 1402),
    ],
)
def test_fiscal_year_of(moment: date, year: int) -> None:
    assert fiscal_year_of(moment) == year


@pytest.mark.parametrize(
    ("year", "bounds"),
    [
        (1401, (date(2022, 3, 21), date(2023, 3, 21))),
        (1402, (date(2023, 3, 21), date(2024, 3, 20))),
        (1403, (date(2024, 3, 20), date(2025, 3, 21))),
    ],
)
def test_fiscal_year_bounds(year: int, bounds: tuple[date, date]) -> None:
    assert fiscal_year_bounds(year) == bounds


def test_month_bounds() -> None:
    assert jalali_month_bounds(1402, 1) == (date(2023, 3, 21), date(2023, 4, 21))
    assert jalali_month_bounds(1402, 7) == (date(2023, 9, 23), date(2023, 10, 23))
    assert jalali_month_bounds(1402, 12) == (date(2024, 2, 20), date(2024, 3, 20))
    start, end = jalali_month_bounds(1403, 12)
    assert (end - start).days == 30


def test_month_bounds_rejects_bad_month() -> None:
    with pytest.raises(ValueError):
        jalali_month_bounds(1402, 13)


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(2005, 6, 1), date(2023, 5, 31), 17),
        (date(2005, 6, 1), date(2023, 6, 1), 18),
        (date(2005, 6, 1), date(2023, 6, 2), 18),
        (date(1990, 1, 1), date(1990, 1, 1), 0),
        (date(2020, 1, 1), date(2019, 1, 1), 0),
        # Born 30 Esfand 1399 (leap): in 1400 the birthday is reached on 1 Farvardin 1401.
        (from_jalali(1399, 12, 30), from_jalali(1400, 12, 29), 0),
        (from_jalali(1399, 12, 30), from_jalali(1401, 1, 1), 1),
    ],
)
def test_age_on(birth: date, on: date, age: int) -> None:
    assert age_on(birth, on) == age


def test_age_counts_jalali_anniversaries() -> None:
    # 1 Farvardin 1385 = 21 March 2006; the 18th Jalali birthday, 1 Farvardin 1403, is 20 March 2024.
    assert age_on(date(2006, 3, 21), date(2024, 3, 20)) == 18
    assert age_on(date(2006, 3, 21), date(2024, 3, 19)) == 17


def test_tehran_today_is_the_day_as_tehran_sees_it() -> None:
    """One helper for «today» (sharing, representation, the decision engine): 21:00 UTC is already the next
    day in Tehran (UTC+03:30), 20:00 UTC is not."""
    assert tehran_today(datetime(2026, 3, 20, 20, 0, tzinfo=UTC)) == date(2026, 3, 20)
    assert tehran_today(datetime(2026, 3, 20, 21, 0, tzinfo=UTC)) == date(2026, 3, 21)
    assert tehran_today() in {datetime.now(UTC).date(), to_tehran(datetime.now(UTC)).date()}
