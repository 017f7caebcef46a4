"""The dashboard's figures computed once per change of the rollups, not once per request.

Everything the overview shows from the rollups (the monthly series, the month's big numbers, visits by
channel and agency, the month it opens on, the users at the start of the fiscal year) depends on the
rollup tables alone. Every writer of those tables calls `rollups.rollups_changed` inside its
transaction, which adds one to the single row of `analytics_rollup_version`; a web process reads that
number (one primary-key read) before it answers and keeps what it computed while the number stays the
same.

The number lives in the database, beside the rollups and changed in their transaction, so every web
process and the job worker that rolls up agree on it: the figures are dropped everywhere at the commit
that changed the rollups, never before it and never a request later. (Redis would be a second way to
say the same thing; the database is the one that is always there.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from panjereh.analytics import figures as fig
from panjereh.analytics import selectors
from panjereh.analytics.rollups import rollup_generation
from panjereh.core.jalali import to_tehran

T = TypeVar("T")

# Enough for every month the picker offers for years, with the defaults; a crawler asking for every month
# since 1300 pushes the oldest entries out instead of growing the process.
MAX_ENTRIES = 256


class DashboardFigures:
    """One application's cached dashboard figures, valid for one rollup generation.

    The values are shared between requests and threads: callers read them and never change them."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._generation: int | None = None
        self._entries: dict[Hashable, Any] = {}
        self._lock = threading.Lock()
        self.computed = 0  # figures computed rather than found (tests and the benchmark read it)

    def current(self, session: Session) -> FiguresAt:
        """The figures as of the rollups this session sees: one read of the version, then the cache."""
        generation = rollup_generation(session)
        with self._lock:
            if generation != self._generation:
                self._entries.clear()
                self._generation = generation
        return FiguresAt(self, session, generation)

    def _get(self, generation: int, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if generation == self._generation and key in self._entries:
                value: T = self._entries[key]
                return value
        value = compute()
        with self._lock:
            self.computed += 1
            # Not kept if the rollups changed while it was computed (another request saw the new number).
            if generation == self._generation:
                if len(self._entries) >= self.max_entries:
                    self._entries.pop(next(iter(self._entries)))
                self._entries[key] = value
        return value


class FiguresAt:
    """The cached figures for one session at one rollup generation (read once, when it was made).

    The generation is read before any figure: figures computed from rollups newer than the number are
    dropped at the next change, never the reverse (old figures kept under a new number)."""

    def __init__(self, cache: DashboardFigures, session: Session, generation: int) -> None:
        self._cache, self._session, self.generation = cache, session, generation

    def default_month(self, today: date | None = None) -> fig.JalaliMonth | None:
        """`selectors.default_month`, per Tehran day (a month becomes complete when a day ends)."""
        today = today or to_tehran(datetime.now(UTC)).date()
        return self._cache._get(
            self.generation, ("default_month", today), lambda: selectors.default_month(self._session, today)
        )

    def overview(self, month: fig.JalaliMonth | None = None) -> selectors.Overview | None:
        """`selectors.overview` for a month (None: the newest with visits)."""
        return self._cache._get(
            self.generation, ("overview", month), lambda: selectors.overview(self._session, month)
        )

    def mandate_report(self, year: int, today: date | None = None) -> selectors.MandateReport:
        """`selectors.mandate_report` (the overview's standings): not rollups, so kept per fingerprint of
        what it reads (`selectors.standings_signature`: the year's shares, the agencies, the catalog)."""
        today = today or datetime.now(UTC).date()
        signature = selectors.standings_signature(self._session, year, today)
        return self._cache._get(
            self.generation,
            ("mandate_report", year, today, signature),
            lambda: selectors.mandate_report(self._session, year, today),
        )

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Anything computed from these figures alone (a page's formatted table), kept as long as they are."""
        return self._cache._get(self.generation, ("derived", key), compute)

    def users_ever(self, before: date) -> int:
        """`figures.users_ever`: citizens who had signed in before this day."""
        return self._cache._get(
            self.generation, ("users_ever", before), lambda: fig.users_ever(self._session, before)
        )


def figures_of(state: Any) -> DashboardFigures:
    """The application's cached figures (`state.dashboard_figures`, made by the application factory)."""
    figures: DashboardFigures = state.dashboard_figures
    return figures
