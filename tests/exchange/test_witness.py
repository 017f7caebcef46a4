"""The witness file: seal heads outside the database, so that someone who can write the whole database
(but not the witness file) cannot rewrite, cut short or unseal the message log unnoticed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from panjereh.core.config import ExchangeSettings, Settings, get_settings
from panjereh.core.db import make_sessionmaker
from panjereh.exchange.chain import CHAIN_FIELDS, entry_hash
from panjereh.exchange.messagelog import LogWriter, seal_and_witness
from panjereh.exchange.models import LogEntry, LogHead, LogSeal
from panjereh.exchange.signing import LogSigner, load_signer
from panjereh.exchange.verify import verify_log
from panjereh.exchange.witness import Witness, canonical, line_hash, lines_of
from panjereh.exchange.witness_check import WitnessSource
from tests.conftest import WORKER
from tests.exchange.test_messagelog import record
from tests.support import databases


@pytest.fixture
def signer(settings: Settings) -> LogSigner:
    return load_signer(settings.home)


@pytest.fixture
def committed_database(tmp_path: Path) -> str:
    """A database of its own, committed for real (as in test_messagelog)."""
    url = databases.fresh_database(f"{WORKER}_witness", str(tmp_path))
    databases.migrated_engine(url).dispose()
    return url


@pytest.fixture
def witness(tmp_path: Path, signer) -> Witness:
    return Witness(tmp_path / "witness" / "exchange-log.jsonl", signer)


@pytest.fixture
def witnessed(db: Session, session_factory: sessionmaker[Session], signer, witness: Witness) -> Session:
    """Nine entries in three batches, each batch sealed and its seal witnessed once committed (the
    writer's own seal over its first batch too)."""
    writer = LogWriter(session_factory, signer, inline=True, seal_every_seconds=3600, witness=witness)
    for batch in range(3):
        for n in range(3):
            writer.submit(record(batch * 10 + n))
        seal_and_witness(session_factory, signer, witness)
    return db


def _check(db: Session, signer, witness: Witness, roots=None):
    return verify_log(db, signer, witness=WitnessSource(witness.lines(), roots=roots))


def _kinds(report) -> set[str]:
    return {finding.kind for finding in report.findings}


def _seqs(db: Session) -> list[int]:
    return list(db.scalars(select(LogEntry.seq).order_by(LogEntry.seq)))


def _rewrite_from(db: Session, seq: int, **changes: object) -> None:
    """What an attacker with the database does: change an entry, recompute every hash after it, move
    the head, so the chain agrees with itself again."""
    rows = list(db.scalars(select(LogEntry).where(LogEntry.seq >= seq).order_by(LogEntry.seq)))
    prev = rows[0].prev_hash
    for row in rows:
        if row.seq == seq:
            for name, value in changes.items():
                setattr(row, name, value)
        row.prev_hash = prev
        row.entry_hash = entry_hash(prev, {name: getattr(row, name) for name in CHAIN_FIELDS})
        prev = row.entry_hash
    head = db.get(LogHead, 1)
    assert head is not None
    head.last_hash = prev
    db.flush()


def test_seals_are_witnessed_as_a_signed_chain_of_lines(
    witnessed: Session,
    session_factory: sessionmaker[Session],
    signer,
    witness: Witness,
) -> None:
    lines = list(witness.lines())
    seals = list(witnessed.scalars(select(LogSeal).order_by(LogSeal.id)))
    assert [line["seal"] for line in lines] == [seal.id for seal in seals] and len(seals) == 4
    assert [line["n"] for line in lines] == [1, 2, 3, 4]
    assert [line["prev"] for line in lines[1:]] == [line_hash(line) for line in lines[:-1]]
    raw = witness.path.read_bytes().splitlines()
    assert raw == [canonical(line) for line in lines]  # stored as canonical JSON
    report = _check(witnessed, signer, witness)
    assert report.ok, report.findings
    assert (report.witness_lines, report.witnessed_seals, report.witnessed_through) == (
        4,
        4,
        _seqs(witnessed)[-1],
    )
    assert report.unwitnessed_seals == 0
    # Nothing new: neither a seal nor a line.
    assert seal_and_witness(session_factory, signer, witness) is None
    assert len(list(witness.lines())) == 4


def test_deleted_seals_and_a_recomputed_chain_are_caught(
    witnessed: Session, signer, witness: Witness
) -> None:
    second = _seqs(witnessed)[1]
    witnessed.execute(delete(LogSeal))
    _rewrite_from(witnessed, second, subject="0790419904", purpose="something innocent")
    assert verify_log(witnessed, signer).ok  # the database alone agrees with itself: this was the hole
    report = _check(witnessed, signer, witness)
    assert {"rewritten", "seal"} <= _kinds(report)
    rewritten = {finding.seq for finding in report.findings if finding.kind == "rewritten"}
    witnessed_since = {line["seq"] for line in witness.lines() if line["seq"] >= second}
    assert rewritten == witnessed_since and len(witnessed_since) == 3  # every head witnessed since the change


def test_a_rewrite_after_the_last_witnessed_head_is_the_unsealed_window(
    witnessed: Session,
    session_factory: sessionmaker[Session],
    signer,
    witness: Witness,
) -> None:
    writer = LogWriter(session_factory, signer, inline=True, seal_every_seconds=3600, witness=witness)
    writer.submit(record(99))  # after the newest witnessed head, not sealed yet
    last = _seqs(witnessed)[-1]
    _rewrite_from(witnessed, last, purpose="something innocent")
    report = _check(witnessed, signer, witness)
    assert report.ok and report.witnessed_through == last - 1  # what the bounded window is for
    seal_and_witness(session_factory, signer, witness)
    assert _check(witnessed, signer, witness).witnessed_through == last


def test_truncation_after_deleting_the_later_seals_is_caught(
    witnessed: Session, signer, witness: Witness
) -> None:
    seqs = _seqs(witnessed)
    keep = seqs[3]
    kept_hash = witnessed.scalar(select(LogEntry.entry_hash).where(LogEntry.seq == keep))
    witnessed.execute(delete(LogSeal).where(LogSeal.seq > keep))
    witnessed.execute(delete(LogEntry).where(LogEntry.seq > keep))
    witnessed.execute(update(LogHead).values(last_seq=keep, last_hash=kept_hash))
    assert verify_log(witnessed, signer).ok  # the database alone: intact
    report = _check(witnessed, signer, witness)
    truncated = sorted(finding.seq for finding in report.findings if finding.kind == "truncated")
    assert truncated == [line["seq"] for line in witness.lines() if line["seq"] > keep]
    assert "seal" in _kinds(report)


def test_a_deleted_or_altered_seal_row_is_caught(witnessed: Session, signer, witness: Witness) -> None:
    first, second = list(witnessed.scalars(select(LogSeal).order_by(LogSeal.id)))[:2]
    witnessed.execute(delete(LogSeal).where(LogSeal.id == first.id))
    assert verify_log(witnessed, signer).ok
    findings = _check(witnessed, signer, witness).findings
    assert [(finding.kind, finding.seq) for finding in findings] == [("seal", first.seq)]
    witnessed.execute(update(LogSeal).where(LogSeal.id == second.id).values(seq=first.seq))
    assert ("seal", second.seq) in {(f.kind, f.seq) for f in _check(witnessed, signer, witness).findings}


def test_an_emptied_database_is_caught(witnessed: Session, signer, witness: Witness) -> None:
    for table in (LogSeal, LogEntry, LogHead):
        witnessed.execute(delete(table))
    assert verify_log(witnessed, signer).ok
    assert {"truncated", "seal"} <= _kinds(_check(witnessed, signer, witness))


def _write_lines(witness: Witness, lines: list[dict]) -> None:
    witness.path.write_bytes(b"".join(canonical(line) + b"\n" for line in lines))


def test_a_changed_removed_or_forged_witness_line_is_caught(
    witnessed: Session, signer, witness: Witness
) -> None:
    lines = list(witness.lines())
    changed = [dict(line) for line in lines]
    changed[1]["head"] = "f" * 64
    _write_lines(witness, changed)
    assert {(f.kind, f.seq) for f in _check(witnessed, signer, witness).findings} == {("witness", 0)}

    _write_lines(witness, lines[:1] + lines[2:])  # a line taken out
    details = [f.detail for f in _check(witnessed, signer, witness).findings]
    assert details == ["witness line 3 stands where line 2 should"]

    _write_lines(witness, lines)
    witness.path.write_bytes(witness.path.read_bytes() + b"{not json\n")
    details = [f.detail for f in _check(witnessed, signer, witness).findings]
    assert details == ["witness line 5 is not a readable line"]


def test_seals_a_writer_could_not_witness_are_appended_by_the_next_seal(
    db: Session,
    session_factory: sessionmaker[Session],
    signer,
    witness: Witness,
) -> None:
    writer = LogWriter(session_factory, signer, inline=True, seal_every_seconds=3600)  # no witness
    for n in range(3):
        writer.submit(record(n))
    assert db.scalar(select(func.count()).select_from(LogSeal)) == 1
    report = _check(db, signer, witness)
    assert report.unwitnessed_seals == 1 and report.witness_lines == 0
    seal_and_witness(session_factory, signer, witness)
    assert [line["seal"] for line in witness.lines()] == list(
        db.scalars(select(LogSeal.id).order_by(LogSeal.id))
    )
    assert _check(db, signer, witness).unwitnessed_seals == 0


def test_the_seal_job_witnesses(
    db: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    signer,
    tmp_path: Path,
    monkeypatch,
) -> None:
    import asyncio

    from panjereh import jobs
    from panjereh.exchange import tasks
    from panjereh.jobs import periodic

    path = tmp_path / "job-witness.jsonl"
    local = settings.model_copy(
        update={"exchange": ExchangeSettings(witness_file=path, seal_every_seconds=5)}
    )
    LogWriter(session_factory, signer, inline=True).submit(record(1))
    monkeypatch.setattr(periodic, "PERIODIC", {tasks.SEAL_JOB: periodic.PERIODIC[tasks.SEAL_JOB]})
    periodic.ensure_periodic(db, local)
    db.commit()
    assert asyncio.run(jobs.Worker(session_factory, services={"settings": local}).run_due()) == 1
    assert [line["kind"] for line in lines_of(path)] == ["seal"]


def test_verify_log_command_catches_a_rewrite_of_the_whole_database(
    committed_database: str,
    settings: Settings,
    signer,
    tmp_path: Path,
    monkeypatch,
) -> None:
    from panjereh.cli import app as cli_app

    engine = databases.migrated_engine(committed_database)
    factory = make_sessionmaker(engine)
    path = tmp_path / "witness.jsonl"
    witness = Witness(path, signer)
    writer = LogWriter(factory, signer, inline=True, seal_every_seconds=3600, witness=witness)
    for n in range(4):
        writer.submit(record(n))
    seal_and_witness(factory, signer, witness)
    monkeypatch.setenv("PANJEREH_DATABASE_URL", committed_database)
    monkeypatch.setenv("PANJEREH_HOME", str(settings.home))
    monkeypatch.setenv("PANJEREH_EXCHANGE_WITNESS_FILE", str(path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        intact = runner.invoke(cli_app, ["exchange", "verify-log"])
        assert intact.exit_code == 0, intact.output
        with factory() as session, session.begin():
            session.execute(delete(LogSeal))
            _rewrite_from(session, 2, status=404)
        tampered = runner.invoke(cli_app, ["exchange", "verify-log"])
        assert tampered.exit_code == 1, tampered.output
        assert "rewritten" in tampered.output and "deleted" in tampered.output
        path.unlink()
        gone = runner.invoke(cli_app, ["exchange", "verify-log"])
        assert gone.exit_code == 0  # seals deleted too: nothing in the database says a witness existed
        assert "0 lines" in gone.output
    finally:
        get_settings.cache_clear()
        engine.dispose()


def test_verify_log_command_names_a_missing_witness_file(
    committed_database: str,
    settings: Settings,
    signer,
    tmp_path: Path,
    monkeypatch,
) -> None:
    from panjereh.cli import app as cli_app

    engine = databases.migrated_engine(committed_database)
    factory = make_sessionmaker(engine)
    LogWriter(factory, signer, inline=True).submit(record(1))  # the first batch is sealed
    monkeypatch.setenv("PANJEREH_DATABASE_URL", committed_database)
    monkeypatch.setenv("PANJEREH_HOME", str(settings.home))
    monkeypatch.setenv("PANJEREH_EXCHANGE_WITNESS_FILE", str(tmp_path / "nowhere.jsonl"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["exchange", "verify-log"])
        assert result.exit_code == 1 and "no witness file" in result.output
    finally:
        get_settings.cache_clear()
        engine.dispose()


def test_a_line_is_one_json_object_naming_its_key(witnessed: Session, witness: Witness) -> None:
    line = json.loads(witness.path.read_text(encoding="utf-8").splitlines()[0])
    assert set(line) == {
        "n",
        "kind",
        "seal",
        "seq",
        "head",
        "at",
        "seal_key",
        "seal_sig",
        "prev",
        "key",
        "sig",
    }
    assert line["prev"] == "0" * 64 and line["at"].endswith("Z")


def test_check_mirror_command_finds_a_witness_file_cut_short(
    committed_database: str, settings: Settings, signer, tmp_path: Path, monkeypatch
) -> None:
    from panjereh.cli import app as cli_app

    engine = databases.migrated_engine(committed_database)
    factory = make_sessionmaker(engine)
    witness = Witness(tmp_path / "witness.jsonl", signer)
    writer = LogWriter(factory, signer, inline=True, seal_every_seconds=3600, witness=witness)
    for n in range(3):
        writer.submit(record(n))
        seal_and_witness(factory, signer, witness)
    mirror = tmp_path / "mirror.jsonl"
    mirror.write_bytes(witness.path.read_bytes())
    monkeypatch.setenv("PANJEREH_DATABASE_URL", committed_database)
    monkeypatch.setenv("PANJEREH_HOME", str(settings.home))
    monkeypatch.setenv("PANJEREH_EXCHANGE_WITNESS_FILE", str(witness.path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        same = runner.invoke(cli_app, ["exchange", "check-mirror", str(mirror)])
        assert same.exit_code == 0, same.output
        first = witness.path.read_bytes().splitlines(keepends=True)[0]
        witness.path.write_bytes(first)
        cut = runner.invoke(cli_app, ["exchange", "check-mirror", str(mirror)])
        assert cut.exit_code == 1 and "lacks 2 line(s)" in " ".join(cut.output.split())
    finally:
        get_settings.cache_clear()
        engine.dispose()


def test_witnessed_heads_in_the_archive_are_held_to_the_archive_files(
    db: Session, session_factory: sessionmaker[Session], signer, witness: Witness, tmp_path: Path
) -> None:
    from datetime import timedelta

    from panjereh.core.db import utcnow
    from panjereh.exchange.retention import archive_before

    writer = LogWriter(session_factory, signer, inline=True, seal_every_seconds=3600, witness=witness)
    for n in range(4):
        writer.submit(record(n, minutes_ago=60 * 24 * 400))
    seal_and_witness(session_factory, signer, witness)
    writer.submit(record(10))
    seal_and_witness(session_factory, signer, witness)
    folder = tmp_path / "archive"
    assert archive_before(db, utcnow() - timedelta(days=365), folder) == 4
    report = verify_log(db, signer, archive_dir=folder, witness=WitnessSource(witness.lines()))
    assert report.ok, report.findings
    [path] = folder.glob("exchange-log-*.jsonl")
    archived = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    archived[-1]["entry_hash"] = "d" * 64  # the witnessed head at the archive's end, replaced
    path.write_text("".join(json.dumps(line) + "\n" for line in archived), encoding="utf-8")
    findings = verify_log(db, signer, archive_dir=folder, witness=WitnessSource(witness.lines())).findings
    assert (archived[-1]["seq"], "rewritten") in {(f.seq, f.kind) for f in findings}


def test_a_seal_row_copied_under_a_higher_id_cannot_stop_the_witness(
    witnessed: Session, session_factory: sessionmaker[Session], signer, witness: Witness
) -> None:
    newest = witnessed.scalars(select(LogSeal).order_by(LogSeal.id.desc())).first()
    assert newest is not None
    copy = LogSeal(
        id=10**6,
        seq=newest.seq,
        head_hash=newest.head_hash,
        sealed_at=newest.sealed_at,
        key_id=newest.key_id,
        signature=newest.signature,
    )
    witnessed.add(copy)
    forged = LogSeal(
        id=10**6 + 1,
        seq=newest.seq + 1,
        head_hash="c" * 64,
        sealed_at=newest.sealed_at,
        key_id=newest.key_id,
        signature=newest.signature,
    )
    witnessed.add(forged)
    witnessed.commit()
    lines_before = len(list(witness.lines()))
    assert (
        witness.witness_seals(witnessed) == 0
    )  # the copy is a head already witnessed; the forgery is unsigned
    LogWriter(session_factory, signer, inline=True, seal_every_seconds=3600, witness=witness).submit(
        record(77)
    )
    assert seal_and_witness(session_factory, signer, witness) is not None
    lines = list(witness.lines())
    assert len(lines) == lines_before + 1 and lines[-1]["seq"] == _seqs(witnessed)[-1]
