"""Staff fixtures: browsers signed in at a chosen assurance level, agencies with their staff."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.staff.constants import Role
from tests.support.browsers import signed_in_browsers
from tests.support.factories import create_agency, create_staff

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
    with signed_in_browsers(db, app, accept="text/html") as sign_in:
        yield sign_in
