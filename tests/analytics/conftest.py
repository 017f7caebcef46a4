"""Analytics fixtures: the demo agencies, shares and 1:1,000 history, inside the test's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from panjereh.agencies.seed import seed_agencies
from panjereh.analytics.seed import seed_history, seed_shares
from panjereh.core.config import Settings


def _ignore(_count: int) -> None:
    return None


@pytest.fixture
def agencies(db: Session, settings: Settings) -> Session:
    seed_agencies(db, settings, _ignore)
    return db


@pytest.fixture
def demo(agencies: Session, settings: Settings) -> Session:
    """The article's world at 1:1,000: agencies, dated shares, the visit history."""
    seed_shares(agencies, settings, _ignore)
    seed_history(agencies, settings, _ignore)
    return agencies
