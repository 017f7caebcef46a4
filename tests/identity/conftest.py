"""Identity tests run against the exchange seeded in the test's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from tests.identity.helpers import seed_exchange


@pytest.fixture
def seeded(db: Session, settings: Settings) -> Session:
    seed_exchange(db, settings)
    return db
