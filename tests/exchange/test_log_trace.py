"""The message log records the W3C trace id of the request that made each call: in the entry, in its hash
when set (entries without one hash as before), through archiving, and findable from either side."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from panjereh.core import tracing
from panjereh.core.config import Settings, get_settings
from panjereh.core.db import make_sessionmaker, utcnow
from panjereh.exchange import selectors
from panjereh.exchange.chain import CHAIN_FIELDS, _canonical, entry_hash
from panjereh.exchange.messagelog import LogWriter, seal_head
from panjereh.exchange.models import LogEntry
from panjereh.exchange.retention import archive_before
from panjereh.exchange.signing import load_signer
from panjereh.exchange.verify import verify_log
from tests.exchange.conftest import ALI
from tests.exchange.test_messagelog import record
from tests.support import databases
from tests.support.factories import create_grant

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING = f"00-{TRACE}-00f067aa0ba902b7-01"
PERSON = f"/exchange/v1/civil-registry.person/persons/{ALI}"


def _entry(db: Session, message_id: str) -> LogEntry:
    return db.scalars(select(LogEntry).where(LogEntry.message_id == message_id)).one()


# --- from the request to the entry ----------------------------------------------------------------------


def test_a_gateway_call_records_the_callers_trace(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    tax = agency_system("tax")
    create_grant(seeded, "tax", "civil-registry.person", ["tax-audit"])
    response = client.get(PERSON, headers={**tax.headers(), "traceparent": INCOMING})
    assert response.status_code == 200, response.text
    entry = _entry(seeded, response.headers["Panjereh-Message-Id"])
    assert entry.trace_id == TRACE
    # And back: the trace the server answered under is the one the entry names.
    assert tracing.trace_id_of(response.headers["traceresponse"]) == entry.trace_id


def test_a_call_without_a_traceparent_records_the_trace_the_server_started(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    tax = agency_system("tax")
    create_grant(seeded, "tax", "civil-registry.person", ["tax-audit"])
    response = client.get(PERSON, headers={**tax.headers(), "traceparent": "00-not-a-valid-header-01"})
    assert response.status_code == 200, response.text
    entry = _entry(seeded, response.headers["Panjereh-Message-Id"])
    started = tracing.trace_id_of(response.headers["traceresponse"])
    assert started is not None and started != TRACE and entry.trace_id == started


def test_a_refused_call_records_its_trace_too(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    tax = agency_system("tax")  # no grant: refused before the provider is asked
    response = client.get(PERSON, headers={**tax.headers(), "traceparent": INCOMING})
    assert response.status_code == 403
    entry = _entry(seeded, response.json()["message_id"])
    assert (entry.outcome, entry.trace_id) == ("client.no_grant", TRACE)


def test_a_call_outside_a_request_records_no_trace(app, seeded: Session) -> None:
    create_grant(seeded, "tax", "civil-registry.person", ["tax-audit"])
    seeded.commit()
    tracing._current.set(None)  # a job's or a command's call: no trace is invented for it
    app.state.exchange.inquire(
        "civil-registry.person", subject=ALI, purpose="identity-check", path_params={"national_code": ALI}
    )
    newest = seeded.scalars(select(LogEntry).order_by(LogEntry.seq.desc()).limit(1)).one()
    assert newest.service_code == "civil-registry.person" and newest.trace_id is None


# --- in the chain ---------------------------------------------------------------------------------------


def _before_the_trace_id(prev: str, fields: dict) -> str:
    """The chain's hash as it was written before the trace id existed (sandbox flag included)."""
    names = [name for name in CHAIN_FIELDS if name not in ("sandbox", "trace_id")]
    payload: list = [prev, *(_canonical(fields.get(name)) for name in names)]
    if fields.get("sandbox"):
        payload.append({"sandbox": True})
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def test_entries_without_a_trace_hash_as_before_and_with_one_differently() -> None:
    for sandbox in (False, True):
        fields = {**vars(record(1)), "sandbox": sandbox}
        assert entry_hash("0" * 64, fields) == _before_the_trace_id("0" * 64, fields)
        traced = {**fields, "trace_id": TRACE}
        assert entry_hash("0" * 64, traced) != _before_the_trace_id("0" * 64, fields)
        other = {**fields, "trace_id": "f" * 32}
        assert entry_hash("0" * 64, traced) != entry_hash("0" * 64, other)


def _write(
    db: Session, session_factory: sessionmaker[Session], settings: Settings, traces: list
) -> list[int]:
    signer = load_signer(settings.home)
    writer = LogWriter(session_factory, signer, inline=True, seal_every_seconds=3600)
    for n, trace_id in enumerate(traces):
        entry = record(n, minutes_ago=60 * 24 * 400 if n < 2 else 0)
        entry.trace_id = trace_id
        writer.submit(entry)
    seal_head(db, signer)
    db.commit()
    return list(db.scalars(select(LogEntry.seq).order_by(LogEntry.seq)))


def test_adding_changing_or_removing_a_trace_id_is_caught(
    db: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    seqs = _write(db, session_factory, settings, [TRACE, None, TRACE, "a" * 32])
    signer = load_signer(settings.home)
    assert verify_log(db, signer).ok
    assert [db.get(LogEntry, seq).trace_id for seq in seqs] == [TRACE, None, TRACE, "a" * 32]  # type: ignore[union-attr]
    db.execute(update(LogEntry).where(LogEntry.seq == seqs[0]).values(trace_id="b" * 32))  # moved
    db.execute(update(LogEntry).where(LogEntry.seq == seqs[1]).values(trace_id=TRACE))  # added
    db.execute(update(LogEntry).where(LogEntry.seq == seqs[3]).values(trace_id=None))  # removed
    kinds = {(f.seq, f.kind) for f in verify_log(db, signer).findings}
    assert {(seqs[0], "changed"), (seqs[1], "changed"), (seqs[3], "changed")} <= kinds
    assert (seqs[2], "changed") not in kinds


def test_archived_entries_keep_their_trace_and_verify(
    db: Session, session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    _write(db, session_factory, settings, [TRACE, None, TRACE])
    assert archive_before(db, utcnow() - timedelta(days=365), tmp_path) == 2
    db.commit()
    [path] = tmp_path.glob("exchange-log-*.jsonl")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["trace_id"] for line in lines] == [TRACE, None]
    signer = load_signer(settings.home)
    report = verify_log(db, signer, archive_dir=tmp_path)
    assert report.ok, report.findings
    assert report.archived_checked == 2
    # A trace id rewritten in the archive is caught like any other field.
    lines[0]["trace_id"] = "c" * 32
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert not verify_log(db, signer, archive_dir=tmp_path).ok


# --- the operator's lookup --------------------------------------------------------------------------------


def test_the_entries_of_a_trace_and_the_trace_of_a_message_are_found(
    db: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    seqs = _write(db, session_factory, settings, [TRACE, None, TRACE])
    traced = selectors.log_entries_of(db, TRACE.upper())
    assert [entry.seq for entry in traced] == [seqs[0], seqs[2]]
    untraced = db.get(LogEntry, seqs[1])
    assert untraced is not None
    assert [entry.trace_id for entry in selectors.log_entries_of(db, untraced.message_id)] == [None]
    assert selectors.log_entries_of(db, "f" * 32) == []


def test_the_trace_command(committed_database: str, settings: Settings, monkeypatch) -> None:
    from panjereh.cli import app as cli_app

    engine = databases.migrated_engine(committed_database)
    writer = LogWriter(make_sessionmaker(engine), load_signer(settings.home), inline=True)
    first = record(1)
    first.trace_id = TRACE
    writer.submit(first)
    monkeypatch.setenv("PANJEREH_DATABASE_URL", committed_database)
    monkeypatch.setenv("PANJEREH_HOME", str(settings.home))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        by_trace = runner.invoke(cli_app, ["exchange", "trace", TRACE])
        assert by_trace.exit_code == 0, by_trace.output
        assert first.message_id in by_trace.output
        by_message = runner.invoke(cli_app, ["exchange", "trace", first.message_id])
        assert by_message.exit_code == 0 and f"trace {TRACE}" in by_message.output
        unknown = runner.invoke(cli_app, ["exchange", "trace", "f" * 32])
        assert unknown.exit_code == 1 and "no message-log entry" in unknown.output
    finally:
        get_settings.cache_clear()
        engine.dispose()
