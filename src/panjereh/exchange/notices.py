"""Data-access notices: a citizen who asked for it hears when an agency looks at their data.

The ledger is read behind a short lag (log entries are written in batches off the request path, so the
newest second may still be arriving); each run tells each subscribed citizen once about what is new.
Reads by the window itself on the citizen's behalf (login checks, the citizen's own requests) are left
out: the citizen started those.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.exchange.models import DataService, LedgerEntry, LedgerNoticeCursor
from panjereh.exchange.service import PLATFORM_AGENCY
from panjereh.identity import selectors as identity_selectors
from panjereh.notify import selectors as notify_selectors
from panjereh.notify import service as notify_service

LAG = timedelta(seconds=30)
CURSOR_ID = 1


def notify_data_access(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Send one inbox message per subscribed citizen about agencies' new looks at their data."""
    until = (now or utcnow()) - LAG
    cursor = session.get(LedgerNoticeCursor, CURSOR_ID)
    if cursor is None:  # the first run starts now: history was never promised to anyone
        session.add(LedgerNoticeCursor(id=CURSOR_ID, last_at=until))
        session.flush()
        return 0
    entries = session.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.at > cursor.last_at,
            LedgerEntry.at <= until,
            LedgerEntry.client_agency_code != PLATFORM_AGENCY,
        )
        .order_by(LedgerEntry.at)
    ).all()
    cursor.last_at = until
    subscribers = notify_selectors.data_access_subscribers(session, (entry.subject for entry in entries))
    looks: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for entry in entries:
        if entry.subject in subscribers:
            looks[entry.subject].add((entry.client_agency_code, entry.service_code))
    for national_code, pairs in looks.items():
        body_fa, body_en = _describe(session, pairs)
        notify_service.tell(  # on the channels the citizen chose for looks at their data
            session,
            settings,
            national_code=national_code,
            mobile=_mobile_of(session, national_code),
            subject_fa="دستگاهی دادهٔ شما را استعلام کرد",
            body_fa=body_fa,
            subject_en="An agency looked at your data",
            body_en=body_en,
            kind="exchange.data_access",
            link="/account/data-access",
        )
    session.flush()
    return len(looks)


def _mobile_of(session: Session, national_code: str) -> str | None:
    citizen = identity_selectors.get_citizen_by_national_code(session, national_code)
    return citizen.mobile if citizen is not None else None


def _describe(session: Session, pairs: set[tuple[str, str]]) -> tuple[str, str]:
    """Who looked at what, in Persian and in English (the inbox shows the citizen's language)."""
    lines_fa, lines_en = [], []
    for agency_code, service_code in sorted(pairs):
        agency = agency_selectors.find_agency_by_code(session, agency_code)
        service = session.scalars(select(DataService).where(DataService.code == service_code)).one_or_none()
        lines_fa.append(
            f"• {agency.name_fa if agency else agency_code}: {service.title_fa if service else service_code}"
        )
        lines_en.append(
            f"• {agency.name_en if agency else agency_code}: {service.title_en if service else service_code}"
        )
    return (
        "این دستگاه‌ها دادهٔ شما را دیدند:\n" + "\n".join(lines_fa),
        "These agencies looked at your data:\n" + "\n".join(lines_en),
    )
