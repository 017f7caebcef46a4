"""Catalog fixtures: the demo agencies and the flagship cards, made in the test's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency
from tests.support import factories


@pytest.fixture
def agencies(db: Session) -> dict[str, Agency]:
    return factories.create_demo_agencies(db)


@pytest.fixture
def flagship(db: Session, agencies: dict[str, Agency]) -> None:
    factories.create_flagship_cards(db)


@pytest.fixture
def smart_flagship(db: Session, flagship: None) -> None:
    """The flagship cards their agencies declare smart, as delivery records them once a published
    definition derives level 5 (only then is a card badged smart)."""
    factories.derive_declared_smart(db)
