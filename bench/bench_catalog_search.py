"""Catalog search over 5,000 service cards: median and p95 per query, as the user types and searches.

Run: .venv/bin/python bench/bench_catalog_search.py
The cards are the demo inventory repeated per province (titles differ), built in memory: the
figure is the index's own cost, the part a request pays on every keystroke.
"""

from __future__ import annotations

import statistics
import time

from panjereh.agencies.constants import AgencyKind
from panjereh.agencies.models import Agency
from panjereh.agencies.service import load_agency_records
from panjereh.catalog.models import ServiceCard
from panjereh.catalog.search import SearchFilters, build_index
from panjereh.catalog.seed import flagship_cards, generated_cards

SIZE = 5_000
PROVINCES = ["", " در استان تهران", " در استان فارس", " در استان اصفهان", " در استان خراسان رضوی"]
QUERIES = [
    "گواهی عدم سوء پیشینه",
    "گو",
    "گواه",
    "گواهی",
    "گواهی عد",
    "كارت ملي",  # Arabic Kaf and Yeh
    "گواهینامه",
    "گواهی‌نامه",
    "انشعاب برق",
    "انشعب",  # prefix of a typo
    "انشغاب برق",  # one typo
    "مالیات بر ارث",
    "مالیات",
    "پروانه کسب",
    "passport",
    "electricity connection",
    "۱۴۰۲",
    "بیمه",
    "سیم کارت",
    "درخواست تمدید",
]
FILTERS = [
    SearchFilters(),
    SearchFilters(agency="agriculture"),
    SearchFilters(online_only=True),
    SearchFilters(smart_only=True, life_event="documents"),
]


def build() -> object:
    records = load_agency_records()
    agencies: dict[str, Agency] = {}
    for record in records:
        agencies[record["code"]] = Agency(
            code=record["code"],
            kind=AgencyKind(record["kind"]),
            name_fa=record["fa"],
            name_en=record["en"],
            parent=agencies.get(record.get("parent", "")),
        )
    base = flagship_cards() + generated_cards()
    cards = []
    for number in range(SIZE):
        code, data = base[number % len(base)]
        suffix = PROVINCES[(number // len(base)) % len(PROVINCES)]
        cards.append(
            ServiceCard(
                service_id=f"{number:011d}",
                slug=f"{data.slug}-{number}",
                agency=agencies[code],
                title_fa=data.title_fa + suffix,
                title_en=data.title_en,
                description_fa=data.description_fa,
                life_event=data.life_event,
                kind=data.kind,
                category=data.category,
                keywords=data.keywords,
                channels=[c.value for c in data.channels],
                declared_maturity_level=data.maturity_level,
                offered_through_window=data.offered_through_window,
                yearly_requests=data.yearly_requests,
            )
        )
    started = time.perf_counter()
    index = build_index(cards)
    print(f"index of {len(index):,} cards built in {(time.perf_counter() - started) * 1000:.0f} ms")
    return index


def main() -> None:
    index = build()
    timings: list[float] = []
    for _round in range(5):
        for query in QUERIES:
            for filters in FILTERS:
                started = time.perf_counter()
                index.search(query, filters, limit=20)  # type: ignore[attr-defined]
                timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    median = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95)]
    print(f"{len(timings)} searches: median {median:.3f} ms, p95 {p95:.3f} ms, max {timings[-1]:.3f} ms")
    print(f"target: median < 5 ms -> {'met' if median < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
