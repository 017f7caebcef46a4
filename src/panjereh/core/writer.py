"""A buffered writer: items wait in memory and a background thread writes them in batches.

For records that must not slow the path that makes them and may reach the database a moment later: the
exchange's message log, the portal's visits. A domain subclasses `BufferedWriter` and supplies only
`write(session, batch)`, which flushes and never commits; the writer owns each batch's transaction (begun
as a writer, `core.db.intend_to_write`).

Submitting appends to a deque: no lock is taken and no thread is woken per item (a wake-up per item
costs the caller a GIL hand-off). The thread wakes every `flush_seconds`, or once a whole batch waits,
and writes everything buffered in batches of at most `batch_size`.

Modes: `thread` (the above, the thread started on first use); `inline` (each item written before
`submit` returns, under `guard`), for where every session shares one connection, as in the test
harness's rolled-back transaction, where a second connection could never write beside it; `manual`
(buffered until `flush`). `None` decides on first use: inline when sessions share one connection,
else a thread.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager, closing, nullcontext
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from panjereh.core.db import intend_to_write
from panjereh.core.logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")
Mode = Literal["thread", "inline", "manual"]
WhenFull = Literal["wait", "drop_oldest"]


class BufferedWriter(ABC, Generic[T]):
    """Buffers items and writes them in batches, one transaction per batch."""

    thread_name = "buffered-writer"

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        mode: Mode | None,
        batch_size: int,
        flush_seconds: float,
        max_pending: int,
        when_full: WhenFull,
        retry: bool,
    ) -> None:
        """`when_full`: make `submit` wait for room, or drop the oldest item; `retry`: a failed batch is
        tried again (with a growing pause) until written, or logged and dropped."""
        self.session_factory = session_factory
        self._mode = mode
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.max_pending = max_pending
        self.retry = retry
        self.buffer: deque[T] = deque(maxlen=max_pending if when_full == "drop_oldest" else None)
        self._room = threading.Condition() if when_full == "wait" else None
        self._writing = 0  # items taken from the buffer and not yet committed
        self._drain_lock = threading.Lock()  # one drainer at a time: batches commit in submission order
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._guard: AbstractContextManager[Any] | None = None
        self.written = 0
        self.failed_batches = 0

    @abstractmethod
    def write(self, session: Session, batch: list[T]) -> int:
        """Write a batch in `session` (flush, never commit); return how many rows it stands for."""

    @property
    def mode(self) -> Mode:
        """How items are written; decided on first use when not given (the session factory is final then)."""
        if self._mode is None:
            with closing(self.session_factory()) as session:
                self._mode = "inline" if isinstance(session.bind, Connection) else "thread"
        return self._mode

    @property
    def inline(self) -> bool:
        """Whether items are written before `submit` returns."""
        return self.mode == "inline"

    @property
    def guard(self) -> AbstractContextManager[Any]:
        """Held around every database use of the shared connection when inline: one connection, one user."""
        if self._guard is None:
            self._guard = threading.RLock() if self.inline else nullcontext()
        return self._guard

    # -- submitting ---------------------------------------------------------------------------------

    def submit(self, item: T) -> None:
        """Hand an item to the writer; inline mode writes it before returning."""
        mode = self._mode or self.mode  # the attribute first: this runs on every call
        if mode == "inline":
            with self.guard:
                self.write_batch([item])
            return
        buffer = self.buffer
        if mode == "thread":
            if self._thread is None:
                self._start()
            if self._room is not None and len(buffer) >= self.max_pending:
                self._wait_for_room()  # back-pressure rather than losing items
        buffer.append(item)
        if len(buffer) == self.batch_size:  # once, as the batch fills: setting an Event takes a lock
            self._wake.set()

    def _wait_for_room(self) -> None:
        assert self._room is not None
        with self._room:
            while len(self.buffer) >= self.max_pending:
                self._room.wait(timeout=0.1)

    def pending(self) -> int:
        """Items waiting to be written."""
        return len(self.buffer) + self._writing

    def flush(self) -> int:
        """Write everything buffered now, on the caller's thread; return the rows written."""
        return self._drain()

    def close(self) -> None:
        """Stop the thread and write what is left."""
        thread = self._thread
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join(timeout=30)
            self._thread = None
            self._stop.clear()
            if thread.is_alive():  # stuck on an unreachable database: it keeps what it holds
                return
        self.flush()

    # -- the thread ---------------------------------------------------------------------------------

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            stopping = self._stop.is_set()
            self._drain()
            if stopping:
                return

    def _drain(self) -> int:
        """Write everything buffered, in batches of at most `batch_size`."""
        total = 0
        with self._drain_lock:
            while self.buffer:
                size = min(self.batch_size, len(self.buffer))
                self._writing = size  # before taking them: `pending` never reads zero while a batch is out
                batch = [self.buffer.popleft() for _ in range(size)]
                try:
                    total += self._write_or_retry(batch)
                finally:
                    self._writing = 0
                if self._room is not None:
                    with self._room:
                        self._room.notify_all()
        return total

    def _write_or_retry(self, batch: list[T]) -> int:
        pause = 0.05
        while True:
            try:
                return self.write_batch(batch)
            except Exception:
                self.failed_batches += 1
                log.exception(
                    "buffered_write_failed", writer=self.thread_name, size=len(batch), retry=self.retry
                )
                if not self.retry:
                    return 0
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    # -- writing ------------------------------------------------------------------------------------

    def write_batch(self, batch: list[T]) -> int:
        """Write a batch in a transaction of its own."""
        with closing(self.session_factory()) as session, session.begin():
            intend_to_write(session)
            count = self.write(session, batch)
        self.written += count
        return count
