"""Fixtures for documents: agencies to issue from, a citizen's document, a signed-in owner."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.cookies import SESSION_COOKIE
from panjereh.documents.models import IssuedDocument
from panjereh.documents.service import issue_document
from panjereh.identity.models import Citizen
from panjereh.identity.selectors import get_citizen_by_national_code
from panjereh.identity.sessions import open_session
from tests.support.factories import create_citizen, create_demo_agencies

OWNER = "0499370899"
OTHER = "0013542419"


@pytest.fixture
def agencies(db: Session) -> None:
    create_demo_agencies(db)


def issue(db: Session, settings: Settings, **overrides: object) -> IssuedDocument:
    """A certificate of no criminal record for OWNER, unless told otherwise."""
    values: dict[str, object] = {
        "document_type": "no-criminal-record",
        "title_fa": "گواهی عدم سوء پیشینه",
        "title_en": "Certificate of no criminal record",
        "subject_national_code": OWNER,
        "subject_name": "علی رضایی",
        "issuer_agency_code": "judiciary",
        "claims": {"record": "none", "purpose": "employment"},
        "valid_until": date.today() + timedelta(days=90),
        "request_tracking_code": "14051234567",
    }
    values.update(overrides)
    return issue_document(db, settings, **values)  # type: ignore[arg-type]


@pytest.fixture
def document(db: Session, settings: Settings, agencies: None) -> IssuedDocument:
    issued = issue(db, settings)
    db.commit()  # visible to the app's units of work (still inside the test's rolled-back transaction)
    return issued


@pytest.fixture
def isolated_settings(settings: Settings, tmp_path: Path) -> Settings:
    """Settings with their own key folder (rotation must not change the keys other tests sign with)."""
    return settings.model_copy(update={"home": tmp_path})


def sign_in(
    db: Session, client: TestClient, national_code: str, name: str = "علی رضایی", *, level: int = 2
) -> Citizen:
    """A real citizen with a real web session (two-factor unless told: making a share asks for it); the
    client carries its cookie."""
    citizen = get_citizen_by_national_code(db, national_code)
    if citizen is None:
        first, last = name.split(" ", 1)
        citizen = create_citizen(db, national_code, first=first, last=last, birth_date=date(1990, 1, 1))
    _web_session, token = open_session(
        db, citizen, level=level, amr=["sms"] if level == 1 else ["sms", "otp"]
    )
    db.commit()
    client.cookies.set(SESSION_COOKIE, token)
    return citizen


@pytest.fixture
def owner_client(db: Session, client: TestClient) -> TestClient:
    sign_in(db, client, OWNER)
    return client
