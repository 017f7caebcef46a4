"""Registry checks at registration: Shahkar's mobile match and the civil registry's record, and the rules
applied to them (alive, 18 or older).

Identity states the two questions it asks (`RegistrationChecks`); it does not know who answers them. The
application wires the exchange's answerer (`exchange.registration.ExchangeRegistrationChecks`), so identity
imports nothing from the domains above it and the exchange can build on identity (the current citizen)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from panjereh.core import jalali
from panjereh.identity import policy
from panjereh.identity.exceptions import PersonDeceased, PersonNotFound, ShahkarMismatch, Underage


class RegistrationChecks(Protocol):
    """The registries' answers registration needs. Either method raises `RegistryUnavailable` when the
    registry cannot answer."""

    def mobile_matches(self, national_code: str, mobile: str) -> bool:
        """Shahkar: is this mobile line registered to this national code?"""
        ...

    def person(self, national_code: str) -> Mapping[str, Any] | None:
        """The civil registry's record of the person, or None if it has none."""
        ...


@dataclass(frozen=True)
class RegistryPerson:
    """What the civil registry says about a person (the names are never typed by the citizen)."""

    national_code: str
    first_name: str
    last_name: str
    father_name: str
    gender: str
    birth_date: date

    def as_dict(self) -> dict[str, str]:
        return {
            "national_code": self.national_code,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "father_name": self.father_name,
            "gender": self.gender,
            "birth_date": self.birth_date.isoformat(),
        }


def check_person(checks: RegistrationChecks, national_code: str, mobile: str, today: date) -> RegistryPerson:
    """Shahkar match, then the civil registry: alive and 18+ today. Raises a clear problem otherwise."""
    if not checks.mobile_matches(national_code, mobile):
        raise ShahkarMismatch()
    data = checks.person(national_code)
    if data is None:
        raise PersonNotFound()
    if not data.get("alive", False) or data.get("death_date"):
        raise PersonDeceased()
    birth_date = date.fromisoformat(str(data["birth_date"]))
    if jalali.age_on(birth_date, today) < policy.MINIMUM_AGE:
        raise Underage()
    return RegistryPerson(
        national_code=national_code,
        first_name=str(data.get("first_name", "")),
        last_name=str(data.get("last_name", "")),
        father_name=str(data.get("father_name", "")),
        gender=str(data.get("gender", "")),
        birth_date=birth_date,
    )
