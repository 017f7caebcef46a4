"""Identity tests: each starts with no rate-limit counts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from panjereh.core.config import Settings
from tests.identity.helpers import clear_redis_counters


@pytest.fixture(autouse=True)
def fresh_counters(settings: Settings) -> Iterator[None]:
    """Each test starts with no rate-limit counts, as each starts with an empty database."""
    clear_redis_counters(settings)
    yield
    clear_redis_counters(settings)
