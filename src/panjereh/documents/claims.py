"""What a document's holder may disclose: its own claims and claims derived from them (pure functions).

A derived claim answers a question from a claim without revealing it: «بالای ۱۸ سال» is computed from the
birth date, which stays out of the statement. Each one names the claims it needs; a document that lacks
them does not offer it. Ages count in the Jalali calendar Iranian law uses (`core.jalali.age_on`): someone
born on 30 Esfand of a leap year comes of age on 1 Farvardin in a common year.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from panjereh.core import jalali

# Claims that are the platform's bookkeeping, never offered for disclosure.
NOT_DISCLOSABLE = frozenset({"service", "summary_fa", "fetched_on"})
# The holder's identity, offered on every document (taken from the document's record, not its claims).
HOLDER_NAME = "holder_name"
HOLDER_NATIONAL_CODE = "holder_national_code"
# At most this many claims in one share (a share is a few facts, not the whole document again).
MAX_CLAIMS = 20

ADULT_AGE = 18
# Degree levels from lowest to highest, as the education registry names them.
DEGREE_LEVELS = ("دیپلم", "کاردانی", "کارشناسی", "کارشناسی ارشد", "دکتری")


@dataclass(frozen=True)
class Derived:
    """A claim computed from others: its name, labels, the claims it needs, and how it is computed."""

    name: str
    label_fa: str
    label_en: str
    needs: tuple[str, ...]
    compute: Callable[[Mapping[str, Any], date], Any]


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def is_of_age(birth_date: date, today: date, years: int = ADULT_AGE) -> bool:
    """Whether someone born on `birth_date` has completed `years` years on `today` (Jalali years)."""
    return jalali.age_on(birth_date, today) >= years


def _over(years: int) -> Callable[[Mapping[str, Any], date], Any]:
    def compute(claims: Mapping[str, Any], today: date) -> Any:
        born = _date(claims.get("birth_date"))
        return None if born is None else is_of_age(born, today, years)

    return compute


def _licence_valid(claims: Mapping[str, Any], today: date) -> Any:
    until = _date(claims.get("valid_until"))
    return None if until is None else until >= today


def _bachelor_or_higher(claims: Mapping[str, Any], today: date) -> Any:
    level = claims.get("level")
    if level not in DEGREE_LEVELS:
        return None
    return DEGREE_LEVELS.index(level) >= DEGREE_LEVELS.index("کارشناسی")


DERIVED: dict[str, Derived] = {
    item.name: item
    for item in (
        Derived("over_18", "بالای ۱۸ سال", "Over 18", ("birth_date",), _over(18)),
        Derived("over_65", "بالای ۶۵ سال", "Over 65", ("birth_date",), _over(65)),
        Derived(
            "licence_valid_today",
            "گواهینامه امروز معتبر است",
            "Licence valid today",
            ("licence_number", "valid_until"),
            _licence_valid,
        ),
        Derived(
            "bachelor_or_higher",
            "دارای مدرک کارشناسی یا بالاتر",
            "Holds a bachelor's degree or higher",
            ("level",),
            _bachelor_or_higher,
        ),
    )
}


def disclosable(claims: Mapping[str, Any]) -> list[str]:
    """The document's own claims a holder may disclose, in the document's order."""
    return [name for name in claims if name not in NOT_DISCLOSABLE]


def derivable(claims: Mapping[str, Any], today: date) -> list[str]:
    """The derived claims this document offers (each one's inputs present and readable)."""
    return [
        item.name
        for item in DERIVED.values()
        if all(name in claims for name in item.needs) and item.compute(claims, today) is not None
    ]


def offered(claims: Mapping[str, Any], today: date) -> list[str]:
    """Everything a share of this document may hold: the holder, its claims, its derived claims."""
    return [HOLDER_NAME, HOLDER_NATIONAL_CODE, *disclosable(claims), *derivable(claims, today)]


def derive(name: str, claims: Mapping[str, Any], today: date) -> Any:
    """The value of one derived claim on `today`."""
    return DERIVED[name].compute(claims, today)
