"""Demo data: a history reproducing the article at 1:1,000, and the dated agency shares it reports.

Users: ~13,000 authenticated by 1 Farvardin 1402 (the window opened in spring 1401), ~35,000 by the
end of Azar 1402; ~80,000 visits a month in 1402; after that our model, up to yesterday (see
`seed_history`). History before the portal ran is seeded as daily
rollups (what a retention policy leaves after raw events are rolled up and pruned), not as raw
events. Shares: the article's standings for 1402, a modelled end of 1401, and the Khordad 1403
report (domain.md §3). Figures the article does not give are marked source "demo-model".
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.analytics.figures import months_between
from panjereh.analytics.models import DEMO_HISTORY, MonthActive, UserDaily, VisitDaily
from panjereh.analytics.rollups import rollups_changed
from panjereh.analytics.shares import record_share
from panjereh.analytics.sources import refresh_measured_shares
from panjereh.core.config import Settings
from panjereh.core.jalali import from_jalali, jalali_month_bounds, to_jalali, to_tehran
from panjereh.core.seeding import Advance

SCALE = 1000  # one demo citizen stands for a thousand
FIRST_MONTH, ARTICLE_MONTH = (1401, 1), (1402, 9)
USERS_AT_1402 = 13_000_000 // SCALE
USERS_AT_AZAR_END = 35_000_000 // SCALE
VISITS_1402_MONTH = 80_000_000 // SCALE
# After the article (our model): growth slows towards the adult population (~62 M aged 18+), starting at
# half the pace of 1402, and visits grow more slowly than users (late adopters come back less often).
ADULTS = 62_000_000 // SCALE
LATER_PACE = 0.5
VISITS_PER_USER_ELASTICITY = 0.7
CHANNEL_WEIGHTS = {"web": 0.68, "app": 0.27, "counter": 0.05}
# How the portal's visits spread over agencies ('' = pages of no agency: home, search, account).
AGENCY_WEIGHTS = {
    "": 22, "justice": 9, "judiciary": 7, "tax": 8, "police": 8, "sso": 8, "nocr": 5, "education": 5,
    "health": 4, "ihio": 5, "energy": 4, "deeds": 4, "post": 2, "ict": 2, "cra": 2, "economy": 2,
    "labour": 2, "welfare": 1, "relief": 2, "interior": 1, "roads": 1, "industry": 1, "sport": 1,
    "agriculture": 1, "heritage": 1, "petroleum": 1, "customs": 1,
}  # fmt: skip


@dataclass(frozen=True)
class UserCurve:
    """Authenticated citizens before day `index` (0 = 1 Farvardin 1401), at 1:1,000.

    A ramp to 13,000 through 1401, a straight line to 35,000 at the end of Azar 1402 (the article), then
    our model: a saturating curve towards the adult population, at first half the pace of 1402."""

    days_1401: int
    days_to_azar_end: int

    @classmethod
    def of_demo(cls) -> UserCurve:
        start = from_jalali(*FIRST_MONTH, 1)
        _, azar_end = jalali_month_bounds(*ARTICLE_MONTH)
        return cls((from_jalali(1402, 1, 1) - start).days, (azar_end - start).days)

    def users_before(self, index: int) -> float:
        if index <= self.days_1401:
            return USERS_AT_1402 * (index / self.days_1401) ** 1.3
        days_1402 = self.days_to_azar_end - self.days_1401
        if index <= self.days_to_azar_end:
            return USERS_AT_1402 + (USERS_AT_AZAR_END - USERS_AT_1402) * (index - self.days_1401) / days_1402
        pace = LATER_PACE * (USERS_AT_AZAR_END - USERS_AT_1402) / days_1402  # users a day, just after Azar
        room = ADULTS - USERS_AT_AZAR_END
        return USERS_AT_AZAR_END + room * (1 - math.exp(-pace / room * (index - self.days_to_azar_end)))


def _month_visits(month: tuple[int, int], users_at_end: int) -> int:
    """Visits a month: ~2.6 per citizen through 1401 as the window ramps up, ~80,000 a month in 1402 up to
    the article, then growing with the users, more slowly than they do (our model)."""
    if month[0] == 1401:
        return round(users_at_end * 2.6 + 1_500)
    wobble = ((month[1] * 7) % 5 - 2) * 1_000
    if month <= ARTICLE_MONTH:
        return VISITS_1402_MONTH + wobble
    growth = (users_at_end / USERS_AT_AZAR_END) ** VISITS_PER_USER_ELASTICITY
    return round(VISITS_1402_MONTH * growth) + wobble


def history_months(today: date | None = None) -> list[tuple[int, int]]:
    """The Jalali months the demo history covers: from Farvardin 1401 to this month."""
    this = to_jalali(today or datetime.now(UTC).date())
    return list(months_between(FIRST_MONTH, (int(this.year), int(this.month))))


def history_size() -> int:
    return len(history_months())


def seed_history(
    session: Session, settings: Settings, advance: Advance, *, today: date | None = None
) -> None:
    """Daily rollups and monthly active users from Farvardin 1401 up to yesterday (Tehran), filling only
    days that have no rollup yet: seeding again tops the history up to the day before.

    Why up to now, not only the article's months: the dashboard opens on the newest complete month, and
    once the portal records real visits a history that stopped in Azar 1402 left the newest months with
    a handful of visits beside three empty years. The article's 1402 figures stay where they are; later
    months continue our model. A day that already has rollups (the portal's own visits, rolled up) is
    left as it is, never mixed with the model.
    """
    today = today or to_tehran(datetime.now(UTC)).date()
    start = from_jalali(*FIRST_MONTH, 1)
    curve = UserCurve.of_demo()
    rolled_up = set(session.scalars(select(VisitDaily.day).where(VisitDaily.day < today).distinct()))
    counted = set(session.scalars(select(UserDaily.day).where(UserDaily.day < today)))
    codes = {agency.code for agency in agency_selectors.list_agencies(session)} | {""}
    weights = {code: weight for code, weight in AGENCY_WEIGHTS.items() if code in codes}
    total_weight = sum(weights.values())
    for month in history_months(today):
        m_start, m_end = jalali_month_bounds(*month)
        days = [m_start + timedelta(days=n) for n in range((min(m_end, today) - m_start).days)]
        missing = [day for day in days if day not in rolled_up]
        if not missing:
            advance(1)
            continue
        users_at_end = round(curve.users_before((m_end - start).days))
        month_visits = _month_visits(month, users_at_end)
        visit_rows: list[dict[str, Any]] = []
        user_rows: list[dict[str, Any]] = []
        for day in missing:
            index = (day - start).days
            if day not in counted:
                new = round(curve.users_before(index + 1)) - round(curve.users_before(index))
                user_rows.append({"day": day, "new_users": new})
            # One generator per day: the same day gets the same visits whatever else was filled before.
            jitter = random.Random(day.toordinal()).uniform(0.9, 1.1)
            day_visits = month_visits / (m_end - m_start).days * jitter
            for code, weight in weights.items():
                for channel, share in CHANNEL_WEIGHTS.items():
                    visits = round(day_visits * weight / total_weight * share)
                    if visits:
                        authenticated = visits if code else round(visits * 0.55)
                        visit_rows.append(
                            {
                                "day": day,
                                "agency_code": code,
                                "channel": channel,
                                "visits": visits,
                                "authenticated_visits": authenticated,
                            }
                        )
        if user_rows:
            session.execute(insert(UserDaily), user_rows)
        session.execute(insert(VisitDaily), visit_rows)
        visits = int(
            session.scalar(
                select(func.coalesce(func.sum(VisitDaily.visits), 0)).where(
                    VisitDaily.day >= m_start, VisitDaily.day < m_end
                )
            )
            or 0
        )
        # Each active citizen came ~2.9 times a month (1402 on) or ~2.4 (the first year): our model. A
        # month the model touched keeps the model's count: a demo's live citizens can't be told apart.
        active = min(users_at_end, round(visits / (2.4 if month[0] == 1401 else 2.9)))
        row = session.get(MonthActive, month)
        if row is None:
            row = MonthActive(year=month[0], month=month[1])
            session.add(row)
        row.active_users, row.visits, row.source = active, visits, DEMO_HISTORY
        rollups_changed(session)
        advance(1)


# (agency, through-window share) — Azar 1402, the minister's report. "article" rows are his figures;
# the rest are our model, consistent with his words ("more than 70%", "low", "at the bottom").
ARTICLE_1402 = {
    "justice": (1.00, "article"), "energy": (1.00, "article"), "ict": (0.97, "article"),
    "education": (0.78, "model: article says > 70%"), "health": (0.74, "model: article says > 70%"),
    "sport": (0.72, "model: article says > 70%"), "interior": (0.66, None), "economy": (0.64, None),
    "tax": (0.69, None), "police": (0.68, None), "sso": (0.66, None), "nocr": (0.70, None),
    "deeds": (0.63, None), "post": (0.61, None), "ihio": (0.58, None), "cra": (0.60, None),
    "judiciary": (0.62, None), "roads": (0.45, None), "industry": (0.48, None), "labour": (0.50, None),
    "science": (0.52, None), "culture": (0.40, None), "relief": (0.44, None), "customs": (0.47, None),
    "welfare": (0.55, "model: connected early, now disconnected"),
    "agriculture": (0.18, "model: article says low, at the bottom"),
    "heritage": (0.15, "model: article says low, at the bottom"),
    "petroleum": (0.12, "model: article says low, at the bottom"),
}  # fmt: skip
# Connection in Azar 1402: the article's (State Welfare disconnected, Agriculture Jihad subsidiaries
# lost the standard); Foreign Affairs not yet connected (still the last ministry in Khordad 1403).
NOT_CONNECTED_1402 = {"welfare": "disconnected", "agri-ivo": "standard_lost", "agri-ppo": "standard_lost",
                      "agri-gtc": "not_connected", "foreign-affairs": "not_connected"}  # fmt: skip
# Khordad 1403 report (domain.md §3).
KHORDAD_1403 = {
    "energy": 0.98, "ict": 0.95, "petroleum": 0.95, "environment": 0.95, "defence": 0.75,
    "industry": 0.66, "police": 1.00, "atomic-energy": 1.00,
}  # fmt: skip
# Inquiries online: the article gives none per agency; our model, source "demo-model". (No smart share is
# modelled: the smart duty is measured from the published definitions, as the catalog badges them —
# analytics.selectors.smart_figures.)
INQUIRIES_1402 = {
    "justice": 1.0, "energy": 1.0, "ict": 1.0, "education": 0.92, "health": 0.89, "sport": 0.91,
    "tax": 0.94, "police": 0.93, "sso": 0.9, "nocr": 1.0, "deeds": 0.88, "post": 1.0, "ihio": 1.0,
    "interior": 0.82, "economy": 0.84, "agriculture": 0.73, "heritage": 0.72, "petroleum": 0.74,
    "welfare": 0.8, "judiciary": 0.92, "cra": 0.91,
}  # fmt: skip


def share_rows() -> list[dict[str, object]]:
    """Every dated share of the demo, as record_share arguments."""
    rows: list[dict[str, object]] = []
    esfand_1401, farvardin_1402, azar_1402 = (
        from_jalali(1401, 12, 1),
        from_jalali(1402, 1, 1),
        from_jalali(1402, 9, 1),
    )
    for code, (share, origin) in ARTICLE_1402.items():
        source = "article-1402" if origin == "article" else "demo-model"
        note = None if origin in (None, "article") else origin
        for metric in ("through_window", "online"):
            rows.append(
                dict(agency_code=code, metric=metric, period=azar_1402, share=share, source=source, note=note)
            )
        # Where each agency stood at the start of 1402 and the end of 1401 (our model: steady climb).
        early = round(max(share - 0.12, 0.05), 2)
        rows.append(
            dict(
                agency_code=code,
                metric="through_window",
                period=farvardin_1402,
                share=early,
                source="demo-model",
            )
        )
        end_1401 = round(
            max(share - 0.3, 0.05) if code not in ("agriculture", "heritage", "petroleum") else share * 0.6, 2
        )
        rows.append(
            dict(
                agency_code=code,
                metric="through_window",
                period=esfand_1401,
                share=end_1401,
                source="demo-model",
            )
        )
        rows.append(
            dict(agency_code=code, metric="connected", period=esfand_1401, share=1.0, source="demo-model")
        )
    for code, share in INQUIRIES_1402.items():
        rows.append(
            dict(
                agency_code=code,
                metric="inquiries_online",
                period=azar_1402,
                share=share,
                source="demo-model",
            )
        )
    return rows


def connection_rows(codes: set[str]) -> list[dict[str, object]]:
    azar_1402, khordad_1403 = from_jalali(1402, 9, 1), from_jalali(1403, 3, 1)
    rows: list[dict[str, object]] = []
    for code in sorted(codes):
        status = NOT_CONNECTED_1402.get(code, "connected")
        source = "article-1402" if code in ("welfare", "agri-ivo", "agri-ppo") else "demo-model"
        rows.append(
            dict(
                agency_code=code,
                metric="connected",
                period=azar_1402,
                share=1.0 if status == "connected" else 0.0,
                source=source,
                note=status,
            )
        )
        connected_1403 = code != "foreign-affairs"
        rows.append(
            dict(
                agency_code=code,
                metric="connected",
                period=khordad_1403,
                share=1.0 if connected_1403 else 0.0,
                source="report-khordad-1403",
                note=None if connected_1403 else "not_connected",
            )
        )
    for code, share in KHORDAD_1403.items():
        rows.append(
            dict(
                agency_code=code,
                metric="through_window",
                period=khordad_1403,
                share=share,
                source="report-khordad-1403",
            )
        )
    return rows


def shares_size() -> int:
    return len(share_rows()) + 1


def seed_shares(session: Session, settings: Settings, advance: Advance) -> None:
    """The dated shares (idempotent: record_share replaces a source's figure for the same month)."""
    codes = {agency.code for agency in agency_selectors.list_agencies(session)}
    for row in share_rows() + connection_rows(codes):
        if row["agency_code"] in codes:
            record_share(session, **row)  # type: ignore[arg-type]
    advance(shares_size())


def seed_measured(session: Session, settings: Settings, advance: Advance) -> None:
    """This month's figures measured from the catalog (and exchange, delivery when they are there)."""
    refresh_measured_shares(session)
    advance(1)
