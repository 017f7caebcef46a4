"""Database foundations: the declarative base, engines for SQLite and PostgreSQL, and units of work."""

from __future__ import annotations

import enum
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy
from sqlalchemy import DateTime, Enum, MetaData, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, SessionTransaction, mapped_column, sessionmaker
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from panjereh.core.config import Settings

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A random 128-bit identifier as 32 hex characters."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: store UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum_class: type[enum.Enum], length: int = 30) -> Enum:
    """An enum column stored as its readable value in a VARCHAR, the same on SQLite and PostgreSQL."""
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """The base of every table in every domain."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class TimestampMixin:
    """Creation and update instants, in UTC."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """An engine for the URL, with SQLite tuned for a busy single machine."""
    # Looked up on the module at each call, not imported by name: OpenTelemetry's SQLAlchemy
    # instrumentation (core/otel.py, when on) wraps `sqlalchemy.create_engine` to trace every engine.
    create_engine = sqlalchemy.create_engine
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's documented recipe is to turn
    # it off and emit BEGIN ourselves (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    # WAL lets the portal read while a job writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


T = TypeVar("T")

# An execution option: the transaction will write. See `intend_to_write`.
WRITE_INTENT = "panjereh_write_intent"


def _sqlite_begin(connection: Any) -> None:
    # A deferred BEGIN reads from a snapshot; if another connection commits before this transaction's
    # first write, that write is refused at once ("database is locked", SQLITE_BUSY_SNAPSHOT) and the
    # busy timeout cannot help. A transaction that means to write takes the write lock up front and
    # waits its turn instead; read-only ones stay deferred (in WAL mode readers never wait).
    immediate = connection.get_execution_options().get(WRITE_INTENT, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (pages render after the unit of work)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def settings_sessionmaker(settings: Settings, *, pool_size: int = 10) -> sessionmaker[Session]:
    """Sessions on the settings' database through an engine of their own (a CLI command's, a worker's)."""
    return make_sessionmaker(make_engine(settings.resolved_database_url, pool_size=pool_size))


def already_loaded(session: Session, cls: type[T], **unique: Any) -> T | None:
    """An instance of `cls` this session has already loaded whose attributes equal `unique`, or None.

    For lookups by a unique key that is not the primary key (which `Session.get` answers from the
    identity map by itself): a unit of work that has loaded the row, or preloaded it in a join, is not
    sent to the database again for it. Scans the identity map's keys, which are few in a unit of work.
    """
    identity_map = session.identity_map
    for key in identity_map.keys():  # noqa: SIM118 — IdentityMap is not a dict
        if key[0] is not cls:
            continue
        instance = identity_map.get(key)
        if instance is None:
            continue
        loaded = instance_dict(instance)  # what is loaded: an expired attribute is not read (no SQL)
        if all(name in loaded and loaded[name] == value for name, value in unique.items()):
            return cast(T, instance)
    return None


def outermost_commit(session: Session) -> bool:
    """In an `after_commit` listener: whether the commit announced is the whole transaction's.

    SQLAlchemy announces a savepoint's release (`begin_nested`) as a commit too, while the data is still
    uncommitted; whatever waits for the data to be committed (a message to send, a job to start, a
    cache to empty) must wait for the outermost commit.
    """
    return not session.in_nested_transaction()


_ON_COMMIT = "core.on_commit"  # session.info key: (transaction, on commit, on rollback) waiting


def on_commit(
    session: Session, callback: Callable[[], None], *, on_rollback: Callable[[], None] | None = None
) -> None:
    """Run `callback` once the session's transaction commits, as a whole; `on_rollback` if it does not.

    For what must follow the data and never precede it: a message to send, a job to start. A savepoint
    (`begin_nested`) that is released is no commit; one that is rolled back drops what was registered
    inside it. Begins a transaction if none has begun yet: the callback belongs to one.
    """
    session.connection()
    waiting: list[tuple[SessionTransaction, Callable[[], None], Callable[[], None] | None]] | None
    waiting = session.info.get(_ON_COMMIT)
    if waiting is None:
        waiting = session.info[_ON_COMMIT] = []
        event.listen(session, "after_commit", _run_on_commit)
        event.listen(session, "after_soft_rollback", _drop_rolled_back)
        event.listen(session, "after_transaction_end", _drop_uncommitted)
    transaction = session.get_transaction()
    assert transaction is not None
    waiting.append((session.get_nested_transaction() or transaction, callback, on_rollback))


def _run_on_commit(session: Session) -> None:
    if not outermost_commit(session):  # a savepoint's release: nothing is committed yet
        return
    waiting = session.info.get(_ON_COMMIT) or []
    ready = list(waiting)
    waiting.clear()
    for _transaction, callback, _on_rollback in ready:
        callback()


def _drop_rolled_back(session: Session, previous: SessionTransaction) -> None:
    waiting = session.info.get(_ON_COMMIT) or []
    dropped = [entry for entry in waiting if _within(entry[0], previous)]
    waiting[:] = [entry for entry in waiting if not _within(entry[0], previous)]
    for _transaction, _callback, on_rollback in dropped:
        if on_rollback is not None:
            on_rollback()


def _drop_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # After a commit nothing is left; after a close without one, what is left never runs.
    if transaction.parent is None:
        _drop_rolled_back(session, transaction)


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def intend_to_write(session: Session) -> None:
    """Begin the session's current transaction as a writer (call before its first statement).

    On SQLite this is BEGIN IMMEDIATE (see `_sqlite_begin`), so a read followed by a write can never be
    refused because another connection wrote in between; PostgreSQL needs nothing more than its MVCC.
    For sessions made elsewhere (the log and visit writers); `unit_of_work` does this for every
    transaction of its session, including those after a commit inside the block.
    """
    session.connection(execution_options={WRITE_INTENT: True})


@contextmanager
def unit_of_work(factory: sessionmaker[Session], *, writes: bool = True) -> Iterator[Session]:
    """One transaction: commit when the block ends normally, roll back when it raises.

    `writes=False` is for units of work that only read: on SQLite they do not queue behind writers.
    """
    session = factory(execution_options={WRITE_INTENT: True}) if writes else factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_AUTOCOMMIT: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def autocommit_engine(engine: Engine) -> Engine:
    """The same engine and pool, each statement committing on its own (PostgreSQL only; cached)."""
    shared = _AUTOCOMMIT.get(engine)
    if shared is None:
        shared = _AUTOCOMMIT[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return shared


@contextmanager
def one_statement(factory: sessionmaker[Session], *, writes: bool = True) -> Iterator[Session]:
    """A session for work that is a single statement: a read, or one atomic UPDATE ... RETURNING.

    On PostgreSQL it runs in autocommit, so psycopg sends no BEGIN and no COMMIT: one round trip
    instead of three, which is most of the cost of a short statement on a busy machine. SQLite, and
    sessions bound to one connection (the tests' transaction), get an ordinary unit of work (`writes`
    as for `unit_of_work`).
    """
    bind = factory.kw.get("bind")
    if not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
        with unit_of_work(factory, writes=writes) as session:
            yield session
        return
    session = factory(bind=autocommit_engine(bind))
    try:
        yield session
    finally:
        session.close()


_WAIT_SLOTS: weakref.WeakKeyDictionary[Engine, threading.BoundedSemaphore] = weakref.WeakKeyDictionary()
_WAIT_SLOTS_LOCK = threading.Lock()


def take_wait_slot(factory: sessionmaker[Session]) -> Callable[[], None] | None:
    """Leave to keep a transaction of this factory open while waiting on something else (a registry's
    answer): its release, or None when the transaction should open once the wait is over instead.

    Only where that holds back no other writer: PostgreSQL locks rows, SQLite the whole database, and
    sessions bound to one connection (the tests' transaction) share it. And for at most half the pool's
    steady size at once: a connection held while waiting must never be one that other work (the wait
    itself, other requests) is queued for.
    """
    bind = factory.kw.get("bind")
    if not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
        return None
    with _WAIT_SLOTS_LOCK:
        slots = _WAIT_SLOTS.get(bind)
        if slots is None:
            size = bind.pool.size() if isinstance(bind.pool, QueuePool) else 1
            slots = _WAIT_SLOTS[bind] = threading.BoundedSemaphore(max(1, size // 2))
    if not slots.acquire(blocking=False):
        return None
    return slots.release


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer a trivial query."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


# PostgreSQL's SQLSTATE classes that mean "the server cannot serve you now", not "your statement is
# wrong": 08 connection exception, 53 insufficient resources, 57P operator intervention (shutdown,
# crash, "the database system is starting up").
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")


def database_unavailable(error: BaseException) -> bool:
    """Whether the error says the database cannot be reached now (a restart, a failover, no connection
    free in the pool), as opposed to a fault of the statement or of the code."""
    from sqlalchemy import exc as sa_exc

    if isinstance(error, sa_exc.TimeoutError):  # the pool had no connection to give in time
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated:  # SQLAlchemy recognised a disconnect
        return True
    orig = error.orig
    if type(orig).__module__.split(".")[0] != "psycopg" or not isinstance(error, sa_exc.OperationalError):
        return False
    # A failure to connect has no SQLSTATE (refused, reset, DNS); a server's answer has one.
    sqlstate: str | None = getattr(orig, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
