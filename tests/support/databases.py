"""Test databases: a fresh SQLite file or a fresh PostgreSQL database per test process, migrated.

PostgreSQL databases are named by this run (`RUN`) as well as by the worker, so two suites running at once
on one server (two engineers, CI beside a developer) never drop each other's; the run's databases are
dropped when it ends (`drop_run_databases`, from tests/conftest.py)."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from panjereh import migrations
from panjereh.core.db import make_engine

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/panjereh_test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"

# One id per pytest run: the controller sets it before the xdist workers start, and they inherit it.
RUN_VARIABLE = "PANJEREH_TEST_RUN"
RUN = os.environ.setdefault(RUN_VARIABLE, uuid.uuid4().hex[:8])


def backend() -> str:
    """`sqlite` or `postgresql`: which database this test run is for."""
    chosen = os.environ.get("PANJEREH_TEST_DATABASE_URL", "sqlite")
    return "postgresql" if chosen.startswith("postgresql") else "sqlite"


def postgres_url() -> str:
    url = os.environ.get("PANJEREH_TEST_DATABASE_URL", "")
    url = url if url.startswith("postgresql") else DEFAULT_POSTGRES_URL
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def redis_url() -> str | None:
    """Redis for this run: used only in the PostgreSQL run, as in production."""
    if backend() != "postgresql":
        return (
            os.environ.get("PANJEREH_TEST_REDIS_URL") if os.environ.get("PANJEREH_TEST_REDIS_URL") else None
        )
    return os.environ.get("PANJEREH_TEST_REDIS_URL", DEFAULT_REDIS_URL)


def fresh_database(name_suffix: str, sqlite_dir: str) -> str:
    """Create an empty database for this process and return its URL."""
    if backend() == "sqlite":
        return f"sqlite:///{sqlite_dir}/panjereh-{name_suffix}.sqlite3"
    url = make_url(postgres_url())
    database = f"{_run_prefix(url.database)}{name_suffix}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return url.set(database=database).render_as_string(hide_password=False)


def _run_prefix(base: str | None) -> str:
    return f"{base}_{RUN}_"


def _admin_engine() -> Engine:
    return create_engine(make_url(postgres_url()).set(database="postgres"), isolation_level="AUTOCOMMIT")


def drop_run_databases() -> None:
    """Drop the PostgreSQL databases this run made (at the end of the run, on the controller)."""
    if backend() != "postgresql":
        return
    prefix = _run_prefix(make_url(postgres_url()).database)
    admin = _admin_engine()
    with admin.connect() as connection:
        names = connection.scalars(
            text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"), {"prefix": prefix}
        ).all()
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrated_engine(url: str) -> Engine:
    """An engine on a database brought to the newest schema."""
    engine = make_engine(url)
    migrations.upgrade(engine)
    return engine
