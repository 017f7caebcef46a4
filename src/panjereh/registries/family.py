"""The civil registry's family links: who is whose child, and who holds guardianship («ولایت/سرپرستی»).

Parents are recorded at birth; a court may end a parent's guardianship or give it to another person (a
«سرپرست قانونی»). The personas' links are written here (the demo citizen is his daughter's father); every
generated minor gets a father and a mother drawn deterministically from the generated adults 20 to 45
years older. Tests change links through the admin hook (`/_admin/family-links`), as the registry's clerks
would after a court's order. Whether a link still lets a parent act (the child's age, a death, an ended
guardianship) is for the platform to decide at each act: this registry only says what is recorded.
"""

from __future__ import annotations

import random
import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from panjereh.registries.population import AS_OF, Person, Population

RELATIONS = ("father", "mother", "guardian")


@dataclass(frozen=True, slots=True)
class FamilyLink:
    """One recorded link from a child to a parent or legal guardian."""

    child: str
    guardian: str
    relation: str  # father | mother | guardian (a court-appointed «سرپرست قانونی»)
    since: date
    ended_on: date | None = None  # the day a court ended this person's guardianship


# The personas' families: the demo citizen (علی رضایی) is the father of the minor persona (زهرا رضایی).
PERSONA_LINKS = (
    FamilyLink(child="0790419904", guardian="0499370899", relation="father", since=date(2012, 9, 23)),
)


def _generated_links(population: Population) -> list[FamilyLink]:
    rng = random.Random(f"{population.seed}/family")
    adults = {
        gender: sorted(
            (p.birth_date, p.national_code)
            for p in population.people
            if p.persona is None and p.gender == gender and (AS_OF - p.birth_date).days > 20 * 365
        )
        for gender in ("male", "female")
    }
    links = []
    for child in population.people:
        if child.persona is not None or (AS_OF - child.birth_date).days >= 18 * 365:
            continue
        for gender, relation in (("male", "father"), ("female", "mother")):
            pool = adults[gender]
            low = bisect_left(pool, (child.birth_date - timedelta(days=45 * 365), ""))
            high = bisect_right(pool, (child.birth_date - timedelta(days=20 * 365), "9"))
            if high > low:
                parent = pool[rng.randrange(low, high)][1]
                links.append(FamilyLink(child.national_code, parent, relation, child.birth_date))
    return links


class FamilyBook:
    """Every recorded link, indexed both ways; built on the first question (a few ms for 20,000 people)."""

    def __init__(self, population: Population) -> None:
        self.population = population
        self._lock = threading.Lock()
        self._links: dict[tuple[str, str], FamilyLink] | None = None

    def _all(self) -> dict[tuple[str, str], FamilyLink]:
        with self._lock:
            if self._links is None:
                links = [*PERSONA_LINKS, *_generated_links(self.population)]
                self._links = {(link.child, link.guardian): link for link in links}
            return self._links

    def children_of(self, code: str) -> list[FamilyLink]:
        return sorted((link for link in self._all().values() if link.guardian == code), key=lambda x: x.child)

    def guardians_of(self, code: str) -> list[FamilyLink]:
        return sorted((link for link in self._all().values() if link.child == code), key=lambda x: x.guardian)

    def record(self, link: FamilyLink) -> FamilyLink:
        """Add or replace the link between a child and a guardian (the admin hook)."""
        links = self._all()
        with self._lock:
            links[(link.child, link.guardian)] = link
        return link


def link_out(link: FamilyLink, other: Person, death_date: date | None) -> dict[str, Any]:
    """A link as the family service answers it, naming the other person (the child or the guardian)."""
    return {
        "national_code": other.national_code,
        "first_name": other.first_name,
        "last_name": other.last_name,
        "gender": other.gender,
        "birth_date": other.birth_date,
        "alive": death_date is None,
        "relation": link.relation,
        "since": link.since,
        "guardianship_ended_on": link.ended_on,
    }
