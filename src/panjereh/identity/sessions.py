"""Server-side web sessions: random 256-bit tokens, idle and absolute timeouts per level, revocation."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from panjereh.core.crypto import sha256_hex
from panjereh.core.db import utcnow
from panjereh.identity import policy
from panjereh.identity.exceptions import SessionNotFound
from panjereh.identity.models import Citizen, WebSession


def open_session(
    session: Session,
    citizen: Citizen,
    *,
    level: int,
    amr: Sequence[str],
    ip: str = "",
    user_agent: str = "",
    replaces_token: str | None = None,
) -> tuple[WebSession, str]:
    """A new session (always a new id: login never reuses a token the browser had); returns its token."""
    if replaces_token:
        end_session_by_token(session, replaces_token)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    web_session = WebSession(
        token_hash=sha256_hex(token),
        citizen_id=citizen.id,
        level=level,
        amr=" ".join(amr),
        auth_time=now,
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.SESSION_TIMEOUTS[level].absolute,
        ip=ip[:64],
        user_agent=user_agent[:300],
    )
    session.add(web_session)
    session.flush()
    return web_session, token


def is_live(web_session: WebSession, now: datetime) -> bool:
    """Not revoked, within its absolute lifetime and not idle for longer than its level allows."""
    if web_session.revoked_at is not None or now >= web_session.expires_at:
        return False
    idle = policy.SESSION_TIMEOUTS[web_session.level].idle
    return now < web_session.last_seen_at + idle


def resolve(session: Session, token: str | None, *, touch: bool = True) -> tuple[WebSession, Citizen] | None:
    """The live session and its citizen for a cookie token, touching `last_seen_at` at most once a minute
    (unless `touch` is false: a read-only look that must not write)."""
    if not token or len(token) > 100:
        return None
    row = session.execute(
        select(WebSession, Citizen)
        .join(Citizen, Citizen.id == WebSession.citizen_id)
        .where(WebSession.token_hash == sha256_hex(token))
    ).first()
    if row is None:
        return None
    web_session, citizen = row
    now = utcnow()
    if not is_live(web_session, now):
        return None
    if touch and now - web_session.last_seen_at > timedelta(seconds=policy.SESSION_TOUCH_SECONDS):
        web_session.last_seen_at = now
        session.flush()
    return web_session, citizen


def raise_level(session: Session, web_session: WebSession, level: int, method: str) -> str:
    """Step-up: the session now carries a higher level (and its shorter timeouts) under a new token.

    Returns the new token for the cookie; the old one stops working at once (ASVS 5.0 V7.2.4: a new
    session token on re-authentication). The row, and so its id (`sid` in ID tokens), stays.
    """
    now = utcnow()
    token = secrets.token_urlsafe(32)
    web_session.token_hash = sha256_hex(token)
    web_session.level = max(web_session.level, level)
    methods = web_session.amr.split()
    if method not in methods:
        methods.append(method)
    if len(methods) > 1 and "mfa" not in methods:
        methods.append("mfa")
    web_session.amr = " ".join(methods)
    web_session.auth_time = now
    web_session.expires_at = min(
        web_session.expires_at, now + policy.SESSION_TIMEOUTS[web_session.level].absolute
    )
    web_session.last_seen_at = now
    session.flush()
    return token


def end_session_by_token(session: Session, token: str) -> None:
    """Log out this browser."""
    session.execute(
        update(WebSession)
        .where(WebSession.token_hash == sha256_hex(token), WebSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def end_session(session: Session, session_id: str) -> None:
    """End one session by its id (RP-initiated logout names it as `sid`)."""
    session.execute(
        update(WebSession)
        .where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke(session: Session, citizen: Citizen, session_id: str) -> None:
    """Revoke one of the citizen's own sessions; someone else's session is 'not found'."""
    result = session.execute(
        update(WebSession)
        .where(
            WebSession.id == session_id, WebSession.citizen_id == citizen.id, WebSession.revoked_at.is_(None)
        )
        .values(revoked_at=utcnow())
    )
    if not getattr(result, "rowcount", 0):
        raise SessionNotFound()


def revoke_all(session: Session, citizen: Citizen, *, except_id: str | None = None) -> int:
    """Log out everywhere (optionally keeping the current session)."""
    statement = update(WebSession).where(WebSession.citizen_id == citizen.id, WebSession.revoked_at.is_(None))
    if except_id:
        statement = statement.where(WebSession.id != except_id)
    result = session.execute(statement.values(revoked_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
