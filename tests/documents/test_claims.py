"""Derived claims: each computed from its input on a given day, the Jalali calendar deciding birthdays."""

from __future__ import annotations

from datetime import date

import pytest

from panjereh.core import jalali
from panjereh.documents import claims


@pytest.mark.parametrize(
    ("born", "today", "adult"),
    [
        # The 18th birthday is today (15 Azar 1405, from 15 Azar 1387), tomorrow, yesterday.
        (jalali.from_jalali(1387, 9, 15), jalali.from_jalali(1405, 9, 15), True),
        (jalali.from_jalali(1387, 9, 16), jalali.from_jalali(1405, 9, 15), False),
        (jalali.from_jalali(1387, 9, 14), jalali.from_jalali(1405, 9, 15), True),
        # 6 December 2008 is 16 Azar 1387: on 6 December 2026 (15 Azar 1405) the Gregorian birthday has come,
        # the Jalali one (the law's) has not.
        (date(2008, 12, 6), date(2026, 12, 6), False),
        (date(1985, 6, 12), date(2026, 12, 6), True),
        (date(2012, 9, 23), date(2026, 12, 6), False),  # the demo citizen's daughter
    ],
)
def test_over_18_counts_completed_years(born: date, today: date, adult: bool) -> None:
    assert claims.derive("over_18", {"birth_date": born.isoformat()}, today) is adult


def test_the_18th_birthday_is_the_jalali_one() -> None:
    # Born 2008-03-20 = 1387-01-01 (Nowruz fell on 20 March that year). 18 Jalali years later is 1405-01-01 =
    # 2026-03-21, a day after the Gregorian anniversary.
    born = jalali.from_jalali(1387, 1, 1)
    assert born == date(2008, 3, 20)
    gregorian_birthday = date(2026, 3, 20)
    jalali_birthday = jalali.from_jalali(1405, 1, 1)
    assert jalali_birthday == date(2026, 3, 21)
    assert claims.derive("over_18", {"birth_date": born.isoformat()}, gregorian_birthday) is False
    assert claims.derive("over_18", {"birth_date": born.isoformat()}, jalali_birthday) is True


def test_born_on_a_leap_day_comes_of_age_the_day_after_esfand_29() -> None:
    born = jalali.from_jalali(1387, 12, 30)  # 1387 is a leap year in the Jalali calendar
    last_esfand = jalali.from_jalali(1405, 12, 29)  # 1405 has no 30 Esfand
    assert not jalali.is_leap(1405)
    assert claims.derive("over_18", {"birth_date": born.isoformat()}, last_esfand) is False
    assert claims.derive("over_18", {"birth_date": born.isoformat()}, jalali.from_jalali(1406, 1, 1)) is True


def test_licence_valid_today_and_degree_level() -> None:
    licence = {"licence_number": "9012345678", "valid_until": "2026-12-06"}
    assert claims.derive("licence_valid_today", licence, date(2026, 12, 6)) is True
    assert claims.derive("licence_valid_today", licence, date(2026, 12, 7)) is False
    assert claims.derive("bachelor_or_higher", {"level": "کارشناسی"}, date(2026, 1, 1)) is True
    assert claims.derive("bachelor_or_higher", {"level": "کاردانی"}, date(2026, 1, 1)) is False


def test_a_document_offers_only_what_it_can_answer() -> None:
    today = date(2026, 12, 6)
    identity = {"first_name": "علی", "birth_date": "1985-06-12", "fetched_on": "2026-12-06"}
    offered = claims.offered(identity, today)
    assert {"holder_name", "holder_national_code", "first_name", "birth_date", "over_18", "over_65"} <= set(
        offered
    )
    assert "fetched_on" not in offered and "licence_valid_today" not in offered
    # An unreadable input offers no derived claim instead of failing.
    assert "over_18" not in claims.offered({"birth_date": "not a date"}, today)
    assert "bachelor_or_higher" not in claims.offered({"level": "unknown"}, today)


def test_over_65_on_the_day() -> None:
    born = jalali.from_jalali(1340, 5, 1)
    assert (
        claims.derive("over_65", {"birth_date": born.isoformat()}, jalali.from_jalali(1405, 4, 31)) is False
    )
    assert claims.derive("over_65", {"birth_date": born.isoformat()}, jalali.from_jalali(1405, 5, 1)) is True
