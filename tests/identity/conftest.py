"""Identity tests run against the exchange seeded in the test's transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from tests.identity.helpers import clear_redis_counters, seed_exchange


@pytest.fixture(autouse=True)
def fresh_counters(settings: Settings) -> Iterator[None]:
    """Each test starts with no rate-limit counts, as each starts with an empty database."""
    clear_redis_counters(settings)
    yield
    clear_redis_counters(settings)


@pytest.fixture
def seeded(db: Session, settings: Settings) -> Session:
    seed_exchange(db, settings)
    return db
