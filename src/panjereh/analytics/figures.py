"""National figures for any period, from the rollups, with growth stated correctly.

Growth from 13 M to 35 M is ×2.7, an increase of +169% — never "280% growth": the percentage
increase is (after − before) / before, the multiple is after / before.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.analytics.models import MonthActive, UserDaily, VisitDaily, visit_event
from panjereh.core.jalali import from_jalali, jalali_month_bounds, jalali_month_name, to_jalali
from panjereh.core.persian import to_persian_digits

JalaliMonth = tuple[int, int]


@dataclass(frozen=True)
class Growth:
    """The change between two figures: a multiple and a percentage increase (None when before is 0)."""

    before: float
    after: float

    @property
    def ratio(self) -> float | None:
        return None if self.before == 0 else self.after / self.before

    @property
    def percent(self) -> float | None:
        return None if self.before == 0 else (self.after - self.before) / self.before * 100

    def text_en(self) -> str:
        """E.g. '×2.7 (+169%)'."""
        if self.ratio is None or self.percent is None:
            return "n/a (no base)"
        return f"×{self.ratio:.1f} ({self.percent:+.0f}%)"

    def text_fa(self) -> str:
        """E.g. '۲٫۷ برابر (۱۶۹٪+)'."""
        if self.ratio is None or self.percent is None:
            return "بی‌پایه"
        ratio = to_persian_digits(f"{self.ratio:.1f}".replace(".", "٫"))
        sign = "+" if self.percent >= 0 else "−"
        return f"{ratio} برابر ({to_persian_digits(f'{abs(self.percent):.0f}')}٪{sign})"


def growth(before: float, after: float) -> Growth:
    return Growth(before, after)


def next_month(month: JalaliMonth) -> JalaliMonth:
    year, number = month
    return (year + 1, 1) if number == 12 else (year, number + 1)


def previous_month(month: JalaliMonth) -> JalaliMonth:
    year, number = month
    return (year - 1, 12) if number == 1 else (year, number - 1)


def months_between(first: JalaliMonth, last: JalaliMonth) -> Iterator[JalaliMonth]:
    """Jalali months from first to last inclusive."""
    month = first
    while month <= last:
        yield month
        month = next_month(month)


def month_label(month: JalaliMonth, locale: str = "fa") -> str:
    year, number = month
    if locale == "fa":
        return f"{jalali_month_name(number)} {to_persian_digits(year)}"
    return f"{year}-{number:02d}"


def users_ever(session: Session, before: date) -> int:
    """Citizens who had signed in at least once before this day (all are 18+: login requires it)."""
    query = select(func.coalesce(func.sum(UserDaily.new_users), 0)).where(UserDaily.day < before)
    total = session.scalar(query)
    return int(total or 0)


def visits_between(session: Session, since: date, until: date, agency_code: str | None = None) -> int:
    """Visits in [since, until), all pages or one agency's."""
    query = select(func.coalesce(func.sum(VisitDaily.visits), 0)).where(
        VisitDaily.day >= since, VisitDaily.day < until
    )
    if agency_code is not None:
        query = query.where(VisitDaily.agency_code == agency_code)
    return int(session.scalar(query) or 0)


def visits_by_agency(session: Session, since: date, until: date) -> dict[str, int]:
    rows = session.execute(
        select(VisitDaily.agency_code, func.sum(VisitDaily.visits))
        .where(VisitDaily.day >= since, VisitDaily.day < until, VisitDaily.agency_code != "")
        .group_by(VisitDaily.agency_code)
    ).all()
    return {code: int(total) for code, total in rows}


def visits_by_channel(session: Session, since: date, until: date) -> dict[str, int]:
    rows = session.execute(
        select(VisitDaily.channel, func.sum(VisitDaily.visits))
        .where(VisitDaily.day >= since, VisitDaily.day < until)
        .group_by(VisitDaily.channel)
    ).all()
    return {channel: int(total) for channel, total in rows}


def active_users_between(session: Session, since: date, until: date) -> int:
    """Distinct signed-in visitors in [since, until), counted from raw events (exact, not a rollup)."""
    return int(
        session.scalar(
            select(func.count(visit_event.c.visitor.distinct())).where(
                visit_event.c.day >= since, visit_event.c.day < until
            )
        )
        or 0
    )


@dataclass(frozen=True)
class MonthFigures:
    """The big numbers of one Jalali month."""

    month: JalaliMonth
    users_at_start: int
    users_at_end: int
    visits: int
    active_users: int | None  # exact distinct users (from the monthly rollup), None if not rolled up

    @property
    def new_users(self) -> int:
        return self.users_at_end - self.users_at_start

    @property
    def visits_per_user(self) -> float | None:
        """Visits per authenticated citizen (all who ever signed in): the minister's "came back" figure."""
        return self.visits / self.users_at_end if self.users_at_end else None

    @property
    def visits_per_active_user(self) -> float | None:
        return self.visits / self.active_users if self.active_users else None

    @property
    def user_growth(self) -> Growth:
        return growth(self.users_at_start, self.users_at_end)


def month_figures(session: Session, month: JalaliMonth) -> MonthFigures:
    start, end = jalali_month_bounds(*month)
    active = session.get(MonthActive, month)
    return MonthFigures(
        month=month,
        users_at_start=users_ever(session, start),
        users_at_end=users_ever(session, end),
        visits=visits_between(session, start, end),
        active_users=active.active_users if active is not None else None,
    )


def month_starts(months: list[JalaliMonth]) -> list[date]:
    """The Gregorian first day of each month, then the first day after the last: len(months) + 1 dates."""
    if not months:
        return []
    return [from_jalali(year, number, 1) for year, number in [*months, next_month(months[-1])]]


def monthly_series(session: Session, first: JalaliMonth, last: JalaliMonth) -> list[MonthFigures]:
    """Month figures from first to last, computed in three queries whatever the span.

    The calendar is converted once per month boundary, never per day: a day's month is found among the
    boundaries' Gregorian dates, so a longer history costs a comparison per day, not a conversion."""
    months = list(months_between(first, last))
    if not months:
        return []
    starts = month_starts(months)
    span_start, span_end = starts[0], starts[-1]
    base = users_ever(session, span_start)
    new_by_day = session.execute(
        select(UserDaily.day, UserDaily.new_users).where(
            UserDaily.day >= span_start, UserDaily.day < span_end
        )
    ).all()
    visits_by_day = session.execute(
        select(VisitDaily.day, func.sum(VisitDaily.visits))
        .where(VisitDaily.day >= span_start, VisitDaily.day < span_end)
        .group_by(VisitDaily.day)
    ).all()
    actives = {
        (row.year, row.month): row.active_users
        for row in session.scalars(select(MonthActive).where(MonthActive.year.between(first[0], last[0])))
    }
    new_per_month = [0] * len(months)
    for day, count in new_by_day:
        new_per_month[bisect_right(starts, day) - 1] += int(count)
    visits_per_month = [0] * len(months)
    for day, count in visits_by_day:
        visits_per_month[bisect_right(starts, day) - 1] += int(count or 0)
    series, users = [], base
    for index, month in enumerate(months):
        end_users = users + new_per_month[index]
        series.append(MonthFigures(month, users, end_users, visits_per_month[index], actives.get(month)))
        users = end_users
    return series


def _month_of(day: date) -> JalaliMonth:
    j = to_jalali(day)
    return (int(j.year), int(j.month))


def data_span(session: Session) -> tuple[JalaliMonth, JalaliMonth] | None:
    """The first and last Jalali months that have visits or sign-ins."""
    first = session.scalar(select(func.min(UserDaily.day)))
    last_visit = session.scalar(select(func.max(VisitDaily.day)))
    last_user = session.scalar(select(func.max(UserDaily.day)))
    first_visit = session.scalar(select(func.min(VisitDaily.day)))
    firsts = [d for d in (first, first_visit) if d is not None]
    lasts = [d for d in (last_visit, last_user) if d is not None]
    if not firsts or not lasts:
        return None
    return _month_of(min(firsts)), _month_of(max(lasts))


def latest_month(session: Session) -> JalaliMonth | None:
    """The newest Jalali month that has visits (the dashboard's default month)."""
    last = session.scalar(select(func.max(VisitDaily.day)))
    return _month_of(last) if last is not None else None


def is_complete(session: Session, month: JalaliMonth, today: date) -> bool:
    """True when the month ended before `today` and every one of its days has visits."""
    start, end = jalali_month_bounds(*month)
    if end > today:
        return False
    days = session.scalar(
        select(func.count(VisitDaily.day.distinct())).where(VisitDaily.day >= start, VisitDaily.day < end)
    )
    return int(days or 0) == (end - start).days
