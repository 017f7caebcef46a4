"""A signed-in citizen who meets an error sees the Persian error page with their name, never a 500."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.cookies import SESSION_COOKIE
from panjereh.identity.models import Citizen
from panjereh.identity.sessions import open_session


def test_error_page_for_a_signed_in_citizen(db: Session, client: TestClient) -> None:
    citizen = Citizen(
        national_code="0499370899", first_name="علی", last_name="رضایی", birth_date=date(1985, 6, 12),
        mobile="09121234567",
    )  # fmt: skip
    db.add(citizen)
    db.flush()
    _web_session, token = open_session(db, citizen, level=1, amr=["sms"])
    db.commit()
    client.cookies.set(SESSION_COOKIE, token)
    # Asking for a request that is not theirs raises a 404 problem; the unit of work rolls back.
    response = client.get("/account/requests/000000000000", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "علی رضایی" in response.text  # the header still knows who is signed in
