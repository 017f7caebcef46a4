"""A database that cannot be reached (a PostgreSQL restart, a failover, a full pool) is a 503 problem
with Retry-After, in Persian and English; any other database error stays a crash (500)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc

from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.db import database_unavailable, make_engine, make_sessionmaker
from tests.support.servers import free_port


@pytest.fixture
def unreachable_app(settings: Settings) -> Iterator[FastAPI]:
    """The application whose units of work go to a PostgreSQL that is not listening (as during its
    restart): every connection attempt is refused by the operating system."""
    application = create_app(settings)
    engine = make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/panjereh", pool_size=1)
    application.state.sessionmaker = make_sessionmaker(engine)
    yield application
    engine.dispose()


def test_an_api_call_during_a_database_restart_is_a_503_problem(unreachable_app: FastAPI) -> None:
    with TestClient(unreachable_app, raise_server_exceptions=True) as client:
        response = client.get("/api/v1/services/some-service")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == "5"
    problem = response.json()
    assert problem["code"] == "platform.database_unavailable"
    assert problem["status"] == 503
    assert "database" in problem["title"]
    assert "پایگاه داده" in problem["title_fa"]
    assert problem["instance"] == f"urn:panjereh:request:{response.headers['x-request-id']}"


def test_a_page_during_a_database_restart_is_a_persian_503_page(unreachable_app: FastAPI) -> None:
    with TestClient(unreachable_app, raise_server_exceptions=True) as client:
        response = client.get("/services/some-service", headers={"Accept": "text/html"})
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["retry-after"] == "5"
    assert "پایگاه دادهٔ سامانه موقتاً در دسترس نیست" in response.text


def _operational(orig: Exception) -> sa_exc.OperationalError:
    return sa_exc.OperationalError("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        # psycopg's own errors, as SQLAlchemy wraps them
        (_operational(psycopg.OperationalError("connection refused")), True),  # no SQLSTATE: cannot connect
        (_operational(psycopg.errors.AdminShutdown("terminating connection")), True),  # 57P01
        (_operational(psycopg.errors.CannotConnectNow("the database system is starting up")), True),  # 57P03
        (_operational(psycopg.errors.TooManyConnections("too many clients")), True),  # 53300
        (sa_exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"), True),
        (sa_exc.DBAPIError("SELECT 1", {}, Exception("reset"), connection_invalidated=True), True),
        # faults of a statement or of the code: still a crash
        (_operational(psycopg.errors.QueryCanceled("canceling statement due to statement timeout")), False),
        (_operational(psycopg.errors.LockNotAvailable("could not obtain lock")), False),
        (sa_exc.IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key")), False),
        (sa_exc.ProgrammingError("SELECT", {}, psycopg.errors.UndefinedTable("no such table")), False),
        (_operational(sqlite3.OperationalError("database is locked")), False),
        (RuntimeError("not a database error"), False),
    ],
)
def test_which_errors_mean_the_database_is_unavailable(error: BaseException, unavailable: bool) -> None:
    assert database_unavailable(error) is unavailable


def test_any_other_database_error_is_still_a_500(app: FastAPI) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise sa_exc.ProgrammingError("SELECT", {}, psycopg.errors.UndefinedTable("no such table"))

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json()["code"] == "platform.internal"
    assert "retry-after" not in response.headers
