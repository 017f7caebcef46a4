"""What each agency's registry knows about a person, derived deterministically from the seed.

Facts are computed on demand (a person's facts never depend on anyone else's), from a random
generator seeded by ``(seed, registry, national code)``: the same seed always gives the same
facts, and generating the population stays cheap. Personas take their facts from
``personas.py`` instead. Values are JSON-ready (dates as ISO strings).
"""

from __future__ import annotations

import copy
import functools
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar, cast

from panjereh.core.identifiers import national_code_check_digit
from panjereh.core.jalali import age_on, to_jalali
from panjereh.core.persian import to_persian_digits
from panjereh.registries import names
from panjereh.registries.personas import PERSONA_DEFAULT_FACTS, PERSONAS_BY_KEY
from panjereh.registries.population import AS_OF, Person

Facts = dict[str, Any]
T = TypeVar("T")


def _rng(seed: int, kind: str, person: Person) -> random.Random:
    # A string seed is hashed with SHA-512: stable across processes and PYTHONHASHSEED.
    return random.Random(f"{seed}/{kind}/{person.national_code}")


def _persona_fact(person: Person, kind: str) -> Any:
    facts = PERSONAS_BY_KEY[person.persona].facts if person.persona else {}
    return facts.get(kind, PERSONA_DEFAULT_FACTS[kind])


def _fact(draw: str) -> Callable[[Callable[[Person, random.Random], T]], Callable[[Person, int], T]]:
    """One registry's fact about a person, named by the function: a persona's hand-written value (a
    copy, so callers may change it), else drawn from a generator seeded by ``(seed, draw, code)``."""

    def decorate(compute: Callable[[Person, random.Random], T]) -> Callable[[Person, int], T]:
        @functools.wraps(compute)
        def fact(person: Person, seed: int) -> T:
            if person.persona:
                return cast(T, copy.copy(_persona_fact(person, compute.__name__)))
            return compute(person, _rng(seed, draw, person))

        return fact

    return decorate


def _age(person: Person) -> int:
    return age_on(person.birth_date, AS_OF)


def _days_before(rng: random.Random, latest: date, max_days: int) -> date:
    return latest - timedelta(days=rng.randrange(1, max(2, max_days)))


def _adult_since(person: Person) -> date:
    return person.birth_date + timedelta(days=18 * 366)


@_fact("tax")
def tax(person: Person, rng: random.Random) -> Facts:
    """Tax file: whether the person files, outstanding debt in rials, last year filed."""
    if _age(person) < 18:
        return {"taxpayer": False, "debt_rials": 0, "last_filed_year": None}
    debt = rng.randrange(1, 500) * 1_000_000 if rng.random() < 0.08 else 0
    return {"taxpayer": True, "debt_rials": debt, "last_filed_year": rng.choice((1402, 1403, 1403, 1404))}


def _plate(rng: random.Random) -> Facts:
    two, letter = f"{rng.randrange(11, 100)}", rng.choice(names.PLATE_LETTERS)
    three, region = f"{rng.randrange(111, 1000)}", f"{rng.randrange(10, 100)}"
    text = f"{to_persian_digits(two)}{letter}{to_persian_digits(three)} ایران {to_persian_digits(region)}"
    return {"two": two, "letter": letter, "three": three, "region": region, "text": text}


@_fact("vehicles")
def vehicles(person: Person, rng: random.Random) -> list[Facts]:
    """Vehicles registered to the person at the traffic police."""
    if _age(person) < 18:
        return []
    count = 0 if rng.random() < 0.62 else (1 if rng.random() < 0.85 else 2)
    return [
        {
            "plate": _plate(rng),
            "model": rng.choice(names.CAR_MODELS),
            "color": rng.choice(names.CAR_COLORS),
            "model_year": rng.randrange(1380, 1405),
        }
        for _ in range(count)
    ]


def driving_licence(person: Person, seed: int) -> Facts | None:
    """The person's driving licence, or None (everyone who owns a car holds one)."""
    if person.persona:
        return _persona_fact(person, "driving_licence")
    rng = _rng(seed, "licence", person)
    if _age(person) < 18 or (not vehicles(person, seed) and rng.random() < 0.45):
        return None
    issued = _days_before(rng, AS_OF, (AS_OF - _adult_since(person)).days)
    first9 = f"9{rng.randrange(10**8):08d}"
    return {
        "number": first9 + str(national_code_check_digit(first9)),
        "class": rng.choice(names.LICENCE_CLASSES[:3]),
        "issued_on": issued.isoformat(),
        "valid_until": issued.replace(year=issued.year + 10, day=min(issued.day, 28)).isoformat(),
    }


@_fact("judiciary")
def criminal_records(person: Person, rng: random.Random) -> list[Facts]:
    """Final criminal convictions on file at the judiciary."""
    if _age(person) < 18 or rng.random() >= 0.04:
        return []
    verdict = _days_before(rng, AS_OF, min(3650, (AS_OF - _adult_since(person)).days))
    return [
        {
            "case_number": f"{to_jalali(verdict).year % 100:02d}09981{rng.randrange(10**9):09d}",
            "offence": rng.choice(names.OFFENCES),
            "verdict_on": verdict.isoformat(),
            "sentence": rng.choice(("جزای نقدی", "شش ماه حبس تعلیقی", "یک سال حبس")),
        }
    ]


@_fact("health")
def health_insurance(person: Person, rng: random.Random) -> Facts | None:
    """Basic health-insurance coverage: insurer, fund and paid-up date, or None if uninsured."""
    if rng.random() < 0.05:
        return None
    code, insurer = rng.choices(names.INSURERS, weights=(55, 40, 5))[0]
    # ~8% have let their cover lapse; the rest are paid up to one to three years ahead.
    shift = -rng.randrange(30, 900) if rng.random() < 0.08 else rng.randrange(365, 3 * 365)
    return {
        "insurer_code": code,
        "insurer": insurer,
        "fund": rng.choice(names.IHIO_FUNDS) if code == "ihio" else None,
        "valid_until": (AS_OF + timedelta(days=shift)).isoformat(),
    }


def _school_enrollment(age: int, rng: random.Random) -> Facts | None:
    for low, high, level in names.SCHOOL_LEVELS:
        if low <= age <= high:
            return {
                "institution": f"مدرسه شماره {to_persian_digits(rng.randrange(1, 300))}",
                "level": level,
                "field": None,
                "since": f"{AS_OF.year - 1}-09-23",
                "status": "enrolled",
            }
    return None


@_fact("enrollment")
def education_enrollment(person: Person, rng: random.Random) -> Facts | None:
    """Current enrollment at a school or university, or None."""
    age = _age(person)
    if not person.alive:
        return None
    if age < 18:
        return _school_enrollment(age, rng)
    if age <= 26 and rng.random() < 0.4:
        level = "کارشناسی" if age < 23 else "کارشناسی ارشد"
        since = f"{AS_OF.year - rng.randrange(1, 4)}-09-23"
        return {
            "institution": rng.choice(names.UNIVERSITIES),
            "level": level,
            "field": rng.choice(names.FIELDS),
            "since": since,
            "status": "enrolled",
        }
    return None


@_fact("degrees")
def education_degrees(person: Person, rng: random.Random) -> list[Facts]:
    """Degrees earned, lowest first."""
    age = _age(person)
    if age < 18 or rng.random() < 0.3:
        return []
    # How far a person got: diploma, associate, bachelor, master, doctorate.
    top = min(_highest_level(rng.random()), max(0, (age - 18) // 2))
    degrees = []
    for i in range(top + 1):
        year = person.birth_date.year + 18 + (0, 2, 4, 6, 10)[i]
        degrees.append(
            {
                "level": names.DEGREE_LEVELS[i],
                "field": "دیپلم متوسطه" if i == 0 else rng.choice(names.FIELDS),
                "institution": "آموزش و پرورش" if i == 0 else rng.choice(names.UNIVERSITIES),
                "graduated_on": f"{min(year, AS_OF.year - 1)}-06-30",
            }
        )
    return degrees


def _highest_level(x: float) -> int:
    """Map a uniform draw to the highest degree level index (0 = diploma ... 4 = doctorate)."""
    for level, threshold in enumerate((0.45, 0.55, 0.88, 0.98)):
        if x < threshold:
            return level
    return 4


@_fact("welfare")
def disability(person: Person, rng: random.Random) -> Facts | None:
    """The State Welfare Organization's disability record, or None."""
    if rng.random() >= 0.025:
        return None
    return {
        "file_number": f"{rng.randrange(10**8, 10**9)}",
        "type": rng.choice(names.DISABILITY_TYPES),
        "severity": rng.choice(names.DISABILITY_SEVERITIES),
        "registered_on": _days_before(rng, AS_OF, (AS_OF - person.birth_date).days).isoformat(),
    }


@_fact("deeds")
def properties(person: Person, rng: random.Random) -> list[Facts]:
    """Property deeds registered to the person."""
    if _age(person) < 18:
        return []
    count = 0 if rng.random() < 0.62 else (1 if rng.random() < 0.8 else 2)
    found = []
    for _ in range(count):
        province, cities, _, _ = rng.choice(names.PROVINCES)
        registered = _days_before(rng, AS_OF, (AS_OF - _adult_since(person)).days)
        found.append(
            {
                "deed_serial": f"1401{rng.randrange(10**13, 10**14)}",
                "kind": rng.choice(names.PROPERTY_KINDS),
                "area_m2": rng.randrange(45, 600),
                "province": province,
                "city": rng.choice(cities),
                "registry_plate": f"{rng.randrange(1, 9000)}/{rng.randrange(1, 400)}",
                "share_dang": rng.choice((6, 6, 6, 3, 2)),
                "registered_on": registered.isoformat(),
            }
        )
    return found


@_fact("sso")
def social_security(person: Person, rng: random.Random) -> Facts | None:
    """The Social Security Organization's insurance record, or None if never insured."""
    age = _age(person)
    if age < 18 or rng.random() >= 0.55:
        return None
    months = rng.randrange(1, max(2, min(age - 18, 40) * 12))
    employer_id, employer_name = rng.choice(names.EMPLOYERS)
    retired = age >= 60 and months >= 240
    active = not retired and person.alive and rng.random() < 0.8
    last = AS_OF - timedelta(days=30 if active else rng.randrange(60, 2000))
    return {
        "months": months,
        "status": "retired" if retired else ("active" if active else "inactive"),
        "employer": {"legal_entity_id": employer_id, "name": employer_name},
        "last_contribution_on": min(last, person.death_date or last).isoformat(),
    }
