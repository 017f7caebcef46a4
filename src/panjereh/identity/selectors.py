"""Reading citizens, sessions and login history."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from panjereh.core.db import already_loaded, utcnow
from panjereh.identity.models import Citizen, LoginEvent, WebSession
from panjereh.identity.sessions import is_live


def get_citizen_by_national_code(session: Session, national_code: str) -> Citizen | None:
    """The citizen with this national code, if they have ever logged in.

    One already loaded in this session is not read again (a decision names the citizen on its document
    and then notifies them, in one transaction).
    """
    loaded = already_loaded(session, Citizen, national_code=national_code)
    if loaded is not None:
        return loaded
    return session.scalar(select(Citizen).where(Citizen.national_code == national_code))


def get_citizen_by_mobile(session: Session, mobile: str) -> Citizen | None:
    """The citizen whose registered mobile this is."""
    return session.scalars(
        select(Citizen).where(Citizen.mobile == mobile).order_by(Citizen.created_at)
    ).first()


def get_citizen(session: Session, citizen_id: str) -> Citizen | None:
    return session.get(Citizen, citizen_id)


_CITIZEN_EXISTS = select(Citizen.id).where(Citizen.id == bindparam("citizen_id"))


def citizen_exists(session: Session, citizen_id: str) -> bool:
    """Whether the citizen is still there (one indexed read, no object loaded: the token hot path)."""
    return session.connection().execute(_CITIZEN_EXISTS, {"citizen_id": citizen_id}).first() is not None


def active_sessions(session: Session, citizen: Citizen) -> list[WebSession]:
    """The citizen's sessions that are still usable, newest first."""
    now = utcnow()
    rows = session.scalars(
        select(WebSession)
        .where(
            WebSession.citizen_id == citizen.id, WebSession.revoked_at.is_(None), WebSession.expires_at > now
        )
        .order_by(WebSession.created_at.desc())
    ).all()
    return [row for row in rows if is_live(row, now)]


def recent_logins(session: Session, citizen: Citizen, limit: int = 20) -> Sequence[LoginEvent]:
    """The citizen's latest login events (successes and failures)."""
    return session.scalars(
        select(LoginEvent)
        .where(LoginEvent.national_code == citizen.national_code)
        .order_by(LoginEvent.at.desc())
        .limit(limit)
    ).all()
