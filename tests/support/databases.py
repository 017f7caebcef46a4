"""Test databases: a fresh SQLite file or a fresh PostgreSQL database per test process, migrated."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from panjereh import migrations
from panjereh.core.db import make_engine

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/panjereh_test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


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
    database = f"{url.database}_{name_suffix}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return url.set(database=database).render_as_string(hide_password=False)


def migrated_engine(url: str) -> Engine:
    """An engine on a database brought to the newest schema."""
    engine = make_engine(url)
    migrations.upgrade(engine)
    return engine
