"""Timestamps are stored and read back in UTC; units of work commit or roll back as a whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from panjereh.core.db import UTCDateTime, make_sessionmaker, take_wait_slot, utcnow


class _Scratch(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class Event(_Scratch):
    __tablename__ = "scratch_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]


@pytest.fixture
def scratch(db: Session) -> Session:
    _Scratch.metadata.create_all(db.connection())
    return db


def test_aware_timestamps_round_trip_as_utc(scratch: Session) -> None:
    tehran = timezone(timedelta(hours=3, minutes=30))
    scratch.add(Event(id=1, name="x", at=datetime(2023, 3, 21, 3, 30, tzinfo=tehran)))
    scratch.flush()
    scratch.expire_all()
    stored = scratch.scalars(select(Event.at)).one()
    assert stored == datetime(2023, 3, 21, 0, 0, tzinfo=UTC)
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(scratch: Session) -> None:
    scratch.add(Event(id=2, name="naive", at=datetime(2023, 3, 21)))  # noqa: DTZ001
    with pytest.raises(Exception, match="naive"):
        scratch.flush()


def test_utcnow_is_aware() -> None:
    assert utcnow().tzinfo is UTC


def test_transactions_wait_open_only_on_postgresql_and_only_for_half_the_pool() -> None:
    sqlite = make_sessionmaker(create_engine("sqlite://"))
    assert take_wait_slot(sqlite) is None  # SQLite's write lock is the whole database's
    # No connection is made: the slots are counted from the pool's size alone.
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_size=6)
    factory = make_sessionmaker(engine)
    slots = [take_wait_slot(factory) for _ in range(4)]
    assert [slot is not None for slot in slots] == [True, True, True, False]
    release = slots[0]
    assert release is not None
    release()
    assert take_wait_slot(factory) is not None  # given back, taken again
