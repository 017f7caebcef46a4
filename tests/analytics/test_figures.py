"""Figures and growth arithmetic: 13 M → 35 M is ×2.7, +169%, never "280% growth"."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from panjereh.analytics import figures as fig
from panjereh.analytics.models import UserDaily, VisitDaily
from panjereh.core.jalali import from_jalali


def test_the_ministers_growth_stated_correctly() -> None:
    change = fig.growth(13_000_000, 35_000_000)
    assert change.ratio == pytest.approx(2.6923, abs=1e-4)
    assert change.percent == pytest.approx(169.23, abs=1e-2)
    assert change.text_en() == "×2.7 (+169%)"
    assert change.text_fa() == "۲٫۷ برابر (۱۶۹٪+)"
    assert "280" not in change.text_en()


def test_decline_and_no_base() -> None:
    assert fig.growth(200, 150).text_en() == "×0.8 (-25%)"
    assert fig.growth(200, 150).text_fa().endswith("٪−)")
    nothing = fig.growth(0, 10)
    assert nothing.ratio is None and nothing.percent is None
    assert nothing.text_en() == "n/a (no base)"


def test_months_between_crosses_the_new_year() -> None:
    assert list(fig.months_between((1401, 11), (1402, 2))) == [(1401, 11), (1401, 12), (1402, 1), (1402, 2)]
    assert list(fig.months_between((1402, 2), (1402, 1))) == []


def test_figures_for_any_period_from_rollups(db: Session) -> None:
    esfand_end = from_jalali(1401, 12, 29)
    farvardin_1 = from_jalali(1402, 1, 1)
    db.execute(
        insert(UserDaily),
        [
            {"day": esfand_end, "new_users": 100},
            {"day": farvardin_1, "new_users": 30},
            {"day": from_jalali(1402, 1, 31), "new_users": 20},
            {"day": from_jalali(1402, 2, 1), "new_users": 7},
        ],
    )
    db.execute(
        insert(VisitDaily),
        [
            {
                "day": farvardin_1,
                "agency_code": "justice",
                "channel": "web",
                "visits": 40,
                "authenticated_visits": 40,
            },
            {
                "day": farvardin_1,
                "agency_code": "",
                "channel": "app",
                "visits": 10,
                "authenticated_visits": 2,
            },
            {
                "day": from_jalali(1402, 2, 1),
                "agency_code": "tax",
                "channel": "web",
                "visits": 5,
                "authenticated_visits": 5,
            },
        ],
    )
    assert fig.users_ever(db, farvardin_1) == 100  # strictly before the day
    assert fig.users_ever(db, from_jalali(1402, 2, 1)) == 150
    farvardin = fig.month_figures(db, (1402, 1))
    assert (farvardin.users_at_start, farvardin.users_at_end, farvardin.new_users) == (100, 150, 50)
    assert farvardin.visits == 50
    assert farvardin.visits_per_user == pytest.approx(50 / 150)
    assert farvardin.active_users is None  # not rolled up: shown as unknown, never as 0
    assert farvardin.user_growth.text_en() == "×1.5 (+50%)"
    assert fig.visits_between(db, farvardin_1, date(2023, 5, 1), agency_code="justice") == 40
    assert fig.visits_by_channel(db, farvardin_1, from_jalali(1402, 2, 1)) == {"web": 40, "app": 10}
    assert fig.visits_by_agency(db, farvardin_1, from_jalali(1402, 3, 1)) == {"justice": 40, "tax": 5}
    series = fig.monthly_series(db, (1401, 12), (1402, 2))
    assert [(m.month, m.users_at_end, m.visits) for m in series] == [
        ((1401, 12), 100, 0),
        ((1402, 1), 150, 50),
        ((1402, 2), 157, 5),
    ]
    # The series and the one-month figure agree.
    assert series[1] == farvardin


def test_demo_history_reproduces_the_article(demo: Session) -> None:
    start = fig.users_ever(demo, from_jalali(1402, 1, 1))
    azar = fig.month_figures(demo, (1402, 9))
    assert 12_500 <= start <= 13_500
    assert 34_000 <= azar.users_at_end <= 36_000
    assert 75_000 <= azar.visits <= 85_000
    assert fig.growth(start, azar.users_at_end).text_en() == "×2.7 (+169%)"
    # 80 M visits over 35 M users is ~2.3 visits each (the minister's "about three times" overstates it).
    assert azar.visits_per_user == pytest.approx(2.3, abs=0.15)
    assert azar.active_users is not None and azar.active_users <= azar.users_at_end
    for month in fig.monthly_series(demo, (1402, 1), (1402, 9)):
        assert 75_000 <= month.visits <= 85_000
    assert fig.latest_month(demo) == (1402, 9)
