"""Shared fixtures: real databases rolled back per test, real HTTP servers, real Redis."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis as redis_lib
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.db import make_sessionmaker, unit_of_work
from panjereh.core.serving import SERVER_OPTIONS
from tests.support import databases, factories
from tests.support.operations import METRICS_TOKEN
from tests.support.servers import free_port, running_server

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run's PostgreSQL databases go with it (once, on the controller: xdist workers have an input)."""
    if not hasattr(config, "workerinput"):
        databases.drop_run_databases()


def pytest_report_header(config: pytest.Config) -> str:
    return f"panjereh database: {databases.backend()}; redis: {databases.redis_url() or 'none'}"


@pytest.fixture(scope="session")
def registries_url() -> Iterator[str]:
    """The simulated registries over real HTTP (a small deterministic population)."""
    from panjereh.registries.app import create_app as create_registries

    with running_server(create_registries(seed=1402, size=3000, token="test-registry-token")) as url:
        yield url


@pytest.fixture
def faults(registries_url: str) -> Iterator[Callable[..., None]]:
    """Switch a registry's faults (PUT /_admin/faults/{registry}: down, slow, flaky, garbled); every fault
    is off again after the test."""
    headers = {"Authorization": "Bearer test-registry-token"}

    def set_fault(registry: str, **spec: object) -> None:
        response = httpx.put(
            f"{registries_url}/_admin/faults/{registry}", json=spec, headers=headers, timeout=60
        )
        assert response.status_code == 200, response.text

    yield set_fault
    httpx.delete(f"{registries_url}/_admin/faults", headers=headers, timeout=60).raise_for_status()


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("panjereh-home")


@pytest.fixture(scope="session")
def settings(home: Path, registries_url: str) -> Settings:
    """Settings of the application under test (explicit, never read from the developer's shell)."""
    return Settings(
        env="test",
        secret_key=secrets.token_urlsafe(32),  # placeholders are refused outside development
        home=home,
        database_url=databases.fresh_database(WORKER, str(home)),
        redis_url=databases.redis_url(),
        redis_prefix=f"test:{WORKER}:{uuid.uuid4().hex[:8]}:",
        registries_url=registries_url,
        registry_token="test-registry-token",
        metrics_token=METRICS_TOKEN,
        # Every test's client shares one address (and, in the PostgreSQL run, one Redis count): the limit
        # is tested with its own settings (tests/documents/test_verify_limit.py).
        verify_per_minute=1_000_000,
        share_opens_per_minute=1_000_000,
        # Likewise the userinfo limits (tests/oidc/test_userinfo_polling.py sets its own).
        oidc_userinfo_per_minute=1_000_000,
        oidc_userinfo_per_citizen_per_minute=1_000_000,
        # The simulated gateway shares a loaded 2-core runner with the suite: a slow answer is not a fault
        # under test (tests/payments set their own faults).
        payment_gateway_timeout_seconds=60,
        # Links in SMS and e-mail are absolute: the address the test client calls the app at.
        public_url="http://testserver",
        log_json=True,
        log_level="WARNING",
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = databases.migrated_engine(settings.resolved_database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def catalog_engine(settings: Settings, home: Path) -> Iterator[Engine]:
    """A database of this worker's own, seeded once with the demo agencies and catalog, committed."""
    engine = databases.migrated_engine(databases.fresh_database(f"{WORKER}_catalog", str(home)))
    with unit_of_work(make_sessionmaker(engine)) as session:
        factories.seed_demo_catalog(session, settings)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(request: pytest.FixtureRequest, engine: Engine) -> Iterator[Connection]:
    """One outer transaction per test, rolled back at the end whatever the test committed.

    A test marked `demo_catalog` runs in the worker's catalog database instead: the 1,246 cards are
    seeded once, and what the test changes is rolled back the same way.
    """
    if request.node.get_closest_marker("demo_catalog"):
        engine = request.getfixturevalue("catalog_engine")
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Commits inside the code under test become savepoint releases inside the outer transaction.
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session inside the test's transaction."""
    session = session_factory()
    yield session
    session.close()


@pytest.fixture
def seeded(db: Session, settings: Settings) -> Session:
    """The demo agencies, the registries' data services and the platform's grants (committed)."""
    factories.seed_exchange_data(db, settings)
    return db


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    """The application, with its units of work inside the test's transaction."""
    application = create_app(settings)
    application.state.sessionmaker = session_factory
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def redis_client(settings: Settings) -> Iterator[redis_lib.Redis]:
    """Real Redis (PostgreSQL run only); the keys this test made are removed afterwards."""
    if not settings.redis_url:
        pytest.skip("Redis is exercised in the PostgreSQL run")
    client = redis_lib.Redis.from_url(settings.redis_url, decode_responses=True)
    yield client
    for key in client.scan_iter(f"{settings.redis_prefix}*"):
        client.delete(key)


@pytest.fixture(scope="session")
def live_settings(settings: Settings, home: Path) -> Settings:
    """Settings for a live server with its own committed database (browser and relying-party tests)."""
    port = free_port()
    return settings.model_copy(
        update={
            "database_url": databases.fresh_database(f"{WORKER}_live", str(home)),
            "port": port,
            "public_url": f"http://127.0.0.1:{port}",
        }
    )


@pytest.fixture(scope="session")
def live_server(live_settings: Settings) -> Iterator[str]:
    """The portal over real HTTP, on a migrated database that tests may commit to."""
    databases.migrated_engine(live_settings.resolved_database_url).dispose()
    with running_server(create_app(live_settings), port=live_settings.port, **SERVER_OPTIONS) as url:
        yield url
