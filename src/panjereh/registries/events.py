"""The civil registry's life-events feed: births, deaths, coming of age, address changes.

Events are derived from the population (a birth on the birth date, a death on the death date,
"turned 18" on the 18th Jalali birthday, an address change on the day it happened) and become
visible when the app's clock passes them, so a long-running simulator keeps publishing. Tests
can inject more. Ids grow in publication order: a derived event's id is its Tehran day number
times 100,000 plus its rank that day; an injected event gets the current day's number plus
50,000 and up, so it sorts after everything already visible and before anything still to come.
"""

from __future__ import annotations

import heapq
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any

from panjereh.core.jalali import TEHRAN, from_jalali, to_jalali
from panjereh.registries.population import Population, get_population

EVENT_TYPES = ("birth_registered", "death_registered", "turned_18", "address_changed")
_DAY = 100_000
_INJECTED = 50_000
_EPOCH = date(1900, 1, 1)


@dataclass(frozen=True, slots=True)
class LifeEvent:
    """One published life event about one person."""

    id: int
    type: str
    national_code: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form; ``occurred_on`` is the Tehran calendar date."""
        return {
            "id": self.id,
            "type": self.type,
            "national_code": self.national_code,
            "occurred_at": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "occurred_on": self.occurred_at.astimezone(TEHRAN).date().isoformat(),
            "data": self.data,
        }


def tehran_midnight(d: date) -> datetime:
    """The UTC instant a calendar day starts in Tehran."""
    return datetime.combine(d, time(), TEHRAN).astimezone(UTC)


def eighteenth_birthday(birth: date) -> date:
    """The day a person turns 18 by the Jalali calendar (30 Esfand births: 1 Farvardin)."""
    j = to_jalali(birth)
    try:
        return from_jalali(j.year + 18, j.month, j.day)
    except ValueError:
        return from_jalali(j.year + 19, 1, 1)


def _raw_events(population: Population) -> Iterator[tuple[date, int, str, str, dict[str, Any]]]:
    for p in population.people:
        code = p.national_code
        yield p.birth_date, 0, "birth_registered", code, {"gender": p.gender, "father_name": p.father_name}
        adult = eighteenth_birthday(p.birth_date)
        if p.death_date is None or adult <= p.death_date:
            yield adult, 1, "turned_18", code, {"birth_date": p.birth_date.isoformat()}
        if p.address_changed_on:
            yield p.address_changed_on, 2, "address_changed", code, {"postal_code": p.address.postal_code}
        if p.death_date:
            yield p.death_date, 3, "death_registered", code, {"death_date": p.death_date.isoformat()}


@lru_cache(maxsize=4)
def derived_events(seed: int, size: int) -> tuple[LifeEvent, ...]:
    """Every event the population implies, in id (and so date) order."""
    raw = sorted(_raw_events(get_population(seed, size)), key=lambda r: (r[0], r[1], r[3]))
    events, day, rank = [], None, 0
    for occurred, _, kind, code, data in raw:
        rank = rank + 1 if occurred == day else 0
        day = occurred
        event_id = (occurred - _EPOCH).days * _DAY + rank
        events.append(LifeEvent(event_id, kind, code, tehran_midnight(occurred), data))
    return tuple(events)


class EventFeed:
    """Derived events gated by a clock, plus injected ones; also the deaths injected so far."""

    def __init__(self, population: Population, clock: Callable[[], datetime]) -> None:
        self._population = population
        self._clock = clock
        self._injected: list[LifeEvent] = []
        self._lock = threading.Lock()
        self.deaths: dict[str, date] = {}

    @property
    def _derived(self) -> tuple[LifeEvent, ...]:
        return derived_events(self._population.seed, self._population.size)

    def page(
        self, since: datetime | None, after: int | None, limit: int, types: set[str] | None
    ) -> tuple[list[LifeEvent], bool]:
        """Up to ``limit`` visible events with ``id > after`` and ``occurred_at >= since``."""
        derived = self._derived
        end = bisect_right(derived, self._clock(), key=lambda e: e.occurred_at)
        start = 0 if after is None else bisect_right(derived, after, key=lambda e: e.id)
        if since is not None:
            start = max(start, bisect_left(derived, since, key=lambda e: e.occurred_at))
        with self._lock:
            injected = list(self._injected)
        candidates = heapq.merge(
            (derived[i] for i in range(start, end)),
            (
                e
                for e in injected
                if (after is None or e.id > after) and (since is None or e.occurred_at >= since)
            ),
            key=lambda e: e.id,
        )
        chosen = _take(candidates, types, limit + 1)
        return chosen[:limit], len(chosen) > limit

    def inject(
        self, kind: str, national_code: str, occurred_at: datetime | None, data: dict[str, Any]
    ) -> LifeEvent:
        """Publish an event now (its ``occurred_at`` may be earlier); deaths update the registry."""
        now = self._clock()
        occurred = occurred_at or now
        day = (now.astimezone(TEHRAN).date() - _EPOCH).days
        with self._lock:
            last = self._injected[-1].id if self._injected else 0
            event = LifeEvent(max(last + 1, day * _DAY + _INJECTED), kind, national_code, occurred, data)
            self._injected.append(event)
            if kind == "death_registered":
                self.deaths[national_code] = occurred.astimezone(TEHRAN).date()
        return event


def _take(events: Iterable[LifeEvent], types: set[str] | None, count: int) -> list[LifeEvent]:
    chosen: list[LifeEvent] = []
    for event in events:
        if types is None or event.type in types:
            chosen.append(event)
            if len(chosen) == count:
                break
    return chosen
