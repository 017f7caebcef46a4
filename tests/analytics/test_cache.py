"""The dashboard's figures cached per rollup generation: equal to the recomputed ones, dropped by a rollup,
and the calendar converted once per month boundary (Esfand/Farvardin, the leap year 1403)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import jdatetime
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies import service as agency_service
from panjereh.agencies.constants import ConnectionStatus
from panjereh.analytics import figures as fig
from panjereh.analytics import rollups, selectors
from panjereh.analytics.cache import DashboardFigures, figures_of
from panjereh.analytics.models import RollupVersion, UserDaily, VisitDaily, visit_event
from panjereh.analytics.seed import seed_history
from panjereh.analytics.shares import record_share
from panjereh.core.config import Settings
from panjereh.core.jalali import from_jalali, is_leap, jalali_month_bounds
from panjereh.web.templating import format_number

AZAR_1402 = (1402, 9)


def shown(html: str, figure: str) -> str:
    match = re.search(rf'data-figure="{figure}">([^<]+)<', html)
    assert match, figure
    return match.group(1)


def test_cached_figures_equal_the_recomputed_ones(demo: Session) -> None:
    cache = DashboardFigures()
    at = cache.current(demo)
    for month in (None, AZAR_1402, (1402, 1), (1401, 12)):
        assert at.overview(month) == selectors.overview(demo, month)
    assert at.default_month(date(2023, 12, 22)) == selectors.default_month(demo, date(2023, 12, 22))
    farvardin = from_jalali(1402, 1, 1)
    assert at.users_ever(farvardin) == fig.users_ever(demo, farvardin)
    computed = cache.computed
    # Asked again at the same generation: the same objects, nothing computed.
    again = cache.current(demo)
    assert again.overview(AZAR_1402) is at.overview(AZAR_1402)
    assert cache.computed == computed


def test_a_rollup_empties_the_cache_and_the_page_shows_the_new_figure(
    client: TestClient, app: FastAPI, demo: Session
) -> None:
    before = fig.month_figures(demo, AZAR_1402).visits
    html = client.get("/dashboard?month=1402-09").text
    assert shown(html, "visits") == format_number(before)
    # A change that bypasses the rollups' version is not seen: the page really is served from the cache.
    day = from_jalali(1402, 9, 10)
    demo.execute(
        insert(VisitDaily),
        [{"day": day, "agency_code": "zz-test", "channel": "web", "visits": 1, "authenticated_visits": 0}],
    )
    demo.flush()
    computed = figures_of(app.state).computed
    assert shown(client.get("/dashboard?month=1402-09").text, "visits") == format_number(before)
    assert figures_of(app.state).computed == computed
    # The portal's own visits that day, rolled up: the day is replaced by its events, the version moves.
    at = datetime(2023, 12, 1, 9, tzinfo=UTC)  # 10 Azar 1402, 12:30 in Tehran
    demo.execute(
        insert(visit_event),
        [
            {
                "day": day,
                "occurred_at": at,
                "visitor": None,
                "agency_code": "tax",
                "service": None,
                "channel": "web",
            }
            for _ in range(3)
        ],
    )
    generation = rollups.rollup_generation(demo)
    assert rollups.rollup_days(demo, day, day + timedelta(days=1)) == 1
    assert rollups.rollup_generation(demo) > generation
    after = fig.month_figures(demo, AZAR_1402).visits
    assert after != before
    assert shown(client.get("/dashboard?month=1402-09").text, "visits") == format_number(after)
    assert client.get("/api/v1/open-data").json()["months"][-1]["visits"] == after


def test_only_a_change_moves_the_version(demo: Session, settings: Settings) -> None:
    generation = rollups.rollup_generation(demo)
    # No raw events in these days: nothing rolled up, nothing to drop.
    assert rollups.rollup_days(demo, date(2031, 1, 1), date(2031, 1, 3)) == 0
    assert rollups.rollup_generation(demo) == generation
    # The demo history topped up to a later day writes rollups, so it moves the version too.
    seed_history(demo, settings, lambda _count: None, today=date(2024, 1, 5))
    assert rollups.rollup_generation(demo) > generation


def test_the_version_row_is_made_when_missing(db: Session) -> None:
    db.execute(RollupVersion.__table__.delete())  # type: ignore[attr-defined]
    assert rollups.rollup_generation(db) == 0
    rollups.rollups_changed(db)
    rollups.rollups_changed(db)
    assert rollups.rollup_generation(db) == 2
    assert db.scalar(select(RollupVersion.id)) == 1


def test_figures_computed_under_an_older_version_are_not_kept(demo: Session) -> None:
    cache = DashboardFigures()
    old = cache.current(demo)
    rollups.rollups_changed(demo)
    new = cache.current(demo)
    assert new.generation == old.generation + 1
    old.overview(AZAR_1402)  # a request that began before the change finishes after it
    computed = cache.computed
    new.overview(AZAR_1402)
    assert cache.computed == computed + 1  # computed again, not the older request's figures


def test_the_cache_has_a_bound(demo: Session) -> None:
    cache = DashboardFigures(max_entries=3)
    at = cache.current(demo)
    for month in ((1401, 1), (1401, 2), (1401, 3), (1401, 4)):
        at.overview(month)
    computed = cache.computed
    at.overview((1401, 4))
    assert cache.computed == computed  # the newest is kept
    at.overview((1401, 1))
    assert cache.computed == computed + 1  # the oldest was pushed out


def _day(year: int, month: int, day: int, users: int, visits: int) -> tuple[dict, dict]:
    when = from_jalali(year, month, day)
    return (
        {"day": when, "new_users": users},
        {"day": when, "agency_code": "", "channel": "web", "visits": visits, "authenticated_visits": 0},
    )


def test_month_boundaries_across_esfand_farvardin_and_the_leap_year(db: Session) -> None:
    assert is_leap(1403) and not is_leap(1402)
    days = [
        _day(1402, 11, 30, 1, 1),  # last day of Bahman 1402
        _day(1402, 12, 1, 10, 100),
        _day(1402, 12, 29, 20, 200),  # last day of Esfand 1402 (not a leap year)
        _day(1403, 1, 1, 300, 3_000),  # Nowruz 1403
        _day(1403, 12, 30, 4_000, 40_000),  # 30 Esfand 1403: the leap day
        _day(1404, 1, 1, 50_000, 500_000),
    ]
    db.execute(insert(UserDaily), [users for users, _ in days])
    db.execute(insert(VisitDaily), [visits for _, visits in days])
    series = fig.monthly_series(db, (1402, 11), (1404, 1))
    by_month = {m.month: (m.new_users, m.visits) for m in series}
    assert by_month[(1402, 11)] == (1, 1)
    assert by_month[(1402, 12)] == (30, 300)
    assert by_month[(1403, 1)] == (300, 3_000)
    assert by_month[(1403, 12)] == (4_000, 40_000)
    assert by_month[(1404, 1)] == (50_000, 500_000)
    assert sum(visits for (_, visits) in by_month.values()) == 543_301  # every day in exactly one month
    # Each month's figures equal the month computed alone from its own bounds.
    for month in series:
        alone = fig.month_figures(db, month.month)
        assert (month.users_at_start, month.users_at_end, month.visits) == (
            alone.users_at_start,
            alone.users_at_end,
            alone.visits,
        )
    starts = fig.month_starts([(1402, 12), (1403, 12)])
    assert starts[0] == jalali_month_bounds(1402, 12)[0] == date(2024, 2, 20)
    assert starts[-1] == jalali_month_bounds(1403, 12)[1] == date(2025, 3, 21)  # 1 Farvardin 1404
    assert (jalali_month_bounds(1403, 12)[1] - jalali_month_bounds(1403, 12)[0]).days == 30
    assert (jalali_month_bounds(1402, 12)[1] - jalali_month_bounds(1402, 12)[0]).days == 29


def test_the_calendar_is_converted_per_month_not_per_day(
    demo: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A longer history must not cost a conversion per day (the page slowed down every day)."""
    calls = {"to_jalali": 0, "to_gregorian": 0}
    from_gregorian, to_gregorian = jdatetime.date.fromgregorian, jdatetime.date.togregorian

    def counted_from(*args: object, **kwargs: object) -> jdatetime.date:
        calls["to_jalali"] += 1
        return from_gregorian(*args, **kwargs)

    def counted_to(self: jdatetime.date) -> date:
        calls["to_gregorian"] += 1
        return to_gregorian(self)

    monkeypatch.setattr(jdatetime.date, "fromgregorian", staticmethod(counted_from))
    monkeypatch.setattr(jdatetime.date, "togregorian", counted_to)
    series = fig.monthly_series(demo, (1401, 1), AZAR_1402)
    assert len(series) == 21 and sum(m.visits for m in series) > 0
    assert calls["to_jalali"] == 0
    assert calls["to_gregorian"] == len(series) + 1  # one per boundary, whatever the number of days


def _standings(report: selectors.MandateReport) -> list[tuple[str, object]]:
    return [(row.agency_code, row.results[report.mandate.headline].value) for row in report.rows]


def test_the_standings_are_kept_until_what_they_read_changes(demo: Session) -> None:
    today = date(2023, 12, 22)
    cache = DashboardFigures()
    report = cache.current(demo).mandate_report(1402, today)
    assert _standings(report) == _standings(selectors.mandate_report(demo, 1402, today))
    computed = cache.computed
    assert cache.current(demo).mandate_report(1402, today) is report
    assert cache.computed == computed
    # A correction of a figure (same agency, metric, month and source) is a change: computed again.
    shown = selectors.year_figures(demo, 1402, today)[("tax", "through_window")]
    assert shown.value != 0.99
    record_share(
        demo, agency_code="tax", metric="through_window", period=shown.period, share=0.99, source=shown.source
    )
    corrected = cache.current(demo).mandate_report(1402, today)
    assert corrected is not report
    assert ("tax", 0.99) in _standings(corrected)
    assert _standings(corrected) == _standings(selectors.mandate_report(demo, 1402, today))
    # An agency's connection status is read too (the running year judges on it): computed again.
    before = selectors.standings_signature(demo, 1402, today)
    computed = cache.computed
    agency = agency_selectors.find_agency_by_code(demo, "justice")
    assert agency is not None
    agency_service.set_connection_status(demo, agency, ConnectionStatus.DISCONNECTED)
    demo.flush()
    assert selectors.standings_signature(demo, 1402, today) != before
    cache.current(demo).mandate_report(1402, today)
    assert cache.computed == computed + 1
