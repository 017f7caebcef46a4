"""The grants cache: used only while changes are heard, emptied by a change made in this process (at
its commit) or in another (PostgreSQL NOTIFY), never refilled by a read that a change overtook."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.config import Settings
from panjereh.core.db import make_sessionmaker, unit_of_work, utcnow
from panjereh.exchange import grants, service
from panjereh.exchange.client import PLATFORM_CALLER, PlatformClient
from panjereh.exchange.exceptions import GrantMissing
from panjereh.exchange.models import Grant
from tests.conftest import WORKER
from tests.exchange.conftest import ALI
from tests.support import databases
from tests.support.factories import seed_exchange_data

postgres_only = pytest.mark.skipif(
    databases.backend() != "postgresql", reason="change notices are PostgreSQL's LISTEN/NOTIFY"
)
SERVICE = "civil-registry.person"


def _wait_until(condition: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def test_a_read_overtaken_by_a_change_is_not_kept() -> None:
    cache = grants.GrantCache()
    cache._set_live(True)  # as the listener does once it hears changes
    window = grants.GrantWindow(frozenset({"login"}), utcnow() - timedelta(days=1), None)

    def read_while_a_grant_changes() -> tuple[grants.GrantWindow, ...]:
        grants.invalidate_everywhere_in_process()  # a commit elsewhere, between our read and our store
        return (window,)

    assert cache.windows(read_while_a_grant_changes, "ito", SERVICE) == (window,)
    assert cache.cached("ito", SERVICE) is None  # answered, but not kept
    assert cache.windows(lambda: (window,), "ito", SERVICE) == (window,)
    assert cache.cached("ito", SERVICE) == (window,)
    cache.close()
    assert cache.cached("ito", SERVICE) is None  # not live: never used


def test_a_window_checks_its_dates_and_purposes() -> None:
    now = utcnow()
    window = grants.GrantWindow(frozenset({"login"}), now - timedelta(hours=1), now + timedelta(hours=1))
    assert window.covers("login", "*", now)
    assert not window.covers("tax", "*", now)
    assert not window.covers("login", "*", now + timedelta(hours=2))  # ended since it was cached
    assert not window.covers("login", "*", now - timedelta(hours=2))
    assert grants.GrantWindow(frozenset({"*"}), now, None).covers("anything", "*", now)


@pytest.fixture
def committed(home: Path, settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A database the code under test commits to, seeded with agencies and the platform's grants."""
    engine = databases.migrated_engine(databases.fresh_database(f"{WORKER}_grants", str(home)))
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        seed_exchange_data(session, settings)
    yield factory
    engine.dispose()


@pytest.fixture
def platform(settings: Settings, committed: sessionmaker[Session]) -> Iterator[PlatformClient]:
    client = PlatformClient(settings, committed)
    yield client
    client.close()


def _listening(platform: PlatformClient) -> None:
    """Wait until the exchange hears grant changes (it starts listening on its first check)."""
    platform.exchange.checks_engine  # noqa: B018 — resolving it starts the listener
    _wait_until(lambda: platform.exchange.grants.live, "the listener hears changes")


def _grant_reads(engine: Engine) -> list[str]:
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        if "exchange_grant" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    return statements


def _ask(platform: PlatformClient) -> None:
    platform.inquire(SERVICE, subject=ALI, purpose="login", path_params={"national_code": ALI})


def _platform_grant(session: Session) -> Grant:
    return session.scalars(
        select(Grant).where(
            Grant.client_agency_code == "ito", Grant.service_code == SERVICE, Grant.sandbox.is_(False)
        )
    ).one()


@postgres_only
def test_grants_are_read_once_and_a_revocation_stops_the_next_call(
    platform: PlatformClient, committed: sessionmaker[Session]
) -> None:
    _listening(platform)
    reads = _grant_reads(platform.exchange.checks_engine)
    _ask(platform)
    _ask(platform)
    assert len(reads) == 1  # the second call read nothing
    assert platform.exchange.checks_cached(PLATFORM_CALLER, SERVICE)  # async callers stay on the loop
    with unit_of_work(committed) as session:
        grant = _platform_grant(session)
        service.revoke_grant(session, grant, provider_agency_code=grant.service.provider.code)
    with pytest.raises(GrantMissing):  # at once: this process learnt it at the commit
        _ask(platform)


@postgres_only
def test_a_revocation_in_another_process_reaches_this_one(
    platform: PlatformClient, committed: sessionmaker[Session], settings: Settings
) -> None:
    _listening(platform)
    _ask(platform)
    assert platform.exchange.grants.cached("ito", SERVICE)
    url = committed.kw["bind"].url.render_as_string(hide_password=False)
    script = (
        "from sqlalchemy import select\n"
        "from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work\n"
        "from panjereh.exchange import service\n"
        "from panjereh.exchange.models import Grant\n"
        f"factory = make_sessionmaker(make_engine({url!r}))\n"
        "with unit_of_work(factory) as session:\n"
        "    grant = session.scalars(select(Grant).where(Grant.client_agency_code == 'ito',"
        f" Grant.service_code == {SERVICE!r}, Grant.sandbox.is_(False))).one()\n"
        "    service.revoke_grant(session, grant, provider_agency_code=grant.service.provider.code)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, env=os.environ.copy(), timeout=60)  # noqa: S603
    _wait_until(lambda: platform.exchange.grants.cached("ito", SERVICE) is None, "the notice arrives")
    with pytest.raises(GrantMissing):
        _ask(platform)


@postgres_only
def test_a_lost_listener_empties_the_cache_until_it_hears_again(
    platform: PlatformClient, committed: sessionmaker[Session]
) -> None:
    cache = platform.exchange.grants
    _listening(platform)
    _ask(platform)
    assert cache.cached("ito", SERVICE)
    with committed.kw["bind"].connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": grants.LISTENER_NAME},
        )
    _wait_until(lambda: cache.cached("ito", SERVICE) is None, "the lost connection empties the cache")
    _wait_until(lambda: cache.live, "the listener reconnects")
    _ask(platform)  # and the cache fills again, read once
    assert cache.cached("ito", SERVICE)


def test_the_cache_is_never_used_where_changes_cannot_be_heard(
    app,
    seeded: Session,
) -> None:
    # The tests' shared transaction (and SQLite) have no listener: every check reads the database,
    # so a revocation inside the same transaction is seen by the next call.
    platform: PlatformClient = app.state.exchange
    _ask(platform)
    assert not platform.exchange.grants.live
    grant = _platform_grant(seeded)
    service.revoke_grant(seeded, grant, provider_agency_code=grant.service.provider.code)
    seeded.commit()
    with pytest.raises(GrantMissing):
        _ask(platform)
