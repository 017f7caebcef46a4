"""`verify-log`: walk the message log and its archive files and say which entry was changed, removed or
reordered."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.exchange.chain import CHAIN_FIELDS, GENESIS, digest, entry_hash, seal_message
from panjereh.exchange.findings import Finding, VerifyReport
from panjereh.exchange.models import LogEntry, LogHead, LogSeal
from panjereh.exchange.signing import LogSigner
from panjereh.exchange.witness_check import WitnessSource, check_witness

__all__ = ["Finding", "VerifyReport", "verify_log"]

ARCHIVE_FILE = re.compile(r"exchange-log-(\d{12})-(\d{12})\.jsonl")


def _fields(row: LogEntry) -> dict[str, Any]:
    return {name: getattr(row, name) for name in CHAIN_FIELDS}


def verify_log(
    session: Session,
    signer: LogSigner,
    batch: int = 2000,
    *,
    archive_dir: Path | None = None,
    witness: WitnessSource | None = None,
) -> VerifyReport:
    """Recompute every hash and link, compare with the head and the signed seals.

    With `archive_dir`, the archived part of the chain (entries up to the head's anchor) is checked too:
    each archived entry's hash and link, the files' continuity from the first entry to the anchor the
    table starts after, and the seals over archived entries. Without it, the archived part is not read.

    With `witness` (the witness file, or a mirror of it), the database is held to the heads witnessed
    outside it: a deleted seal, a log cut short, or a chain rewritten and recomputed up to a witnessed
    head is found even when the database agrees with itself.
    """
    report = VerifyReport()
    signer = signer.pinned()
    head = session.get(LogHead, 1)
    anchor_seq = head.anchor_seq if head else 0
    expected_prev = head.anchor_hash if head else GENESIS
    expected_seq = anchor_seq + 1
    previous: LogEntry | None = None
    rows = session.execute(
        select(LogEntry).order_by(LogEntry.seq).execution_options(yield_per=batch)
    ).scalars()
    for row in rows:
        report.checked += 1
        report.first_seq = row.seq if report.first_seq is None else report.first_seq
        report.last_seq = row.seq
        if entry_hash(row.prev_hash, _fields(row)) != row.entry_hash:
            report.findings.append(
                Finding(row.seq, "changed", f"entry {row.seq}'s content does not match its hash")
            )
        elif row.request_body is not None and digest(row.request_body.encode()) != row.request_digest:
            report.findings.append(
                Finding(row.seq, "changed", f"entry {row.seq}'s stored request body was altered")
            )
        elif row.response_body is not None and digest(row.response_body.encode()) != row.response_digest:
            report.findings.append(
                Finding(row.seq, "changed", f"entry {row.seq}'s stored response body was altered")
            )
        if row.seq > expected_seq:
            missing = (
                f"entry {expected_seq}"
                if row.seq == expected_seq + 1
                else f"entries {expected_seq}–{row.seq - 1}"
            )
            report.findings.append(Finding(expected_seq, "removed", f"{missing} removed"))
        elif row.prev_hash != expected_prev:
            points_to = session.scalar(select(LogEntry.seq).where(LogEntry.entry_hash == row.prev_hash))
            if points_to is not None:
                report.findings.append(
                    Finding(
                        row.seq, "reordered", f"entry {row.seq} was written after entry {points_to}, not here"
                    )
                )
            elif previous is not None:
                report.findings.append(
                    Finding(
                        previous.seq,
                        "changed",
                        f"entry {previous.seq} was replaced (hash recomputed) or an entry after it removed",
                    )
                )
            else:
                report.findings.append(
                    Finding(row.seq, "removed", f"the entries before {row.seq} were removed")
                )
        expected_prev, expected_seq, previous = row.entry_hash, row.seq + 1, row
    if head is not None and head.last_seq > (report.last_seq or anchor_seq):
        report.findings.append(
            Finding(
                (report.last_seq or anchor_seq) + 1,
                "removed",
                f"entries {(report.last_seq or anchor_seq) + 1}–{head.last_seq} removed from the end",
            )
        )
    elif head is not None and report.last_seq is not None and head.last_hash != expected_prev:
        report.findings.append(
            Finding(report.last_seq, "head", "the chain head does not match the last entry")
        )
    elif head is None and report.checked:
        report.findings.append(Finding(0, "head", "the chain head is missing"))
    archived = _verify_archive(archive_dir, head, report) if archive_dir is not None and head else None
    _verify_seals(session, signer, anchor_seq, report, archived)
    if witness is not None:
        check_witness(session, signer, witness, report, archived)
    report.findings.sort(key=lambda finding: (finding.seq, finding.kind))
    return report


def _archive_files(archive_dir: Path) -> list[tuple[int, int, Path]]:
    files = []
    for path in archive_dir.glob("exchange-log-*.jsonl") if archive_dir.is_dir() else ():
        match = ARCHIVE_FILE.fullmatch(path.name)
        if match:
            files.append((int(match.group(1)), int(match.group(2)), path))
    return sorted(files)


def _archived_fields(record: dict[str, Any]) -> dict[str, Any]:
    fields = {name: record.get(name) for name in CHAIN_FIELDS}
    if isinstance(fields["at"], str):
        fields["at"] = datetime.fromisoformat(fields["at"])
    return fields


def _verify_archive(archive_dir: Path, head: LogHead, report: VerifyReport) -> dict[int, str]:
    """Walk the archive files in order as one chain from the genesis to the head's anchor.

    Returns the archived entries' hashes by sequence number, for the seals over them; an archived entry
    whose line is unreadable counts as changed.
    """
    hashes: dict[int, str] = {}
    expected_seq, expected_prev = 1, GENESIS
    for _first, _last, path in _archive_files(archive_dir):
        report.archive_files += 1
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    record = json.loads(line)
                    seq, prev, stored = int(record["seq"]), record["prev_hash"], record["entry_hash"]
                    computed = entry_hash(prev, _archived_fields(record))
                except (ValueError, KeyError, TypeError):
                    report.findings.append(
                        Finding(expected_seq, "changed", f"{path.name} line {number} is not a readable entry")
                    )
                    expected_seq += 1
                    continue
                report.archived_checked += 1
                hashes[seq] = stored
                where = f"archived entry {seq} ({path.name})"
                if seq > head.anchor_seq:
                    report.findings.append(
                        Finding(seq, "reordered", f"{where} is past the archive anchor {head.anchor_seq}")
                    )
                if computed != stored:
                    report.findings.append(
                        Finding(seq, "changed", f"{where}: content does not match its hash")
                    )
                else:
                    for part in ("request", "response"):
                        body = record.get(f"{part}_body")
                        if body is not None and digest(body.encode()) != record.get(f"{part}_digest"):
                            report.findings.append(
                                Finding(seq, "changed", f"{where}: stored {part} body was altered")
                            )
                if seq > expected_seq:
                    report.findings.append(
                        Finding(
                            expected_seq, "removed", f"archived entries {expected_seq}–{seq - 1} are missing"
                        )
                    )
                elif seq < expected_seq:
                    report.findings.append(
                        Finding(seq, "reordered", f"{where} appears twice or out of order")
                    )
                elif prev != expected_prev:
                    report.findings.append(
                        Finding(seq, "changed", f"{where} does not link to the entry before it")
                    )
                expected_seq, expected_prev = max(expected_seq, seq + 1), stored
    if head.anchor_seq >= expected_seq:
        report.findings.append(
            Finding(
                expected_seq,
                "removed",
                f"archived entries {expected_seq}–{head.anchor_seq} are not in {archive_dir}",
            )
        )
    elif head.anchor_seq and expected_prev != head.anchor_hash:
        report.findings.append(
            Finding(
                head.anchor_seq,
                "changed",
                f"the last archived entry {head.anchor_seq} does not match the anchor the table starts after",
            )
        )
    return hashes


def _verify_seals(
    session: Session,
    signer: LogSigner,
    anchor_seq: int,
    report: VerifyReport,
    archived: dict[int, str] | None = None,
) -> None:
    for seal in session.scalars(select(LogSeal).order_by(LogSeal.id)):
        report.seals_checked += 1
        if not signer.knows(seal.key_id):
            report.findings.append(
                Finding(seal.seq, "seal", f"seal {seal.id} is signed by unknown key {seal.key_id}")
            )
            continue
        if not signer.verify(
            seal.key_id, seal_message(seal.seq, seal.head_hash, seal.sealed_at), seal.signature
        ):
            report.findings.append(Finding(seal.seq, "seal", f"seal {seal.id}'s signature is not valid"))
            continue
        if seal.seq <= anchor_seq:
            # Archived: checked against the archive files when they were read, else not at all.
            if archived is not None and archived.get(seal.seq, seal.head_hash) != seal.head_hash:
                report.findings.append(
                    Finding(
                        seal.seq,
                        "changed",
                        f"archived entry {seal.seq} differs from what seal {seal.id} signed",
                    )
                )
            continue
        sealed = session.get(LogEntry, seal.seq)
        if sealed is None:
            if not any(f.kind == "removed" and f.seq <= seal.seq for f in report.findings):
                report.findings.append(
                    Finding(seal.seq, "removed", f"entry {seal.seq}, signed by seal {seal.id}, is gone")
                )
        elif sealed.entry_hash != seal.head_hash:
            report.findings.append(
                Finding(seal.seq, "changed", f"entry {seal.seq} differs from what seal {seal.id} signed")
            )
