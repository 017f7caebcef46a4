"""The Jalali (solar Hijri) calendar at the edges: conversion, formatting, fiscal years, ages.

The platform stores UTC timestamps and Gregorian dates; these helpers convert only for showing
and for rules the law states in Jalali terms (the fiscal year is the Jalali year, which starts on
1 Farvardin ≈ 21 March). Facts and vectors: ``/work/shared/domain.md`` §6.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import jdatetime

from panjereh.core.persian import to_persian_digits

__all__ = [
    "TEHRAN",
    "age_on",
    "fiscal_year_bounds",
    "fiscal_year_of",
    "format_jalali",
    "from_jalali",
    "is_leap",
    "jalali_month_bounds",
    "jalali_month_name",
    "tehran_today",
    "to_jalali",
    "to_tehran",
]

TEHRAN = ZoneInfo("Asia/Tehran")

MONTH_NAMES = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
# The same months as English-language readers write them (transliterated, as Iranian sources do).
MONTH_NAMES_EN = (
    "Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
    "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand",
)  # fmt: skip


def tehran_today(now: datetime | None = None) -> date:
    """Today as Tehran sees it (the day an age, a right or a validity is judged on); of `now` when given."""
    return (now or datetime.now(UTC)).astimezone(TEHRAN).date()


def to_tehran(dt: datetime) -> datetime:
    """Convert a UTC (or any aware) datetime to Asia/Tehran; naive input is taken as UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(TEHRAN)


def _local_date(d: date | datetime) -> date:
    """The calendar date a person in Tehran sees: aware datetimes are converted first."""
    if isinstance(d, datetime):
        return (to_tehran(d) if d.tzinfo is not None else d).date()
    return d


def to_jalali(d: date | datetime) -> jdatetime.date | jdatetime.datetime:
    """Convert a Gregorian date or datetime (aware ones shown in Tehran time) to Jalali."""
    if isinstance(d, datetime):
        local = to_tehran(d) if d.tzinfo is not None else d
        return jdatetime.datetime.fromgregorian(datetime=local)
    return jdatetime.date.fromgregorian(date=d)


def from_jalali(year: int, month: int, day: int) -> date:
    """The Gregorian date of a Jalali date; ``ValueError`` for dates that do not exist."""
    try:
        return jdatetime.date(year, month, day).togregorian()
    except ValueError as exc:
        raise ValueError(f"{year:04d}-{month:02d}-{day:02d} is not a Jalali date: {exc}") from exc


def jalali_month_name(month: int) -> str:
    """The Persian name of Jalali month 1..12."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be in 1..12, not {month}")
    return MONTH_NAMES[month - 1]


def format_jalali(
    d: date | datetime, persian_digits: bool = True, with_month_name: bool = True, *, english: bool = False
) -> str:
    """Show a date the Persian way: ``۲۹ اسفند ۱۴۰۲`` or ``۱۴۰۲/۱۲/۲۹`` (datetimes add HH:MM)."""
    j = to_jalali(d)
    if with_month_name:
        names = MONTH_NAMES_EN if english else MONTH_NAMES
        text = f"{j.day} {names[j.month - 1]} {j.year}"
    else:
        text = f"{j.year:04d}/{j.month:02d}/{j.day:02d}"
    if isinstance(j, jdatetime.datetime):
        text += f" {j.hour:02d}:{j.minute:02d}"
    return to_persian_digits(text) if persian_digits else text


def is_leap(year: int) -> bool:
    """True when Jalali ``year`` has 30 days in Esfand."""
    return bool(jdatetime.date(year, 1, 1).isleap())


def fiscal_year_of(d: date | datetime) -> int:
    """The fiscal year (the Jalali year) a date falls in, seen from Tehran."""
    return int(jdatetime.date.fromgregorian(date=_local_date(d)).year)


def fiscal_year_bounds(year: int) -> tuple[date, date]:
    """Gregorian ``(first day, first day of the next year)`` of a fiscal year."""
    return from_jalali(year, 1, 1), from_jalali(year + 1, 1, 1)


def jalali_month_bounds(year: int, month: int) -> tuple[date, date]:
    """Gregorian ``(first day, first day of the next month)`` of a Jalali month."""
    start = from_jalali(year, month, 1)
    end = from_jalali(year + 1, 1, 1) if month == 12 else from_jalali(year, month + 1, 1)
    return start, end


def age_on(birth_date: date, on_date: date) -> int:
    """Completed years of age on ``on_date``, counted in the Jalali calendar Iranian law uses."""
    birth = jdatetime.date.fromgregorian(date=_local_date(birth_date))
    on = jdatetime.date.fromgregorian(date=_local_date(on_date))
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return max(int(years), 0)
