"""Staff fixtures: browsers signed in at a chosen assurance level, agencies with their staff."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.identity import selectors as identity_selectors
from panjereh.identity import sessions
from panjereh.identity.sessions import SESSION_COOKIE
from panjereh.staff.constants import Role
from tests.support.factories import create_agency, create_citizen, create_staff

ADMIN = "0499370899"  # administrator of agency "alpha"
DESIGNER = "0790419904"  # designer of "alpha"
OFFICER = "0084575948"  # officer of "alpha"
OTHER_ADMIN = "0067749828"  # administrator of agency "beta"
OPERATOR = "0068415941"
NOBODY = "0076229645"  # signed in, no role anywhere


@pytest.fixture
def staffed(db: Session) -> Session:
    """Agencies alpha and beta with their staff, and one operator (committed)."""
    create_agency(db, "alpha")
    create_agency(db, "beta")
    create_staff(db, ADMIN, "alpha", Role.ADMINISTRATOR)
    create_staff(db, DESIGNER, "alpha", Role.DESIGNER, Role.REVIEWER)
    create_staff(db, OFFICER, "alpha", Role.OFFICER)
    create_staff(db, OTHER_ADMIN, "beta", Role.ADMINISTRATOR)
    create_staff(db, OPERATOR, None, Role.OPERATOR)
    db.commit()
    return db


@pytest.fixture
def browser(db: Session, app: FastAPI) -> Iterator[Callable[..., TestClient]]:
    """A browser signed in as that person at `level` (1: SMS only; 2: with the second factor)."""
    opened: list[TestClient] = []

    def sign_in(national_code: str, level: int = 2) -> TestClient:
        citizen = identity_selectors.get_citizen_by_national_code(db, national_code)
        if citizen is None:
            citizen = create_citizen(db, national_code)
        amr = ["sms"] if level == 1 else ["sms", "otp", "mfa"]
        _, token = sessions.open_session(db, citizen, level=level, amr=amr)
        db.commit()
        client = TestClient(app, base_url="http://testserver")
        client.__enter__()
        client.cookies.set(SESSION_COOKIE, token)
        client.headers["accept"] = "text/html"
        opened.append(client)
        return client

    yield sign_in
    for client in opened:
        client.__exit__(None, None, None)
