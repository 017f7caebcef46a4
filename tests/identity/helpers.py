"""Test helpers for journeys through login: seed the exchange, read codes from the outbox, log in."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.agencies import seed as agencies_seed
from panjereh.core.config import Settings
from panjereh.exchange import seed as exchange_seed
from panjereh.notify.backends import read_outbox

DEMO_CODE = "0499370899"
DEMO_MOBILE = "09121234567"
MINOR_CODE = "0790419904"
MINOR_MOBILE = "09121234568"
DECEASED_CODE = "1583250689"
DECEASED_MOBILE = "09131234569"
CONVICTED_CODE = "0684159414"
CONVICTED_MOBILE = "09151234570"


def seed_exchange(session: Session, settings: Settings) -> None:
    """Agencies, the registries' data services and the platform's grants (what the login checks use)."""
    agencies_seed.seed_agencies(session, settings, lambda _n: None)
    exchange_seed.seed_exchange(session, settings, lambda _n: None)
    session.commit()


def last_code(settings: Settings, mobile: str) -> str:
    """The newest SMS code sent to this mobile (from the development outbox)."""
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


def login(client: TestClient, settings: Settings, national_code: str = DEMO_CODE, mobile: str = DEMO_MOBILE) -> Any:
    """The whole journey: identifiers → code → session; returns the final redirect response."""
    started = start(client, national_code, mobile)
    assert started.status_code == 303, started.text[:2000]
    response = submit_code(client, attempt_of(started), last_code(settings, mobile))
    assert response.status_code == 303, response.text[:2000]
    return response
