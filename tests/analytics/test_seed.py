"""The demo history reaches the current month, and live traffic does not take the overview from it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.analytics import figures as fig
from panjereh.analytics import rollups, selectors
from panjereh.analytics.mandates import load_mandate
from panjereh.analytics.models import DEMO_HISTORY, MonthActive, VisitDaily
from panjereh.analytics.seed import seed_history
from panjereh.analytics.sources import refresh_measured_shares
from panjereh.analytics.visits import VisitRecorder
from panjereh.core.config import Settings
from panjereh.core.jalali import from_jalali, to_jalali, to_tehran

TODAY = date(2026, 11, 28)  # 7 Azar 1405: the machine's clock when the demo broke
BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"}


def _rows(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(VisitDaily)) or 0)


@pytest.fixture
def history(agencies: Session, settings: Settings) -> Session:
    seed_history(agencies, settings, lambda _n: None, today=TODAY)
    return agencies


def test_history_keeps_the_article_and_continues_to_yesterday(history: Session) -> None:
    azar_1402 = fig.month_figures(history, (1402, 9))
    assert 34_000 <= azar_1402.users_at_end <= 36_000 and 75_000 <= azar_1402.visits <= 85_000
    start = fig.users_ever(history, from_jalali(1402, 1, 1))
    assert fig.growth(start, azar_1402.users_at_end).text_en() == "×2.7 (+169%)"
    later = fig.monthly_series(history, (1402, 10), (1405, 8))
    assert len(later) == 35 and all(m.visits > 75_000 for m in later)  # no empty month after the article
    users = [m.users_at_end for m in later]
    assert users == sorted(users) and users[-1] < 62_000  # still growing, slower, never past the adults
    assert later[-1].visits < 140_000 and later[-1].active_users is not None
    # Up to yesterday: 6 days of Azar 1405, none of today.
    assert history.scalar(select(func.max(VisitDaily.day))) == date(2026, 11, 27)
    assert fig.month_figures(history, (1405, 9)).visits < later[-1].visits / 3
    assert selectors.default_month(history, today=TODAY) == (1405, 8)  # Aban 1405, the last whole month


def test_seeding_again_tops_up_and_never_touches_a_day_with_real_visits(
    history: Session, settings: Settings
) -> None:
    rows = _rows(history)
    seed_history(history, settings, lambda _n: None, today=TODAY)
    assert _rows(history) == rows  # nothing twice
    history.add(
        VisitDaily(day=date(2026, 11, 28), agency_code="", channel="web", visits=2, authenticated_visits=1)
    )
    history.flush()
    seed_history(history, settings, lambda _n: None, today=date(2026, 12, 1))
    days = history.scalars(select(VisitDaily.day).where(VisitDaily.day >= TODAY).distinct()).all()
    assert sorted(days) == [date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)]
    assert history.scalar(select(func.sum(VisitDaily.visits)).where(VisitDaily.day == TODAY)) == 2


def test_live_visits_and_the_rollup_job_leave_the_overview_on_a_whole_month(
    app: FastAPI, demo: Session
) -> None:
    """The reported failure: a few real visits, the rollup job, and /dashboard showed this month with 2."""
    recorder: VisitRecorder = app.state.visits
    with TestClient(app, base_url="http://testserver") as client:
        for _ in range(2):
            client.get("/services", headers=BROWSER)
        recorder.flush()
        today = to_tehran(datetime.now(UTC)).date()
        rollups.rollup_recent(demo, today)
        this_month = to_jalali(today)
        assert demo.get_one(MonthActive, (int(this_month.year), int(this_month.month))).visits == 2
        html = client.get("/dashboard").text
    assert "آذر ۱۴۰۲" in html and 'data-figure="users">۳۵٬۰۰۰<' in html
    # This month is still one choice away in the month picker.
    assert f'<option value="{this_month.year}-{this_month.month:02d}"' in html


def test_a_modelled_month_keeps_its_figures_through_the_rollup(history: Session, settings: Settings) -> None:
    recorder = VisitRecorder(settings, lambda: _factory(history), background=False)
    recorder.record(citizen_id="live-citizen", occurred_at=datetime(2026, 11, 28, 9, tzinfo=UTC))
    recorder.flush()
    before = history.get(MonthActive, (1405, 9))
    assert before is not None and before.source == DEMO_HISTORY
    modelled = before.active_users
    rollups.rollup_recent(history, TODAY)
    after = history.get_one(MonthActive, (1405, 9))
    assert (after.source, after.active_users) == (DEMO_HISTORY, modelled)
    assert fig.month_figures(history, (1405, 9)).visits == before.visits + 1  # the live visit counts
    assert selectors.default_month(history, today=TODAY) == (1405, 8)


@pytest.mark.demo_catalog
def test_measured_1405_figures_meet_a_stated_model_not_a_law(history: Session) -> None:
    mandate = load_mandate(1405)
    assert "مدل ما" in mandate.law_fa and "our model, not law" in mandate.law_en
    assert all("Our model" in duty.reference_en for duty in mandate.duties)
    refresh_measured_shares(history, TODAY)
    report = selectors.mandate_report(history, 1405, today=TODAY)
    assert len(report.rows) > 20 and report.summary()["through_window"]["met"] + report.summary()[
        "through_window"
    ]["not_met"] == len(report.rows)


def _factory(db: Session):
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(bind=db.connection(), join_transaction_mode="create_savepoint")
