"""OIDC tests: the exchange seeded (login checks) and a registered client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from panjereh.core.config import Settings
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
from panjereh.oidc import release
from tests.identity.helpers import clear_redis_counters
from tests.support.factories import seed_exchange_data


@pytest.fixture(autouse=True)
def fresh_counters(settings: Settings) -> Iterator[None]:
    """Each test starts with no rate-limit counts, as each starts with an empty database."""
    clear_redis_counters(settings)
    yield
    clear_redis_counters(settings)


@pytest.fixture(autouse=True)
def patient_release(monkeypatch: pytest.MonkeyPatch) -> None:
    """Userinfo gives each registry 5 s; a loaded CI machine has missed that (stop 20's run: a degree not
    released). Here an attribute is missing because of consent or a registry's fault, never the clock."""
    monkeypatch.setattr(release, "TIMEOUT_SECONDS", 60.0)


@pytest.fixture(scope="session")
def live_oidc(live_server: str, live_settings: Settings) -> Iterator[dict[str, str]]:
    """The live portal with the exchange seeded and one confidential client registered."""
    from tests.oidc.helpers import register

    engine = make_engine(live_settings.resolved_database_url)
    with unit_of_work(make_sessionmaker(engine)) as session:
        seed_exchange_data(session, live_settings)
        secret = register(session, "rp.live")
    engine.dispose()
    yield {"url": live_server, "client_id": "rp.live", "client_secret": secret}
