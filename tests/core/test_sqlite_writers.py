"""SQLite, the embedded default, with several connections: a unit of work that writes takes its turn.

A deferred transaction that reads and then writes is refused at once if another connection committed in
between ("database is locked"); no busy timeout helps. Units of work begin as writers (BEGIN IMMEDIATE)
so they queue instead; read-only ones never wait. These run on a scratch SQLite file whatever the
backend of the test run is.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work

READ = text("SELECT n FROM counter WHERE id = 1")


def _add(amount: int) -> text:  # type: ignore[valid-type]
    return text(f"UPDATE counter SET n = n + {amount} WHERE id = 1")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path}/writers.sqlite3")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        connection.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


def _count(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory, writes=False) as session:
        return int(session.execute(READ).scalar_one())


def test_a_deferred_read_then_write_is_refused_when_another_connection_wrote_between(
    factory: sessionmaker[Session],
) -> None:
    # Why units of work begin as writers: this is the failure they avoid.
    with unit_of_work(factory, writes=False) as reader:
        reader.execute(READ)
        with unit_of_work(factory) as other:
            other.execute(_add(1))
        with pytest.raises(OperationalError, match="locked"):
            reader.execute(_add(10))
    assert _count(factory) == 1


def test_a_writer_reads_then_writes_while_another_writer_waits_its_turn(
    factory: sessionmaker[Session],
) -> None:
    errors: list[BaseException] = []

    def another_writer() -> None:
        try:
            with unit_of_work(factory) as session:
                session.execute(_add(1))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    with unit_of_work(factory) as writer:
        seen = int(writer.execute(READ).scalar_one())
        thread = threading.Thread(target=another_writer)
        thread.start()
        thread.join(timeout=0.3)
        assert thread.is_alive()  # it waits for this transaction instead of slipping in between
        writer.execute(_add(10))
    thread.join(timeout=30)
    assert errors == []
    assert _count(factory) == seen + 11


def test_a_reader_does_not_wait_for_a_writer(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as writer:
        writer.execute(_add(5))
        assert _count(factory) == 0  # at once, from the last committed state
    assert _count(factory) == 5


def test_a_unit_of_work_stays_a_writer_after_a_commit_inside_it(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    def another_writer_gets_in() -> bool:
        probe = sqlite3.connect(str(engine.url.database), timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            probe.close()

    with unit_of_work(factory) as session:
        session.execute(READ)
        assert not another_writer_gets_in()
        session.commit()  # handlers commit before redirecting, then may go on
        session.execute(READ)
        assert not another_writer_gets_in()
    assert another_writer_gets_in()
