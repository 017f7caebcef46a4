"""The grant check without a database round trip: grants cached per (client agency, service), dropped
the moment any grant changes.

A change reaches every process when it becomes visible, not later:
- this process: when the transaction that changed a grant commits (`announce_change`, which every
  grant write in `exchange.service` calls), before the call that revoked it returns;
- other processes (PostgreSQL): by `NOTIFY panjereh_grants`, sent inside that same transaction, which
  PostgreSQL delivers at its commit. Each process listens on its own connection; while that connection
  is down (starting, reconnecting) the cache is not used at all and every check reads the database.

Stale entries are impossible by construction: a read that began before a change is not stored after
it (a generation counter). Grants changed outside the exchange's service (an operator's SQL) reach the
cache within `MAX_AGE_SECONDS`, or at once with `NOTIFY panjereh_grants`.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg
from sqlalchemy import Table, bindparam, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from panjereh.core.db import on_commit
from panjereh.core.logging import get_logger
from panjereh.exchange.models import Grant, GrantStatus

log = get_logger(__name__)

LISTENER_NAME = "panjereh-grants-listener"  # its connection's application_name (pg_stat_activity)
MAX_AGE_SECONDS = 60.0
RECONNECT_SECONDS = 1.0

_GRANTS: Table = Grant.__table__  # type: ignore[assignment]
# Every approved grant of the pair, whatever its dates: the dates are checked per call, so an entry
# stays right as grants start and end.
_APPROVED = select(_GRANTS.c.purposes, _GRANTS.c.valid_from, _GRANTS.c.valid_until, _GRANTS.c.sandbox).where(
    _GRANTS.c.client_agency_code == bindparam("agency"),
    _GRANTS.c.service_code == bindparam("service"),
    _GRANTS.c.status == GrantStatus.APPROVED,
)


@dataclass(frozen=True)
class GrantWindow:
    """One approved grant as the check needs it."""

    purposes: frozenset[str]
    valid_from: datetime
    valid_until: datetime | None
    sandbox: bool = False

    def covers(self, purpose: str, any_purpose: str, at: datetime, sandbox: bool = False) -> bool:
        """Whether the grant lets a call through: the same environment as the client, in time, for
        the purpose. A sandbox grant never serves a production client, nor the reverse."""
        if self.sandbox != sandbox:
            return False
        in_time = self.valid_from <= at and (self.valid_until is None or at < self.valid_until)
        return in_time and (any_purpose in self.purposes or purpose in self.purposes)


def read_windows(connection: Connection, agency: str, service: str) -> tuple[GrantWindow, ...]:
    """The approved grants of a client agency for a service, from the database."""
    rows = connection.execute(_APPROVED, {"agency": agency, "service": service}).all()
    return tuple(
        GrantWindow(frozenset(purposes or ()), start, end, bool(flag)) for purposes, start, end, flag in rows
    )


class GrantCache:
    """Approved grants per (client agency, service); used only while change notices are being heard."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[tuple[GrantWindow, ...], float]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        self._live = False
        self._listener: _Listener | None = None
        _CACHES.add(self)

    @property
    def live(self) -> bool:
        """Whether entries may be used: changes made anywhere are being heard."""
        return self._live

    def cached(self, agency: str, service: str) -> tuple[GrantWindow, ...] | None:
        """The pair's grants if known and fresh, else None (the caller reads them)."""
        if not self._live:
            return None
        entry = self._entries.get((agency, service))
        if entry is None or time.monotonic() - entry[1] > MAX_AGE_SECONDS:
            return None
        return entry[0]

    def windows(
        self, read: Callable[[], tuple[GrantWindow, ...]], agency: str, service: str
    ) -> tuple[GrantWindow, ...]:
        """The pair's grants, from the cache or by `read()`; a read overtaken by a change is not kept."""
        hit = self.cached(agency, service)
        if hit is not None:
            return hit
        generation = self._generation
        windows = read()
        with self._lock:
            if self._live and generation == self._generation:
                self._entries[(agency, service)] = (windows, time.monotonic())
        return windows

    def invalidate(self) -> None:
        """Forget every entry (a grant changed somewhere)."""
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def _set_live(self, live: bool) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self._live = live

    def listen(self, engine: Engine) -> None:
        """Hear grant changes made by other processes (PostgreSQL); elsewhere the cache stays unused."""
        if engine.dialect.name != "postgresql" or self._listener is not None:
            return
        self._listener = _Listener(self, engine.url.set(drivername="postgresql").render_as_string(False))
        self._listener.start()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        self._set_live(False)


_CACHES: weakref.WeakSet[GrantCache] = weakref.WeakSet()


GRANTS_CHANNEL = "panjereh_grants"
_ANNOUNCED = "exchange.grants_changed"  # session.info: this transaction has announced a grant change


def announce_change(session: Session) -> None:
    """A grant changed in this session's transaction: once it commits, every grants cache forgets.

    Every write of a grant (`exchange.service`) calls this. On PostgreSQL a NOTIFY, delivered when (and
    only if) the transaction commits, reaches every process's listener; this process's caches are
    emptied at the commit itself."""
    if session.info.get(_ANNOUNCED):
        return
    session.info[_ANNOUNCED] = True
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"NOTIFY {GRANTS_CHANNEL}")

    def ended() -> None:
        session.info.pop(_ANNOUNCED, None)

    def committed() -> None:
        ended()
        invalidate_everywhere_in_process()

    on_commit(session, committed, on_rollback=ended)


def invalidate_everywhere_in_process() -> None:
    for cache in list(_CACHES):
        cache.invalidate()


class _Listener(threading.Thread):
    """LISTEN on its own autocommit connection; every notice (or a lost connection) empties the cache."""

    def __init__(self, cache: GrantCache, dsn: str) -> None:
        super().__init__(name="exchange-grants-listener", daemon=True)
        self._cache = weakref.ref(cache)
        self._dsn = dsn
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self._dsn, autocommit=True, connect_timeout=5, application_name=LISTENER_NAME
                ) as connection:
                    connection.execute(f"LISTEN {GRANTS_CHANNEL}")
                    cache = self._cache()
                    if cache is None:
                        return
                    cache._set_live(True)  # only now: a change from here on is heard
                    del cache
                    while not self._stop.is_set():
                        for _notice in connection.notifies(timeout=0.5):
                            cache = self._cache()
                            if cache is None:
                                return
                            cache.invalidate()
                            del cache
            except psycopg.Error as exc:
                log.warning("exchange.grants_listener_lost", error=str(exc))
            finally:
                cache = self._cache()
                if cache is not None:
                    cache._set_live(False)
                    del cache
            self._stop.wait(RECONNECT_SECONDS)
