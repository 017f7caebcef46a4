"""Test helpers for journeys through login: read codes from the outbox, log in, sign in, enrol TOTP."""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.cookies import SESSION_COOKIE
from panjereh.identity import selectors, service, sessions, totp
from panjereh.identity.models import Citizen
from panjereh.notify.providers import read_outbox
from tests.notify.helpers import committed_sessions, send_queued
from tests.support.factories import create_citizen

DEMO_CODE = "0499370899"
DEMO_MOBILE = "09121234567"
MINOR_CODE = "0790419904"
MINOR_MOBILE = "09121234568"
DECEASED_CODE = "1583250689"
DECEASED_MOBILE = "09131234569"
CONVICTED_CODE = "0684159414"
CONVICTED_MOBILE = "09151234570"


def last_code(source: TestClient | Settings, mobile: str) -> str:
    """The newest SMS code sent to this mobile (from the development outbox), once the queued messages are
    sent: those of a TestClient's app, or of a live server's database named by its settings."""
    if isinstance(source, TestClient):
        settings: Settings = source.app.state.settings  # type: ignore[attr-defined]
        send_queued(source.app.state.sessionmaker, settings)  # type: ignore[attr-defined]
    else:
        settings = source
        send_queued(committed_sessions(settings.resolved_database_url), settings)
    for record in reversed(read_outbox(settings)):
        if record["to"] == mobile and record["kind"] == "identity.login_code":
            found = re.search(r"\d{6}", record["body_fa"])
            assert found
            return found.group(0)
    raise AssertionError(f"no code sent to {mobile}")


def csrf(client: Any, path: str = "/login") -> str:
    """Load a page with a form and return its CSRF token."""
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def start(client: TestClient, national_code: str = "", mobile: str = "", next: str = "/account") -> Any:
    token = csrf(client)
    return client.post(
        "/login",
        data={"csrf_token": token, "national_code": national_code, "mobile": mobile, "next": next},
        follow_redirects=False,
    )


def submit_code(client: TestClient, attempt: str, code: str, next: str = "/account") -> Any:
    token = csrf(client, f"/login/verify?attempt={attempt}")
    return client.post(
        "/login/verify",
        data={"csrf_token": token, "attempt": attempt, "code": code, "next": next},
        follow_redirects=False,
    )


def attempt_of(response: Any) -> str:
    found = re.search(r"attempt=([0-9a-f]+)", response.headers["location"])
    assert found, response.headers.get("location")
    return found.group(1)


def login(
    client: TestClient, settings: Settings, national_code: str = DEMO_CODE, mobile: str = DEMO_MOBILE
) -> Any:
    """The whole journey: identifiers → code → session; returns the final redirect response."""
    started = start(client, national_code, mobile)
    assert started.status_code == 303, started.text[:2000]
    response = submit_code(client, attempt_of(started), last_code(client, mobile))
    assert response.status_code == 303, response.text[:2000]
    return response


def clear_redis_counters(settings: Settings) -> None:
    """Redis outlives the test's rolled-back transaction: drop this run's rate-limit counters."""
    if not settings.redis_url:
        return
    import redis

    client = redis.Redis.from_url(settings.redis_url)
    for key in client.scan_iter(f"{settings.redis_prefix}rl:*"):
        client.delete(key)
    client.close()


def citizen(db: Session, national_code: str = DEMO_CODE, mobile: str = DEMO_MOBILE) -> Citizen:
    """The citizen with this national code, made as a first login would (names from the registry)."""
    found = selectors.get_citizen_by_national_code(db, national_code)
    return found if found is not None else create_citizen(db, national_code, mobile=mobile)


def signed_in(client: TestClient, db: Session, level: int = 1, national_code: str = DEMO_CODE) -> str:
    """Give the browser a session at `level` (as a login would); returns its token."""
    amr = ["sms"] if level == 1 else ["sms", "otp", "mfa"]
    _row, token = sessions.open_session(db, citizen(db, national_code), level=level, amr=amr)
    db.commit()
    # The domain the test client files the server's cookies under, so a rotated token replaces this one.
    client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")
    return token


def enrol_totp(db: Session, settings: Settings, national_code: str = DEMO_CODE) -> str:
    """Turn the citizen's second factor on with the previous step's code; returns the secret.

    The current and the next step's codes stay unused, so a test can log in and step up with them.
    """
    who = citizen(db, national_code)
    secret = service.begin_totp_enrolment(db, settings, who)
    service.confirm_totp_enrolment(db, settings, who, totp.code_for(secret, time.time() - totp.STEP_SECONDS))
    db.commit()
    return secret
