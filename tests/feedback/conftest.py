"""Feedback fixtures: two agencies with staff and a service card each, signed-in browsers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.catalog.models import ServiceCard
from panjereh.staff.constants import Role
from tests.support.browsers import signed_in_browsers
from tests.support.factories import create_agency, create_card, create_staff

CITIZEN = "0499370899"
OTHER_CITIZEN = "0790419904"
ADMIN = "0084575948"  # administrator of alpha
OFFICER = "0067749828"  # officer of alpha
REVIEWER = "0068415941"  # reviewer of alpha (reads, does not answer)
BETA_ADMIN = "0076229645"  # administrator of beta


@pytest.fixture
def cards(db: Session) -> dict[str, ServiceCard]:
    """Agency alpha with a service card and its staff; agency beta with one of its own (committed)."""
    create_agency(db, "alpha")
    create_agency(db, "beta")
    found = {
        "alpha": create_card(db, "alpha", slug="alpha-permit", title_fa="مجوز آلفا", title_en="Alpha permit"),
        "alpha2": create_card(db, "alpha", slug="alpha-renewal", title_fa="تمدید آلفا"),
        "beta": create_card(db, "beta", slug="beta-permit", title_fa="مجوز بتا"),
    }
    create_staff(db, ADMIN, "alpha", Role.ADMINISTRATOR)
    create_staff(db, OFFICER, "alpha", Role.OFFICER)
    create_staff(db, REVIEWER, "alpha", Role.REVIEWER)
    create_staff(db, BETA_ADMIN, "beta", Role.ADMINISTRATOR)
    db.commit()
    return found


@pytest.fixture
def browser(db: Session, app: FastAPI) -> Iterator[Callable[..., TestClient]]:
    """A browser signed in as that person at `level` (1: SMS only; 2: with the second factor)."""
    with signed_in_browsers(db, app, accept="text/html") as sign_in:
        yield sign_in
