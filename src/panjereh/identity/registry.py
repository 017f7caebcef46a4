"""Registry checks at registration: Shahkar and the civil registry, through the exchange's PlatformClient."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from panjereh.core import jalali
from panjereh.exchange.exceptions import ProviderUnavailable
from panjereh.identity import policy
from panjereh.identity.exceptions import (
    PersonDeceased,
    PersonNotFound,
    RegistryUnavailable,
    ShahkarMismatch,
    Underage,
)

if TYPE_CHECKING:
    from panjereh.exchange.client import PlatformClient

PURPOSE = "identity.registration"


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


def check_person(client: PlatformClient, national_code: str, mobile: str, today: date) -> RegistryPerson:
    """Shahkar match, then the civil registry: alive and 18+ today. Raises a clear problem otherwise."""
    try:
        match = client.inquire(
            "shahkar.match",
            subject=national_code,
            purpose=PURPOSE,
            body={"national_code": national_code, "mobile": mobile},
        )
        if not match.ok:
            raise RegistryUnavailable(f"Shahkar answered {match.status}", f"پاسخ شاهکار: {match.status}")
        if not bool((match.data or {}).get("matched")):
            raise ShahkarMismatch()
        found = client.inquire(
            "civil-registry.person",
            subject=national_code,
            purpose=PURPOSE,
            path_params={"national_code": national_code},
        )
    except ProviderUnavailable as exc:
        raise RegistryUnavailable() from exc
    if found.status == 404:
        raise PersonNotFound()
    if not found.ok:
        raise RegistryUnavailable(
            f"Civil registry answered {found.status}", f"پاسخ ثبت احوال: {found.status}"
        )
    data = found.data or {}
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
