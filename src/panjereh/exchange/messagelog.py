"""The message log writer: entries queue up and a thread appends them to the chain in batches."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from panjereh.core.db import intend_to_write, utcnow
from panjereh.core.logging import get_logger
from panjereh.core.writer import BufferedWriter
from panjereh.exchange.chain import GENESIS, entry_hash, seal_message
from panjereh.exchange.models import LATENCY_BOUNDS_MS, InquiryStat, LedgerEntry, LogEntry, LogHead, LogSeal
from panjereh.exchange.signing import LogSigner
from panjereh.exchange.witness import Witness

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
    sandbox: bool = False  # a sandbox client's call: in the chain, never in the ledger or the figures
    trace_id: str | None = None  # the W3C trace of the request that made the call (core.tracing)

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
        if record.sandbox:  # sandbox calls are not the exchange's figures
            continue
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


class LogWriter(BufferedWriter[LogRecord]):
    """Appends records to the hash chain, the citizen ledger and the stats, one transaction per batch.

    A record's call never waits for the database: the writer thread takes the buffer every `flush_ms`.
    Undecided `inline` (`None`) means inline exactly when every session shares one connection (the test
    harness). A full buffer (`queue_max`) makes callers wait rather than lose entries, and a failed batch
    is tried again until written: a lost batch would be a hole in the audit trail.
    """

    thread_name = "exchange-log-writer"

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
        witness: Witness | None = None,
    ) -> None:
        super().__init__(
            session_factory,
            mode=None if inline is None else "inline" if inline else "thread",
            batch_size=batch_size,
            flush_seconds=flush_ms / 1000,
            max_pending=queue_max,
            when_full="wait",
            retry=True,
        )
        self.signer = signer
        self.seal_every = timedelta(seconds=seal_every_seconds)
        self._last_seal: datetime | None = None
        self.witness = witness
        self._sealed = False

    def write_batch(self, batch: list[LogRecord]) -> int:
        """Write a batch in its own transaction; a seal it made is witnessed once committed."""
        self._sealed = False
        count = super().write_batch(batch)
        if self._sealed and self.witness is not None:
            witness_quietly(self.session_factory, self.witness)
        return count

    def write(self, session: Session, batch: list[LogRecord]) -> int:
        """Append a batch: chain entries, ledger rows and stats, under the locked head."""
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
            if record.subject and record.outcome in LEDGER_OUTCOMES and not record.sandbox:
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
        return len(batch)

    def _maybe_seal(self, session: Session, seq: int, head_hash: str) -> None:
        now = utcnow()
        if self._last_seal is None:
            self._last_seal = session.scalar(select(func.max(LogSeal.sealed_at)))
        if self._last_seal is not None and now - self._last_seal < self.seal_every:
            return
        add_seal(session, self.signer, seq, head_hash, now)
        self._last_seal = now
        self._sealed = True


def add_seal(session: Session, signer: LogSigner, seq: int, head_hash: str, at: datetime) -> LogSeal:
    """Sign the chain head as it stands."""
    key_id, signature = signer.sign(seal_message(seq, head_hash, at))
    seal = LogSeal(seq=seq, head_hash=head_hash, sealed_at=at, key_id=key_id, signature=signature)
    session.add(seal)
    session.flush()
    return seal


def seal_head(session: Session, signer: LogSigner) -> LogSeal | None:
    """Seal the current head now (the CLI and the scheduler call this).

    None when there is nothing new to sign: the log is empty, or the newest seal already covers the head.
    """
    # Under the head's lock, as the writer seals: seal ids then commit in order, which the witness needs.
    head = session.scalars(select(LogHead).where(LogHead.id == 1).with_for_update()).one_or_none()
    if head is None or head.last_seq == head.anchor_seq:
        return None
    newest = session.execute(
        select(LogSeal.seq, LogSeal.head_hash).order_by(LogSeal.id.desc()).limit(1)
    ).one_or_none()
    if newest is not None and tuple(newest) == (head.last_seq, head.last_hash):
        return None
    return add_seal(session, signer, head.last_seq, head.last_hash, utcnow())


def witness_quietly(session_factory: SessionFactory, witness: Witness) -> int:
    """Append committed seals to the witness file; a failure is logged, not raised.

    The seals are committed already, so the caller's work must not be undone or retried for this; the
    seal job appends whatever was missed on its next run.
    """
    try:
        with closing(session_factory()) as session:
            return witness.witness_seals(session)
    except Exception:
        log.exception("exchange_witness_failed", path=str(witness.path))
        return 0


def seal_and_witness(session_factory: SessionFactory, signer: LogSigner, witness: Witness) -> LogSeal | None:
    """Seal the head if it moved (one transaction), then witness every seal not yet in the witness file."""
    with closing(session_factory()) as session, session.begin():
        intend_to_write(session)
        seal = seal_head(session, signer)
        if seal is not None:
            session.expunge(seal)
    with closing(session_factory()) as session:
        witness.witness_seals(session)
    return seal
