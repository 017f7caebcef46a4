"""The buffered writer: batches written off the caller's path, each in its own transaction.

On a scratch SQLite file (the thread needs connections of its own, committed for real), whatever the
backend of the test run is.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
from panjereh.core.writer import BufferedWriter, Mode, WhenFull


class NumberWriter(BufferedWriter[int]):
    """Writes numbers into a table; a number in `failing` fails its batch (once each, when retried)."""

    thread_name = "test-writer"

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        mode: Mode | None = "thread",
        batch_size: int = 10,
        flush_seconds: float = 0.05,
        max_pending: int = 1000,
        when_full: WhenFull = "wait",
        retry: bool = True,
    ) -> None:
        super().__init__(
            factory,
            mode=mode,
            batch_size=batch_size,
            flush_seconds=flush_seconds,
            max_pending=max_pending,
            when_full=when_full,
            retry=retry,
        )
        self.batches: list[list[int]] = []
        self.failing: set[int] = set()

    def write(self, session: Session, batch: list[int]) -> int:
        session.execute(text("INSERT INTO number (n) VALUES (:n)"), [{"n": n} for n in batch])
        self.batches.append(batch)
        failing = self.failing.intersection(batch)
        if failing:
            self.failing -= failing
            raise RuntimeError(f"cannot write {sorted(failing)}")
        return len(batch)


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path}/writer.sqlite3")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE number (n INTEGER NOT NULL)"))
    yield make_sessionmaker(engine)
    engine.dispose()


def _stored(factory: sessionmaker[Session]) -> list[int]:
    with unit_of_work(factory, writes=False) as session:
        return list(session.execute(text("SELECT n FROM number ORDER BY rowid")).scalars())


def _until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_thread_takes_the_buffer_every_interval_not_per_item(factory: sessionmaker[Session]) -> None:
    writer = NumberWriter(factory, flush_seconds=0.3)
    for n in range(5):
        writer.submit(n)
    assert writer.pending() == 5 and _stored(factory) == []  # nothing woke the thread
    _until(lambda: writer.pending() == 0)
    assert _stored(factory) == [0, 1, 2, 3, 4]
    assert writer.batches == [[0, 1, 2, 3, 4]]  # one transaction for the interval's items
    writer.close()


def test_a_whole_batch_waiting_wakes_the_thread_early(factory: sessionmaker[Session]) -> None:
    writer = NumberWriter(factory, batch_size=4, flush_seconds=60)
    for n in range(4):
        writer.submit(n)
    _until(lambda: writer.pending() == 0)
    assert _stored(factory) == [0, 1, 2, 3]
    writer.close()


def test_close_writes_what_is_left_in_batches_in_order(factory: sessionmaker[Session]) -> None:
    writer = NumberWriter(factory, batch_size=3, flush_seconds=60, max_pending=100)
    writer.submit(0)  # starts the thread, which then sleeps for a minute
    for n in range(1, 3):
        writer.submit(n)
    _until(lambda: writer.pending() == 0)
    for n in range(3, 8):
        writer.submit(n)
    writer.close()
    assert _stored(factory) == list(range(8))
    assert writer.written == 8 and max(len(batch) for batch in writer.batches) <= 3


def test_a_failed_batch_is_retried_until_written(factory: sessionmaker[Session]) -> None:
    writer = NumberWriter(factory, mode="manual", retry=True)
    writer.failing = {2}
    for n in range(4):
        writer.submit(n)
    assert writer.flush() == 4
    assert _stored(factory) == [0, 1, 2, 3]  # the failed attempt was rolled back, not written twice
    assert writer.failed_batches == 1


def test_without_retry_a_failed_batch_is_dropped(factory: sessionmaker[Session]) -> None:
    writer = NumberWriter(factory, mode="manual", batch_size=2, retry=False)
    writer.failing = {2}
    for n in range(6):
        writer.submit(n)
    assert writer.flush() == 4
    assert _stored(factory) == [0, 1, 4, 5]
    assert writer.failed_batches == 1


def test_a_full_bounded_buffer_drops_the_oldest(factory: sessionmaker[Session]) -> None:
    writer = NumberWriter(factory, mode="manual", max_pending=3, when_full="drop_oldest")
    for n in range(5):
        writer.submit(n)
    assert list(writer.buffer) == [2, 3, 4]
    writer.flush()
    assert _stored(factory) == [2, 3, 4]


def test_a_full_buffer_makes_submit_wait_for_room(factory: sessionmaker[Session]) -> None:
    writer = NumberWriter(factory, batch_size=100, flush_seconds=0.2, max_pending=3, when_full="wait")
    started = time.monotonic()
    for n in range(5):
        writer.submit(n)  # the fourth waits until the thread has taken the first three
    waited = time.monotonic() - started
    writer.close()
    assert waited >= 0.15
    assert _stored(factory) == [0, 1, 2, 3, 4]


def test_inline_when_every_session_shares_one_connection(factory: sessionmaker[Session]) -> None:
    assert NumberWriter(factory, mode=None).mode == "thread"
    with factory.kw["bind"].connect() as connection:
        transaction = connection.begin()
        shared = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        writer = NumberWriter(shared, mode=None)
        writer.submit(7)  # written before submit returns, inside the open transaction
        assert writer.inline and writer.pending() == 0
        assert connection.execute(text("SELECT n FROM number")).scalars().all() == [7]
        transaction.rollback()
    assert _stored(factory) == []
