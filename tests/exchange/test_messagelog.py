"""The message log: hash-chained, written in batches, sealed; verify-log names what was tampered with."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from panjereh.core.config import Settings, get_settings
from panjereh.core.db import make_sessionmaker, utcnow
from panjereh.exchange.messagelog import LogRecord, LogWriter, seal_head
from panjereh.exchange.models import InquiryStat, LedgerEntry, LogEntry, LogHead, LogSeal
from panjereh.exchange.retention import archive_before
from panjereh.exchange.signing import load_signer
from panjereh.exchange.verify import verify_log
from tests.support import databases


def record(
    n: int, subject: str | None = "0499370899", outcome: str = "ok", minutes_ago: int = 0
) -> LogRecord:
    return LogRecord(
        message_id=uuid.uuid4().hex,
        at=utcnow() - timedelta(minutes=minutes_ago),
        client_agency_code="tax",
        client_id="tax-system",
        service_code="civil-registry.person",
        provider_agency_code="nocr",
        subject=subject,
        purpose=f"audit-{n}",
        case_ref=None,
        method="GET",
        path=f"/persons/{subject}",
        status=200 if outcome == "ok" else 503,
        outcome=outcome,
        duration_ms=3.5 + n,
        request_digest="a" * 64,
        response_digest="b" * 64,
    )


@pytest.fixture
def signer(settings: Settings):
    return load_signer(settings.home)


@pytest.fixture
def written(db: Session, session_factory: sessionmaker[Session], signer) -> Session:
    """Six entries written inline in the test's transaction, then a seal over the head."""
    writer = LogWriter(session_factory, signer, inline=True, seal_every_seconds=3600)
    for n in range(6):
        writer.submit(record(n))
    seal_head(db, signer)
    db.commit()
    return db


def _seqs(db: Session) -> list[int]:
    return list(db.scalars(select(LogEntry.seq).order_by(LogEntry.seq)))


def test_an_untouched_log_verifies(written: Session, signer) -> None:
    report = verify_log(written, signer)
    assert report.ok, report.findings
    assert report.checked == 6 and report.seals_checked >= 1


def test_a_changed_entry_is_named(written: Session, signer) -> None:
    third = _seqs(written)[2]
    written.execute(update(LogEntry).where(LogEntry.seq == third).values(purpose="something innocent"))
    findings = verify_log(written, signer).findings
    assert [(f.seq, f.kind) for f in findings] == [(third, "changed")]


def test_a_changed_entry_with_a_recomputed_hash_is_still_caught(written: Session, signer) -> None:
    from panjereh.exchange.chain import CHAIN_FIELDS, entry_hash

    third = _seqs(written)[2]
    row = written.get(LogEntry, third)
    assert row is not None
    row.subject = "0790419904"
    row.entry_hash = entry_hash(row.prev_hash, {name: getattr(row, name) for name in CHAIN_FIELDS})
    written.flush()
    kinds = {(f.seq, f.kind) for f in verify_log(written, signer).findings}
    assert (third, "changed") in kinds


def test_a_removed_entry_is_named(written: Session, signer) -> None:
    fourth = _seqs(written)[3]
    written.execute(delete(LogEntry).where(LogEntry.seq == fourth))
    findings = verify_log(written, signer).findings
    assert [(f.seq, f.kind) for f in findings] == [(fourth, "removed")]


def test_entries_removed_from_the_end_are_caught(written: Session, signer) -> None:
    seqs = _seqs(written)
    written.execute(delete(LogEntry).where(LogEntry.seq >= seqs[4]))
    findings = verify_log(written, signer).findings
    assert findings and all(f.kind == "removed" for f in findings) and findings[0].seq == seqs[4]


def test_reordered_entries_are_named(written: Session, signer) -> None:
    seqs = _seqs(written)
    a, b = seqs[1], seqs[2]
    # Swap two entries' positions (through a temporary number, the key is unique).
    written.execute(update(LogEntry).where(LogEntry.seq == a).values(seq=-1))
    written.execute(update(LogEntry).where(LogEntry.seq == b).values(seq=a))
    written.execute(update(LogEntry).where(LogEntry.seq == -1).values(seq=b))
    findings = verify_log(written, signer).findings
    assert {f.kind for f in findings} == {"reordered"}
    assert {f.seq for f in findings} >= {a, b}


def test_a_forged_seal_is_caught(written: Session, signer) -> None:
    seal = written.scalars(select(LogSeal)).first()
    assert seal is not None
    seal.head_hash = "f" * 64
    written.flush()
    assert [f.kind for f in verify_log(written, signer).findings] == ["seal"]


def test_ledger_only_for_answers_about_a_subject_and_stats_count_everything(
    written: Session, session_factory, signer
) -> None:
    writer = LogWriter(session_factory, signer, inline=True)
    writer.submit(record(7, subject=None))
    writer.submit(record(8, outcome="provider.down"))
    writer.submit(record(9, outcome="client.no_grant"))
    assert written.scalar(select(func.count()).select_from(LedgerEntry)) == 6
    stat = written.scalars(select(InquiryStat)).one()
    assert (stat.count, stat.ok, stat.provider_errors, stat.client_errors) == (9, 7, 1, 1)
    assert verify_log(written, signer).ok


def test_archiving_keeps_the_rest_verifiable(db: Session, session_factory, signer, tmp_path: Path) -> None:
    writer = LogWriter(session_factory, signer, inline=True)
    for n in range(4):
        writer.submit(record(n, minutes_ago=60 * 24 * 400))
    for n in range(3):
        writer.submit(record(10 + n))
    db.commit()
    moved = archive_before(db, utcnow() - timedelta(days=365), tmp_path)
    assert moved == 4
    assert len(list(tmp_path.glob("exchange-log-*.jsonl"))) == 1
    report = verify_log(db, signer)
    assert report.ok, report.findings
    assert report.checked == 3
    head = db.get(LogHead, 1)
    assert head is not None and head.anchor_seq == report.first_seq - 1  # type: ignore[operator]


def test_background_writer_batches_from_many_threads_into_one_chain(committed_database: str, signer) -> None:
    engine = databases.migrated_engine(committed_database)
    factory = make_sessionmaker(engine)
    writer = LogWriter(factory, signer, inline=False, batch_size=200, flush_ms=20)

    def submit(offset: int) -> None:
        for n in range(250):
            writer.submit(record(offset + n))

    threads = [threading.Thread(target=submit, args=(i * 1000,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.flush()
    writer.close()
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(LogEntry)) == 1000
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 1000
        report = verify_log(session, signer)
        assert report.ok, report.findings[:3]
        assert report.seals_checked >= 1
    engine.dispose()


def test_verify_log_command(
    committed_database: str, settings: Settings, signer, monkeypatch, tmp_path: Path
) -> None:
    from panjereh.cli import app as cli_app
    from panjereh.exchange.witness import Witness

    engine = databases.migrated_engine(committed_database)
    witness = Witness(tmp_path / "witness.jsonl", signer)
    writer = LogWriter(make_sessionmaker(engine), signer, inline=True, witness=witness)
    for n in range(3):
        writer.submit(record(n))
    monkeypatch.setenv("PANJEREH_DATABASE_URL", committed_database)
    monkeypatch.setenv("PANJEREH_HOME", str(settings.home))
    monkeypatch.setenv("PANJEREH_EXCHANGE_WITNESS_FILE", str(witness.path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        intact = runner.invoke(cli_app, ["exchange", "verify-log"])
        assert intact.exit_code == 0, intact.output
        with engine.begin() as connection:
            connection.execute(update(LogEntry).where(LogEntry.seq == 2).values(status=404))
        tampered = runner.invoke(cli_app, ["exchange", "verify-log"])
        assert tampered.exit_code == 1
        assert "changed" in tampered.output and "seq 2" in tampered.output
    finally:
        get_settings.cache_clear()
        engine.dispose()


def _tamper_with_last_entry(db: Session) -> int:
    """What the auditor did: change the newest entry, recompute its hash, move the head to match."""
    from panjereh.exchange.chain import CHAIN_FIELDS, entry_hash

    last = _seqs(db)[-1]
    row = db.get(LogEntry, last)
    head = db.get(LogHead, 1)
    assert row is not None and head is not None
    row.purpose = "something innocent"
    row.entry_hash = entry_hash(row.prev_hash, {name: getattr(row, name) for name in CHAIN_FIELDS})
    head.last_hash = row.entry_hash
    db.flush()
    return last


def test_the_seal_job_signs_the_newest_entries_after_traffic_stops(
    db: Session, session_factory: sessionmaker[Session], settings: Settings, signer, monkeypatch
) -> None:
    import asyncio

    from panjereh import jobs
    from panjereh.exchange import tasks
    from panjereh.jobs import periodic

    writer = LogWriter(session_factory, signer, inline=True, seal_every_seconds=3600)
    for n in range(5):
        writer.submit(record(n))  # the first batch is sealed; the four after it are not
    db.commit()
    newest = _seqs(db)[-1]
    sealed = db.scalar(select(func.max(LogSeal.seq)))
    assert sealed is not None and sealed < newest

    kind = tasks.SEAL_JOB
    monkeypatch.setattr(periodic, "PERIODIC", {kind: periodic.PERIODIC[kind]})  # only this job
    periodic.ensure_periodic(db, settings)
    db.commit()
    worker = jobs.Worker(session_factory, services={"settings": settings})
    assert asyncio.run(worker.run_due()) == 1
    db.expire_all()
    assert db.scalar(select(func.max(LogSeal.seq))) == newest
    seals = db.scalar(select(func.count()).select_from(LogSeal))
    assert seal_head(db, signer) is None  # the head has not moved: nothing new to sign
    assert db.scalar(select(func.count()).select_from(LogSeal)) == seals

    tampered = _tamper_with_last_entry(db)
    findings = verify_log(db, signer).findings
    assert (tampered, "changed") in {(f.seq, f.kind) for f in findings}


@pytest.fixture
def archived(db: Session, session_factory: sessionmaker[Session], signer, tmp_path: Path) -> Path:
    """Seven entries, the first four old and sealed, archived to a file; three remain in the table."""
    writer = LogWriter(session_factory, signer, inline=True, seal_every_seconds=3600)
    for n in range(4):
        writer.submit(record(n, minutes_ago=60 * 24 * 400))
    seal_head(db, signer)
    for n in range(3):
        writer.submit(record(10 + n))
    db.commit()
    assert archive_before(db, utcnow() - timedelta(days=365), tmp_path) == 4
    return tmp_path


def _archive_lines(folder: Path) -> tuple[Path, list[dict]]:
    import json

    [path] = folder.glob("exchange-log-*.jsonl")
    return path, [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write_archive(path: Path, lines: list[dict]) -> None:
    import json

    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")


def test_verify_checks_the_archive_files(archived: Path, db: Session, signer) -> None:
    report = verify_log(db, signer, archive_dir=archived)
    assert report.ok, report.findings
    assert (report.archive_files, report.archived_checked, report.checked) == (1, 4, 3)


def test_a_changed_archived_entry_is_named(archived: Path, db: Session, signer) -> None:
    path, lines = _archive_lines(archived)
    lines[1]["purpose"] = "something innocent"
    _write_archive(path, lines)
    findings = verify_log(db, signer, archive_dir=archived).findings
    assert [(f.seq, f.kind) for f in findings] == [(lines[1]["seq"], "changed")]
    assert verify_log(db, signer).ok  # without the folder, the archive is not read


def test_an_archived_entry_replaced_with_a_recomputed_hash_is_caught(
    archived: Path, db: Session, signer
) -> None:
    from panjereh.exchange.chain import CHAIN_FIELDS, entry_hash
    from panjereh.exchange.verify import _archived_fields

    path, lines = _archive_lines(archived)
    last = lines[-1]  # the sealed one, that the table's anchor points at
    last["subject"] = "0790419904"
    last["entry_hash"] = entry_hash(last["prev_hash"], _archived_fields(last))
    assert set(CHAIN_FIELDS) <= set(last)
    _write_archive(path, lines)
    kinds = {(f.seq, f.kind) for f in verify_log(db, signer, archive_dir=archived).findings}
    assert (last["seq"], "changed") in kinds


def test_removed_archived_entries_and_a_missing_archive_are_caught(
    archived: Path, db: Session, signer
) -> None:
    path, lines = _archive_lines(archived)
    _write_archive(path, lines[:1] + lines[2:])
    findings = verify_log(db, signer, archive_dir=archived).findings
    assert [(f.seq, f.kind) for f in findings] == [(lines[1]["seq"], "removed")]
    path.unlink()
    findings = verify_log(db, signer, archive_dir=archived).findings
    assert [(f.seq, f.kind) for f in findings] == [(1, "removed")]


def test_the_archive_job_is_queued_only_with_an_archive_folder_and_archives(
    db: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    signer,
    tmp_path: Path,
    monkeypatch,
) -> None:
    import asyncio
    import dataclasses

    from panjereh import jobs
    from panjereh.core.config import ExchangeSettings
    from panjereh.exchange import tasks
    from panjereh.jobs import Job, periodic

    # Only this job, due at once rather than ten minutes after a worker starts.
    due_now = dataclasses.replace(periodic.PERIODIC[tasks.ARCHIVE_JOB], first_after_seconds=0.0)
    monkeypatch.setattr(periodic, "PERIODIC", {tasks.ARCHIVE_JOB: due_now})
    periodic.ensure_periodic(db, settings)  # the test settings name no folder
    assert db.scalar(select(func.count()).select_from(Job).where(Job.kind == tasks.ARCHIVE_JOB)) == 0
    writer = LogWriter(session_factory, signer, inline=True)
    for n in range(2):
        writer.submit(record(n, minutes_ago=60 * 24 * 400))
    writer.submit(record(5))
    db.commit()

    archiving = settings.model_copy(
        update={"exchange": ExchangeSettings(archive_dir=tmp_path, retention_days=365)}
    )
    periodic.ensure_periodic(db, archiving)
    db.commit()
    assert asyncio.run(jobs.Worker(session_factory, services={"settings": archiving}).run_due()) == 1
    db.expire_all()
    assert len(list(tmp_path.glob("exchange-log-*.jsonl"))) == 1
    report = verify_log(db, signer, archive_dir=tmp_path)
    assert report.ok, report.findings
    assert (report.archived_checked, report.checked) == (2, 1)
