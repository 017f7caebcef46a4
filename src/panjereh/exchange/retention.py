"""Retention: move the oldest part of the chain to a JSON-lines archive and re-anchor the head."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from panjereh.exchange.chain import CHAIN_FIELDS
from panjereh.exchange.models import LogEntry, LogHead


def archive_before(session: Session, before: datetime, archive_dir: Path) -> int:
    """Archive entries older than `before` (a prefix of the chain); returns how many moved."""
    head = session.scalars(select(LogHead).where(LogHead.id == 1).with_for_update()).one_or_none()
    if head is None:
        return 0
    first_young = session.scalar(
        select(LogEntry.seq).where(LogEntry.at >= before).order_by(LogEntry.seq).limit(1)
    )
    query = select(LogEntry).where(LogEntry.seq > head.anchor_seq).order_by(LogEntry.seq)
    if first_young is not None:
        query = query.where(LogEntry.seq < first_young)
    rows = session.scalars(query).all()
    if not rows:
        return 0
    archive_dir.mkdir(parents=True, exist_ok=True)
    path = archive_dir / f"exchange-log-{rows[0].seq:012d}-{rows[-1].seq:012d}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            record = {name: getattr(row, name) for name in (*CHAIN_FIELDS, "seq", "prev_hash", "entry_hash")}
            record["at"] = row.at.isoformat()
            record["request_body"], record["response_body"] = row.request_body, row.response_body
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    session.execute(delete(LogEntry).where(LogEntry.seq <= rows[-1].seq))
    head.anchor_seq, head.anchor_hash = rows[-1].seq, rows[-1].entry_hash
    session.flush()
    return len(rows)
