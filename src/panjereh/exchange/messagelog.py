"""The message log writer: entries queue up and a thread appends them to the chain in batches."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager, closing, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from panjereh.core.db import intend_to_write, utcnow
from panjereh.core.logging import get_logger
from panjereh.exchange.chain import GENESIS, entry_hash, seal_message
from panjereh.exchange.models import LATENCY_BOUNDS_MS, InquiryStat, LedgerEntry, LogEntry, LogHead, LogSeal
from panjereh.exchange.signing import LogSigner

log = get_logger(__name__)

SessionFactory = Callable[[], Session]
_LOG_TABLE: Table = LogEntry.__table__  # type: ignore[assignment]
_LEDGER_TABLE: Table = LedgerEntry.__table__  # type: ignore[assignment]
# Core inserts of plain rows: the ORM's bulk path costs several times more per entry.
LEDGER_OUTCOMES = frozenset({"ok", "not_found", "rejected"})  # the provider answered: data was looked at


@dataclass
class LogRecord:
    """What the gateway knows about one call when it ends."""

    message_id: str
    at: datetime
    client_agency_code: str
    client_id: str
    service_code: str
    provider_agency_code: str
    subject: str | None
    purpose: str
    case_ref: str | None
    method: str
    path: str
    status: int
    outcome: str
    duration_ms: float
    request_digest: str
    response_digest: str
    request_body: str | None = None
    response_body: str | None = None

    @property
    def side(self) -> str:
        """Which side a failure belongs to: ok, client, provider or platform."""
        if self.outcome in ("ok", "not_found"):
            return "ok"
        if self.outcome == "rejected" or self.outcome.startswith("client."):
            return "client"
        if self.outcome.startswith("provider."):
            return "provider"
        return "platform"


def _bucket_index(duration_ms: float) -> int:
    for index, bound in enumerate(LATENCY_BOUNDS_MS):
        if duration_ms <= bound:
            return index
    return len(LATENCY_BOUNDS_MS)


def _upsert_stats(session: Session, records: list[LogRecord]) -> None:
    rows: dict[tuple[datetime, str, str], dict[str, Any]] = {}
    for record in records:
        bucket = record.at.replace(minute=0, second=0, microsecond=0)
        key = (bucket, record.client_agency_code, record.service_code)
        row = rows.get(key)
        if row is None:
            row = {
                "bucket": bucket,
                "client_agency_code": record.client_agency_code,
                "service_code": record.service_code,
                "provider_agency_code": record.provider_agency_code,
                "count": 0,
                "ok": 0,
                "client_errors": 0,
                "provider_errors": 0,
                "platform_errors": 0,
                "total_ms": 0.0,
                "max_ms": 0.0,
                **{f"h{i}": 0 for i in range(len(LATENCY_BOUNDS_MS) + 1)},
            }
            rows[key] = row
        row["count"] += 1
        side = record.side
        row["ok" if side == "ok" else f"{side}_errors"] += 1
        row["total_ms"] += record.duration_ms
        row["max_ms"] = max(row["max_ms"], record.duration_ms)
        row[f"h{_bucket_index(record.duration_ms)}"] += 1
    if not rows:
        return
    session.execute(_stats_upsert(session.get_bind().dialect.name), list(rows.values()))


@cache
def _stats_upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE adding a batch's counts to the hour's row (built once per dialect)."""
    dialect_insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table: Any = InquiryStat.__table__
    statement = dialect_insert(table)
    additive = ["count", "ok", "client_errors", "provider_errors", "platform_errors", "total_ms"]
    additive += [f"h{i}" for i in range(len(LATENCY_BOUNDS_MS) + 1)]
    updates: dict[str, Any] = {name: table.c[name] + statement.excluded[name] for name in additive}
    updates["max_ms"] = func.max(table.c.max_ms, statement.excluded.max_ms)
    if dialect == "postgresql":
        updates["max_ms"] = func.greatest(table.c.max_ms, statement.excluded.max_ms)
    return statement.on_conflict_do_update(
        index_elements=["bucket", "client_agency_code", "service_code"], set_=updates
    )


class LogWriter:
    """Appends records to the hash chain, the citizen ledger and the stats, one transaction per batch."""

    def __init__(
        self,
        session_factory: SessionFactory,
        signer: LogSigner,
        *,
        inline: bool | None,
        batch_size: int = 500,
        flush_ms: int = 50,
        queue_max: int = 100_000,
        seal_every_seconds: int = 60,
    ) -> None:
        self.session_factory = session_factory
        self.signer = signer
        self._inline = inline
        self.batch_size = batch_size
        self.flush_seconds = flush_ms / 1000
        self.seal_every = timedelta(seconds=seal_every_seconds)
        # A plain deque, not a queue.Queue: appending wakes no thread. The writer sleeps `flush_ms` and
        # then takes everything; waking it on every record cost each call a GIL hand-off (latency).
        self._buffer: deque[LogRecord] = deque()
        self._queue_max = queue_max
        self._writing = 0  # records taken from the buffer and not yet committed
        self._room = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._last_seal: datetime | None = None
        self._guard: AbstractContextManager[Any] | None = None
        self.written = 0
        self.failed_batches = 0

    @property
    def inline(self) -> bool:
        """Whether records are written before `submit` returns.

        Undecided (`None`) means: inline exactly when every session shares one connection, as in the
        test harness, where a second connection could never write beside the test's open transaction;
        a thread writing batches otherwise. Decided on first use, when the session factory is final.
        """
        if self._inline is None:
            with closing(self.session_factory()) as session:
                self._inline = isinstance(session.bind, Connection)
        return self._inline

    @property
    def guard(self) -> AbstractContextManager[Any]:
        """Held around every database use of the exchange when inline: one connection, one user."""
        if self._guard is None:
            self._guard = threading.RLock() if self.inline else nullcontext()
        return self._guard

    # -- submitting ---------------------------------------------------------------------------------

    def submit(self, record: LogRecord) -> None:
        """Hand a record to the log; inline mode writes it before returning."""
        if self.inline:
            with self.guard:
                self.write_batch([record])
            return
        if self._thread is None:
            self._start()
        if len(self._buffer) >= self._queue_max:  # back-pressure rather than losing entries
            with self._room:
                while len(self._buffer) >= self._queue_max:
                    self._room.wait(timeout=0.1)
        self._buffer.append(record)

    def pending(self) -> int:
        """Records waiting to be written."""
        return len(self._buffer) + self._writing

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every submitted record is written."""
        if self._thread is None:
            return
        deadline = time.monotonic() + timeout
        while self.pending() and time.monotonic() < deadline:
            time.sleep(0.005)

    def close(self) -> None:
        """Write what is queued and stop the thread."""
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout=30)
        self._thread = None
        self._stop.clear()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="exchange-log-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(self.flush_seconds)
            self._drain()
            if stopping:
                return

    def _drain(self) -> None:
        """Write everything buffered, in batches of at most `batch_size`."""
        while self._buffer:
            size = min(self.batch_size, len(self._buffer))
            self._writing = size  # before taking them: `pending` never reads zero while a batch is out
            batch = [self._buffer.popleft() for _ in range(size)]
            try:
                self._write_with_retry(batch)
            finally:
                self._writing = 0
            with self._room:
                self._room.notify_all()

    def _write_with_retry(self, batch: list[LogRecord]) -> None:
        # A lost batch would be a hole in the audit trail: keep trying, with a growing pause.
        pause = 0.05
        while True:
            try:
                self.write_batch(batch)
                return
            except Exception:
                self.failed_batches += 1
                log.exception("exchange_log_batch_failed", size=len(batch))
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    # -- writing ------------------------------------------------------------------------------------

    def write_batch(self, batch: list[LogRecord]) -> None:
        """Append a batch: chain entries, ledger rows and stats in one transaction."""
        session = self.session_factory()
        try:
            intend_to_write(session)
            head = session.scalars(select(LogHead).where(LogHead.id == 1).with_for_update()).one_or_none()
            if head is None:
                head = LogHead(id=1, last_seq=0, last_hash=GENESIS, anchor_seq=0, anchor_hash=GENESIS)
                session.add(head)
                session.flush()
            seq, prev = head.last_seq, head.last_hash
            entries: list[dict[str, Any]] = []
            ledger: list[dict[str, Any]] = []
            for record in batch:
                fields = dict(
                    vars(record)
                )  # shallow: the values are immutable (asdict deep-copies, 1/3 of a batch)
                fields["duration_ms"] = round(record.duration_ms, 3)
                seq += 1
                current = entry_hash(prev, fields)
                entries.append({**fields, "seq": seq, "prev_hash": prev, "entry_hash": current})
                prev = current
                if record.subject and record.outcome in LEDGER_OUTCOMES:
                    ledger.append(
                        {
                            "id": record.message_id,
                            "message_id": record.message_id,
                            "subject": record.subject,
                            "at": record.at,
                            "client_agency_code": record.client_agency_code,
                            "service_code": record.service_code,
                            "provider_agency_code": record.provider_agency_code,
                            "purpose": record.purpose,
                            "case_ref": record.case_ref,
                            "status": record.status,
                        }
                    )
            session.execute(insert(_LOG_TABLE), entries)
            if ledger:
                session.execute(insert(_LEDGER_TABLE), ledger)
            _upsert_stats(session, batch)
            head.last_seq, head.last_hash = seq, prev
            self._maybe_seal(session, seq, prev)
            session.commit()
            self.written += len(batch)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _maybe_seal(self, session: Session, seq: int, head_hash: str) -> None:
        now = utcnow()
        if self._last_seal is None:
            self._last_seal = session.scalar(select(func.max(LogSeal.sealed_at)))
        if self._last_seal is not None and now - self._last_seal < self.seal_every:
            return
        add_seal(session, self.signer, seq, head_hash, now)
        self._last_seal = now


def add_seal(session: Session, signer: LogSigner, seq: int, head_hash: str, at: datetime) -> LogSeal:
    """Sign the chain head as it stands."""
    seal = LogSeal(
        seq=seq,
        head_hash=head_hash,
        sealed_at=at,
        key_id=signer.key_id,
        signature=signer.sign(seal_message(seq, head_hash, at)),
    )
    session.add(seal)
    session.flush()
    return seal


def seal_head(session: Session, signer: LogSigner) -> LogSeal | None:
    """Seal the current head now (the CLI and the scheduler call this).

    None when there is nothing new to sign: the log is empty, or the newest seal already covers the head.
    """
    head = session.get(LogHead, 1)
    if head is None or head.last_seq == head.anchor_seq:
        return None
    newest = session.execute(
        select(LogSeal.seq, LogSeal.head_hash).order_by(LogSeal.id.desc()).limit(1)
    ).one_or_none()
    if newest is not None and tuple(newest) == (head.last_seq, head.last_hash):
        return None
    return add_seal(session, signer, head.last_seq, head.last_hash, utcnow())
