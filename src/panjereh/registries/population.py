"""A deterministic synthetic population: the people every simulated registry knows about.

The same ``(seed, size)`` always yields the same people, whatever the date or the machine: ages
and deaths are drawn relative to the fixed ``AS_OF`` date, not today. The fixed personas of
``personas.py`` come first. National codes are valid checksums over random digits, never real
people's. Lookups by national code, mobile (any registered SIM) and postal code are dict reads.
"""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass, fields
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate

from panjereh.core.identifiers import make_national_code
from panjereh.registries import names
from panjereh.registries.people import Address, CivilRecord
from panjereh.registries.personas import PERSONAS, Persona

DEFAULT_SEED = 1402
DEFAULT_SIZE = 20_000
AS_OF = date(2026, 3, 21)  # 1 Farvardin 1405: the population is drawn as it stood on this day

_PROVINCE_CUM_WEIGHTS = list(accumulate(p[3] for p in names.PROVINCES))


@dataclass(frozen=True, slots=True)
class Person(CivilRecord):
    """One synthetic citizen as the civil registry, Shahkar and the Post know them."""

    death_date: date | None
    mobile: str
    sims: tuple[str, ...]
    address: Address
    address_changed_on: date | None
    persona: str | None = None

    @property
    def alive(self) -> bool:
        """True unless the civil registry has a death date."""
        return self.death_date is None


class Population:
    """An immutable, indexed set of people."""

    def __init__(self, seed: int, size: int, people: list[Person]) -> None:
        self.seed = seed
        self.size = size
        self.people = people
        self.by_code = {p.national_code: p for p in people}
        self.by_mobile = {sim: p for p in people for sim in p.sims}
        self.by_postal_code = {p.address.postal_code: p.address for p in people}

    def __len__(self) -> int:
        return len(self.people)

    def person(self, national_code: str) -> Person | None:
        """The person with this (normalized) national code, if any."""
        return self.by_code.get(national_code)

    def owner_of(self, mobile: str) -> Person | None:
        """The person a (normalized) mobile number is registered to, if any."""
        return self.by_mobile.get(mobile)


def _persona_person(p: Persona) -> Person:
    civil = {f.name: getattr(p, f.name) for f in fields(CivilRecord)}
    return Person(
        **civil,
        death_date=p.death_date,
        mobile=p.mobile,
        sims=(p.mobile, *p.extra_sims),
        address=p.address,
        address_changed_on=None,
        persona=p.key,
    )


class _Generator:
    """Draws random people while keeping identifiers unique."""

    def __init__(self, seed: int, reserved: list[Person]) -> None:
        self.rng = random.Random(seed)
        self.codes = {p.national_code for p in reserved}
        self.mobiles = {sim for p in reserved for sim in p.sims}
        self.postal_codes = {p.address.postal_code for p in reserved}

    def national_code(self) -> str:
        while (code := make_national_code(self.rng)) in self.codes:
            pass
        self.codes.add(code)
        return code

    def mobile(self) -> str:
        rng = self.rng
        while (mobile := f"{rng.choice(names.MOBILE_PREFIXES)}{rng.randrange(10**7):07d}") in self.mobiles:
            pass
        self.mobiles.add(mobile)
        return mobile

    def postal_code(self, leading: str) -> str:
        rng = self.rng
        while True:
            # 0 and 2 never appear in the first five digits of a real postal code.
            head = leading + "".join(rng.choice("13456789") for _ in range(4))
            code = f"{head}{rng.randrange(10**5):05d}"
            if code not in self.postal_codes and len(set(code)) > 1:
                self.postal_codes.add(code)
                return code

    def address(self) -> Address:
        rng = self.rng
        province, cities, leading, _ = rng.choices(names.PROVINCES, cum_weights=_PROVINCE_CUM_WEIGHTS)[0]
        city = cities[0] if rng.random() < 0.6 else rng.choice(cities)
        alley = rng.choice(names.ALLEYS) if rng.random() < 0.6 else None
        unit = rng.randrange(1, 25) if rng.random() < 0.7 else None
        return Address(
            province=province,
            city=city,
            street=rng.choice(names.STREETS),
            alley=alley,
            plaque=rng.randrange(1, 400),
            unit=unit,
            postal_code=self.postal_code(leading),
        )

    def dates(self) -> tuple[date, date | None, date | None]:
        """Birth date (~20% minors), death date (~2%) and address-change date (~10%)."""
        rng = self.rng
        if rng.random() < 0.2:
            age_days = rng.randrange(1, 18 * 365)
        else:
            age_days = int(rng.triangular(18.02, 95, 32) * 365.25)
        birth = AS_OF - timedelta(days=age_days)
        death = None
        if age_days > 18 * 365 and rng.random() < 0.02 / 0.8:
            death = AS_OF - timedelta(days=rng.randrange(1, min(3650, age_days - 18 * 365)))
        moved = None
        if rng.random() < 0.1:
            moved = AS_OF - timedelta(days=rng.randrange(1, min(5 * 365, age_days)))
            if death and moved >= death:
                moved = None
        return birth, death, moved

    def person(self) -> Person:
        rng = self.rng
        gender = "female" if rng.random() < 0.5 else "male"
        first_names = names.FEMALE_FIRST_NAMES if gender == "female" else names.MALE_FIRST_NAMES
        birth, death, moved = self.dates()
        mobile = self.mobile()
        extra = 0 if birth > AS_OF - timedelta(days=18 * 365) else bisect((0.70, 0.95), rng.random())
        sims = (mobile, *(self.mobile() for _ in range(extra)))
        return Person(
            national_code=self.national_code(),
            first_name=rng.choice(first_names),
            last_name=rng.choice(names.LAST_NAMES),
            father_name=rng.choice(names.MALE_FIRST_NAMES),
            gender=gender,
            birth_date=birth,
            death_date=death,
            mobile=mobile,
            sims=sims,
            address=self.address(),
            address_changed_on=moved,
        )


def generate_population(seed: int = DEFAULT_SEED, size: int = DEFAULT_SIZE) -> Population:
    """Build a population of ``size`` people (at least the personas), personas first."""
    people = [_persona_person(p) for p in PERSONAS]
    generator = _Generator(seed, people)
    people.extend(generator.person() for _ in range(size - len(people)))
    return Population(seed, size, people)


@lru_cache(maxsize=4)
def get_population(seed: int = DEFAULT_SEED, size: int = DEFAULT_SIZE) -> Population:
    """The population for ``(seed, size)``, generated once per process."""
    return generate_population(seed, size)
