"""The database held to its witness: every head witnessed outside it must still be in the chain, every
witnessed seal still in its table, and the witness file (or a mirror of it) a chain of signed lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.exchange.chain import seal_message
from panjereh.exchange.findings import Finding, VerifyReport
from panjereh.exchange.models import LogEntry, LogHead, LogSeal
from panjereh.exchange.signing import LogSigner
from panjereh.exchange.timestamps import TimestampError, verify_token
from panjereh.exchange.witness import GENESIS, line_hash, signed_bytes


@dataclass(frozen=True)
class WitnessSource:
    """Witness lines to check the database against: the witness file, or a third party's mirror of it.

    `roots` are the TSA's root certificates (None: time-stamps are counted, not checked); `name` says in
    findings which file is meant.
    """

    lines: Iterable[dict[str, Any]]
    name: str = "witness"
    roots: list[x509.Certificate] | None = None


BATCH = 500


@dataclass(frozen=True)
class _SealLine:
    n: int
    seal_id: int
    seq: int
    head: str
    signature: str


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class _Check:
    def __init__(
        self,
        session: Session,
        signer: LogSigner,
        source: WitnessSource,
        report: VerifyReport,
        archived: dict[int, str] | None,
    ) -> None:
        self.session, self.signer, self.source, self.report = session, signer, source, report
        self.archived = archived
        self.pending: list[_SealLine] = []
        head = session.get(LogHead, 1)
        self.last_seq = head.last_seq if head else 0
        self.anchor_seq = head.anchor_seq if head else 0
        self.hashes: dict[int, str] = {}

    def finding(self, seq: int, kind: str, detail: str) -> None:
        self.report.findings.append(Finding(seq, kind, detail))

    def run(self) -> None:
        expected_n, prev = 1, GENESIS
        name = self.source.name
        for line in self.source.lines:
            self.report.witness_lines += 1
            n = line.get("n")
            if "unreadable" in line or not isinstance(n, int):
                self.finding(0, "witness", f"{name} line {expected_n} is not a readable line")
                expected_n, prev = expected_n + 1, ""
                continue
            if n != expected_n:
                self.finding(0, "witness", f"{name} line {n} stands where line {expected_n} should")
            elif prev and line.get("prev") != prev:
                self.finding(0, "witness", f"{name} line {n} does not link to the line before it")
            expected_n, prev = n + 1, line_hash(line)
            self.hashes[n] = prev
            if not self.signer.verify(str(line.get("key", "")), signed_bytes(line), str(line.get("sig", ""))):
                self.finding(0, "witness", f"{name} line {n}'s signature is not valid")
                continue
            try:
                if line.get("kind") == "seal":
                    self.seal_line(n, line)
                elif line.get("kind") == "timestamp":
                    self.timestamp_line(n, line)
                else:
                    self.finding(0, "witness", f"{name} line {n} is of an unknown kind")
            except (KeyError, TypeError, ValueError):
                self.finding(0, "witness", f"{name} line {n} lacks a field or has a malformed one")
        self.compare_pending()
        self.report.unwitnessed_seals = (
            self.session.scalar(
                select(func.count()).select_from(LogSeal).where(LogSeal.seq > self.report.witnessed_through)
            )
            or 0
        )

    def seal_line(self, n: int, line: dict[str, Any]) -> None:
        seal_id, seq, head_hash = int(line["seal"]), int(line["seq"]), str(line["head"])
        self.report.witnessed_seals += 1
        self.report.witnessed_through = max(self.report.witnessed_through, seq)
        if not self.signer.verify(
            str(line["seal_key"]), seal_message(seq, head_hash, _time(line["at"])), str(line["seal_sig"])
        ):
            self.finding(
                seq, "witness", f"{self.source.name} line {n} carries a seal signature that is not valid"
            )
            return
        self.pending.append(_SealLine(n, seal_id, seq, head_hash, str(line["seal_sig"])))
        if len(self.pending) >= BATCH:
            self.compare_pending()

    def compare_pending(self) -> None:
        """Hold a batch of witnessed seals to the database: two queries a batch, not two a line."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        seqs = [item.seq for item in batch if self.anchor_seq < item.seq <= self.last_seq]
        query = select(LogEntry.seq, LogEntry.entry_hash).where(LogEntry.seq.in_(seqs))
        stored = {seq: entry_hash for seq, entry_hash in self.session.execute(query)}
        seals = {
            row.id: row
            for row in self.session.scalars(
                select(LogSeal).where(LogSeal.id.in_([item.seal_id for item in batch]))
            )
        }
        name = self.source.name
        for item in batch:
            seq, where = item.seq, f"the head {name} line {item.n} saw (seal {item.seal_id})"
            if seq > self.last_seq:
                self.finding(
                    seq, "truncated", f"the log ends at entry {self.last_seq}, before {where} at {seq}"
                )
            elif seq <= self.anchor_seq:
                if self.archived is not None and self.archived.get(seq, item.head) != item.head:
                    self.finding(seq, "rewritten", f"archived entry {seq} is not {where}")
            elif seq not in stored:
                self.finding(seq, "removed", f"entry {seq}, {where}, is gone")
            elif stored[seq] != item.head:
                self.finding(seq, "rewritten", f"entry {seq} is not {where}: the chain to it was rewritten")
            seal = seals.get(item.seal_id)
            if seal is None:
                self.finding(
                    seq, "seal", f"seal {item.seal_id}, witnessed in {name} line {item.n}, was deleted"
                )
            elif (seal.seq, seal.head_hash, seal.signature) != (seq, item.head, item.signature):
                self.finding(seq, "seal", f"seal {item.seal_id} differs from {name} line {item.n}")

    def timestamp_line(self, n: int, line: dict[str, Any]) -> None:
        name = self.source.name
        covers = int(line["covers"])
        if covers >= n or self.hashes.get(covers) != line["covers_hash"]:
            self.finding(
                0, "timestamp", f"{name} line {n}'s time-stamp is not over line {covers} of the file"
            )
            return
        if self.source.roots is None:
            return
        try:
            verify_token(str(line["token"]), str(line["covers_hash"]), self.source.roots)
        except TimestampError as error:
            self.finding(0, "timestamp", f"{name} line {n}'s time-stamp does not verify: {error}")
            return
        self.report.timestamps_checked += 1
        self.report.stamped_through = max(self.report.stamped_through, covers)


def check_witness(
    session: Session,
    signer: LogSigner,
    source: WitnessSource,
    report: VerifyReport,
    archived: dict[int, str] | None = None,
) -> None:
    """Add to `report` what the witness lines show about the database (and about the lines themselves)."""
    _Check(session, signer, source, report, archived).run()
