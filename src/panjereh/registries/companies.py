"""The companies registry («سامانهٔ ثبت شرکت‌ها») of the Deeds and Properties Registration Organization:
legal entities by their national ID (شناسهٔ ملی, 11 digits with a check digit), and their board and
signatories with each one's authority.

The demo companies are written here. A board member acts for the company only while his term runs
(`since` ≤ today < `until`) and only if the registered minutes give him the right to sign («حق امضا»);
a dissolved company has no one to act for it. The platform decides that at each act; this registry
only says what is registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True, slots=True)
class Officer:
    """One seat on a company's board, or its managing director, as registered."""

    national_code: str
    position: str
    may_sign: bool
    since: date
    until: date | None = None


@dataclass(frozen=True, slots=True)
class Company:
    """A registered legal entity."""

    legal_entity_id: str
    name: str
    kind: str
    registration_number: str
    registered_on: date
    status: str  # active | dissolved
    officers: tuple[Officer, ...]


COMPANIES: tuple[Company, ...] = (
    Company(
        legal_entity_id="77111986110",
        name="شرکت نمونه فناوری آریا",
        kind="سهامی خاص",
        registration_number="512873",
        registered_on=date(2015, 4, 18),
        status="active",
        officers=(
            # The demo citizen is the managing director, with the right to sign.
            Officer("0499370899", "مدیرعامل", True, date(2021, 5, 1), date(2027, 5, 1)),
            # A board member without the right to sign (the "non-signatory" of the tests).
            Officer("0068415941", "عضو هیئت‌مدیره", False, date(2021, 5, 1), date(2027, 5, 1)),
            # A former chair whose term has ended.
            Officer("0084575948", "رئیس هیئت‌مدیره", True, date(2019, 5, 1), date(2021, 5, 1)),
        ),
    ),
    Company(
        legal_entity_id="10380284790",
        name="شرکت نمونه صنایع پارس",
        kind="سهامی عام",
        registration_number="11542",
        registered_on=date(1978, 10, 2),
        status="active",
        officers=(Officer("2540201288", "رئیس هیئت‌مدیره", True, date(2020, 7, 1), date(2028, 7, 1)),),
    ),
    Company(
        legal_entity_id="97006806007",
        name="شرکت نمونه بازرگانی زاینده‌رود",
        kind="با مسئولیت محدود",
        registration_number="30417",
        registered_on=date(2009, 1, 12),
        status="dissolved",
        officers=(Officer("4032152314", "مدیرعامل", True, date(2009, 1, 12)),),
    ),
)
COMPANIES_BY_ID = {c.legal_entity_id: c for c in COMPANIES}


def company_out(company: Company, names: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """A company as the registry answers it; `names` gives each officer's first and last name."""
    return {
        "legal_entity_id": company.legal_entity_id,
        "name": company.name,
        "kind": company.kind,
        "registration_number": company.registration_number,
        "registered_on": company.registered_on,
        "status": company.status,
        "officers": [
            {
                "national_code": o.national_code,
                "first_name": names.get(o.national_code, ("", ""))[0],
                "last_name": names.get(o.national_code, ("", ""))[1],
                "position": o.position,
                "may_sign": o.may_sign,
                "since": o.since,
                "until": o.until,
            }
            for o in company.officers
        ],
    }


def companies_of(national_code: str) -> list[Company]:
    """The companies a person sits on the board of (or did), in registration order."""
    return [c for c in COMPANIES if any(o.national_code == national_code for o in c.officers)]
