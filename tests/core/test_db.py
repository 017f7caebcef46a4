"""Timestamps are stored and read back in UTC; units of work commit or roll back as a whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from panjereh.core.db import UTCDateTime, utcnow


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
