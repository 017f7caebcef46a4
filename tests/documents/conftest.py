"""Fixtures for documents: agencies to issue from, a citizen's document, a signed-in owner."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.agencies.seed import seed_agencies
from panjereh.core.config import Settings
from panjereh.documents.models import IssuedDocument
from panjereh.documents.service import issue_document
from panjereh.web.documents import signed_in_citizen

OWNER = "0499370899"
OTHER = "0013542419"


@dataclass(frozen=True)
class Person:
    national_code: str


@pytest.fixture
def agencies(db: Session, settings: Settings) -> None:
    seed_agencies(db, settings, lambda _count: None)
    db.flush()


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


def sign_in(app: FastAPI, national_code: str | None) -> None:
    """Act as this citizen on the owner-only pages (None: nobody signed in)."""
    if national_code is None:
        app.dependency_overrides.pop(signed_in_citizen, None)
    else:
        app.dependency_overrides[signed_in_citizen] = lambda: Person(national_code)


@pytest.fixture
def owner_client(app: FastAPI, client: TestClient) -> Iterator[TestClient]:
    sign_in(app, OWNER)
    yield client
    app.dependency_overrides.clear()
