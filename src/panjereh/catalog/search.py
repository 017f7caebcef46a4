"""The in-memory search index of the catalog: folded Persian keys, prefixes, one typo, ranked fields."""

from __future__ import annotations

import bisect
import heapq
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy.orm import Session

from panjereh.catalog.models import ServiceCard
from panjereh.core.db import on_commit
from panjereh.core.persian import search_keys_variants

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency

TITLE, KEYWORDS, DESCRIPTION = 3.0, 2.0, 1.0  # title outranks keywords outranks description
EXACT, PREFIX, TYPO = 1.0, 0.8, 0.6
MIN_PREFIX = 2  # one letter would match half the vocabulary
MIN_TYPO_LENGTH = 5  # a typo is tolerated in longer words only
STOP_WORDS = frozenset(
    {"و", "از", "به", "در", "با", "برای", "را", "که", "the", "of", "for", "and", "a", "to", "in"}
)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class ServiceSummary:
    """What a search hit shows without touching the database."""

    service_id: str
    slug: str
    title_fa: str
    title_en: str
    agency_code: str
    agency_name_fa: str
    agency_name_en: str
    life_event: str
    kind: str
    channels: tuple[str, ...]
    maturity_level: int
    offered_through_window: bool
    yearly_requests: int
    smart: bool  # the badge: a published definition derives level 5 (`ServiceCard.is_smart`)

    @property
    def online(self) -> bool:
        return self.maturity_level >= 3


@dataclass(frozen=True)
class SearchFilters:
    """Narrowing a search: an agency (with its subsidiaries), a life event, a channel, smart/online only."""

    agency: str | None = None
    life_event: str | None = None
    channel: str | None = None
    smart_only: bool = False
    online_only: bool = False


@dataclass(frozen=True)
class SearchResult:
    """One page of hits, best first, and how many matched in all."""

    total: int
    hits: list[ServiceSummary]


@dataclass
class _Doc:
    summary: ServiceSummary
    agencies: frozenset[str]  # the agency and every ancestor, so a ministry's filter takes its subsidiaries
    title_key: str
    fields: list[tuple[str, float]] = field(default_factory=list)


def _tokens(text: str) -> set[str]:
    """The words of every folded variant (ZWNJ as a space, and joined)."""
    words: set[str] = set()
    for variant in search_keys_variants(text):
        words.update(_WORD.findall(variant.replace("_", " ")))
    return words


class CatalogIndex:
    """An inverted index over service cards; immutable once built."""

    def __init__(self, docs: Sequence[_Doc]) -> None:
        # Default order (empty query, ties): most requested first, then by title.
        ordered = sorted(docs, key=lambda d: (-d.summary.yearly_requests, d.summary.title_fa))
        self.docs = ordered
        self.postings: dict[str, dict[int, float]] = {}
        self.by_agency: dict[str, set[int]] = {}
        self.by_life_event: dict[str, set[int]] = {}
        self.by_channel: dict[str, set[int]] = {}
        self.smart: set[int] = set()
        self.online: set[int] = set()
        for number, doc in enumerate(ordered):
            for text, weight in doc.fields:
                for token in _tokens(text):
                    posting = self.postings.setdefault(token, {})
                    if posting.get(number, 0.0) < weight:
                        posting[number] = weight
            for code in doc.agencies:
                self.by_agency.setdefault(code, set()).add(number)
            self.by_life_event.setdefault(doc.summary.life_event, set()).add(number)
            for channel in doc.summary.channels:
                self.by_channel.setdefault(channel, set()).add(number)
            if doc.summary.smart:
                self.smart.add(number)
            if doc.summary.online:
                self.online.add(number)
        self.vocabulary = sorted(self.postings)
        self.by_length: dict[int, list[str]] = {}
        for token in self.vocabulary:
            self.by_length.setdefault(len(token), []).append(token)

    def __len__(self) -> int:
        return len(self.docs)

    def _allowed(self, filters: SearchFilters) -> set[int] | None:
        sets: list[set[int]] = []
        if filters.agency:
            sets.append(self.by_agency.get(filters.agency, set()))
        if filters.life_event:
            sets.append(self.by_life_event.get(filters.life_event, set()))
        if filters.channel:
            sets.append(self.by_channel.get(filters.channel, set()))
        if filters.smart_only:
            sets.append(self.smart)
        if filters.online_only:
            sets.append(self.online)
        if not sets:
            return None
        sets.sort(key=len)
        return set.intersection(*sets) if len(sets) > 1 else sets[0]

    def _match_token(self, token: str, prefix: bool) -> dict[int, float]:
        found: dict[int, float] = {}
        exact = self.postings.get(token)
        if exact:
            found.update(exact)
        if prefix and len(token) >= MIN_PREFIX:
            start = bisect.bisect_right(self.vocabulary, token)
            for word in self.vocabulary[start:]:
                if not word.startswith(token):
                    break
                for number, weight in self.postings[word].items():
                    score = weight * PREFIX
                    if found.get(number, 0.0) < score:
                        found[number] = score
        if not found and len(token) >= MIN_TYPO_LENGTH:
            for size in (len(token) - 1, len(token), len(token) + 1):
                candidates = self.by_length.get(size)
                if not candidates:
                    continue
                for word, _distance, _ in process.extract(
                    token, candidates, scorer=Levenshtein.distance, score_cutoff=1, limit=None
                ):
                    for number, weight in self.postings[word].items():
                        score = weight * TYPO
                        if found.get(number, 0.0) < score:
                            found[number] = score
        return found

    def _query_variants(self, query: str) -> list[list[str]]:
        variants: list[list[str]] = []
        for key in search_keys_variants(query):
            words = _WORD.findall(key.replace("_", " "))
            content = [w for w in words if w not in STOP_WORDS]
            words = content or words
            if words and words not in variants:
                variants.append(words)
            # "گواهی نامه" typed with a space should find "گواهینامه" written joined.
            for i in range(len(words) - 1):
                joined = words[:i] + [words[i] + words[i + 1]] + words[i + 2 :]
                if joined[i] in self.postings and joined not in variants:
                    variants.append(joined)
        return variants

    def _score(self, words: list[str], allowed: set[int] | None, typing: bool) -> dict[int, float]:
        scores: dict[int, float] | None = None
        for position, word in enumerate(words):
            matched = self._match_token(word, prefix=typing and position == len(words) - 1)
            if allowed is not None:
                matched = {n: s for n, s in matched.items() if n in allowed}
            if scores is None:
                scores = matched
            else:
                scores = {n: s + matched[n] for n, s in scores.items() if n in matched}
            if not scores:
                return {}
        return scores or {}

    def search(
        self, query: str = "", filters: SearchFilters | None = None, *, offset: int = 0, limit: int = 20
    ) -> SearchResult:
        """The hits for a query (empty: everything, most requested first) under the filters."""
        filters = filters or SearchFilters()
        allowed = self._allowed(filters)
        variants = self._query_variants(query or "")
        if not variants:
            numbers = range(len(self.docs)) if allowed is None else sorted(allowed)
            total = len(numbers)
            return SearchResult(total, [self.docs[n].summary for n in list(numbers)[offset : offset + limit]])
        typing = not query.endswith(" ")
        scores: dict[int, float] = {}
        for words in variants:
            for number, score in self._score(words, allowed, typing).items():
                if scores.get(number, 0.0) < score:
                    scores[number] = score
        phrase = " ".join(variants[0])
        for number in scores:
            title = self.docs[number].title_key
            if phrase in title:
                scores[number] += TITLE + (1.0 if title.startswith(phrase) else 0.0)
        best = heapq.nsmallest(offset + limit, scores.items(), key=lambda item: (-item[1], item[0]))
        return SearchResult(len(scores), [self.docs[n].summary for n, _ in best[offset:]])


def build_index(cards: Iterable[ServiceCard]) -> CatalogIndex:
    """An index over service cards (ORM rows with their agency loaded)."""
    docs = []
    for card in cards:
        agency = card.agency
        codes = set()
        node: Agency | None = agency
        while node is not None:
            codes.add(node.code)
            node = node.parent
        summary = ServiceSummary(
            service_id=card.service_id,
            slug=card.slug,
            title_fa=card.title_fa,
            title_en=card.title_en,
            agency_code=agency.code,
            agency_name_fa=agency.name_fa,
            agency_name_en=agency.name_en,
            life_event=str(card.life_event.value),
            kind=str(card.kind.value),
            channels=tuple(card.channels),
            maturity_level=card.maturity_level,
            offered_through_window=card.offered_through_window,
            yearly_requests=card.yearly_requests,
            smart=card.is_smart,
        )
        title_key = " ".join(search_keys_variants(card.title_fa))
        fields = [
            (card.title_fa, TITLE),
            (card.title_en, TITLE),
            (" ".join(card.keywords), KEYWORDS),
            (card.category, KEYWORDS),
            (agency.name_fa, DESCRIPTION),
            (card.description_fa, DESCRIPTION),
        ]
        docs.append(_Doc(summary, frozenset(codes), title_key, fields))
    return CatalogIndex(docs)


# Writes bump the generation at once and again when their transaction ends, so an index built
# from a session that could not yet see the change is thrown away after the commit.
_generation = 0
_generation_lock = threading.Lock()
_CHANGED = "catalog.changed"  # session.info: this transaction has changed the catalog


def mark_changed(session: Session | None = None) -> None:
    """The catalog changed: every index built before now is stale, and again when the session's
    transaction ends (committed or rolled back)."""
    global _generation
    with _generation_lock:
        _generation += 1
    if session is not None and not session.info.get(_CHANGED):
        session.info[_CHANGED] = True
        on_commit(session, _transaction_ended(session), on_rollback=_transaction_ended(session))


def _transaction_ended(session: Session) -> Callable[[], None]:
    def ended() -> None:
        session.info.pop(_CHANGED, None)
        mark_changed()

    return ended


class IndexHolder:
    """The current index of one application; rebuilt when cards change (here or in another process)."""

    def __init__(self, recheck_seconds: float = 5.0) -> None:
        self.recheck_seconds = recheck_seconds
        self._index: CatalogIndex | None = None
        self._generation = -1
        self._signature: tuple[int, str] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.builds = 0

    def get(self, session: Session) -> CatalogIndex:
        """The index, rebuilt first if this process changed the catalog or the database moved on."""
        from panjereh.catalog import selectors

        now = time.monotonic()
        stale = self._index is None or self._generation != _generation
        if not stale and now - self._checked > self.recheck_seconds:
            # Another worker process may have changed cards: a two-column query notices.
            stale = selectors.index_signature(session) != self._signature
            self._checked = now
        if stale:
            with self._lock:
                generation = _generation
                self._signature = selectors.index_signature(session)
                self._index = build_index(selectors.all_cards(session))
                self._generation = generation
                self._checked = now
                self.builds += 1
        assert self._index is not None
        return self._index


def holder_of(state: Any) -> IndexHolder:
    """The application's index holder (`state.catalog_index`, made by the application factory)."""
    holder: IndexHolder = state.catalog_index
    return holder
