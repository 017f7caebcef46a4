"""Delivery fixtures: seeded agencies and exchange, signed-in citizens, a worker on a committed database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from panjereh.app import create_app
from panjereh.core.config import ExchangeSettings, Settings
from panjereh.core.db import make_sessionmaker
from panjereh.delivery import loading
from panjereh.delivery.service import Officer
from panjereh.exchange.client import PlatformClient
from panjereh.jobs import Worker
from panjereh.metadata import metadata
from panjereh.worker import make_worker
from tests.conftest import WORKER
from tests.support import databases
from tests.support.browsers import signed_in_browsers
from tests.support.factories import create_officer

DEMO = "0499370899"  # registries persona: clean adult
CONVICTED = "0684159414"
TAX_DEBTOR = "0084575948"
OFFICER = "2540201288"


@pytest.fixture(scope="session")
def committed_engine(home: Path) -> Iterator[Engine]:
    """A database of its own that the code under test commits to (workers use many connections)."""
    engine = databases.migrated_engine(databases.fresh_database(f"{WORKER}_delivery", str(home)))
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(committed_engine: Engine) -> Iterator[sessionmaker[Session]]:
    yield make_sessionmaker(committed_engine)
    with committed_engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    yield session
    session.close()


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    application = create_app(settings)
    application.state.sessionmaker = session_factory
    return application


@pytest.fixture
def seeded(seeded: Session) -> Session:
    """The exchange of tests/conftest.py, plus the executable service definitions."""
    loading.sync_definitions(seeded)
    seeded.commit()
    return seeded


@pytest.fixture
def login(seeded: Session, app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """A TestClient signed in as the citizen with that national code (made on first use)."""
    with signed_in_browsers(seeded, app) as sign_in:
        yield sign_in


@pytest.fixture
def officer(seeded: Session) -> Officer:
    row = create_officer(seeded, OFFICER, "industry")
    seeded.commit()
    return row


@pytest.fixture
def worker(session_factory: sessionmaker[Session], settings: Settings) -> Iterator[Worker]:
    """A worker on the test's database and the app's exchange client; tests drive it to idle."""
    # The exchange's message log is written by its background writer, as outside tests: parallel inline
    # writes on SQLite contend for the write lock.
    background = settings.model_copy(update={"exchange": ExchangeSettings(log_mode="background")})
    exchange = PlatformClient(background, session_factory)
    yield make_worker(settings, session_factory, exchange, concurrency=4, backoff_base=0.05)
    exchange.close()


def run_jobs(worker: Worker) -> int:
    """Run every due job, then close this loop's HTTP session (each asyncio.run is a new loop)."""

    async def go() -> int:
        try:
            return await worker.run_until_idle()
        finally:
            await worker.services["exchange"].aclose()
            worker.services["exchange"].flush()

    return asyncio.run(go())
