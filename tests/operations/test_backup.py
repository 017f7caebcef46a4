"""The backup and restore drill: back up a platform with a witnessed message log, restore it into a fresh
database and home, and find every table's rows and the log intact; damaged backups and used databases are
refused. On SQLite always, on PostgreSQL in the PostgreSQL run (a scratch database for the restore)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import Engine, make_url
from typer.testing import CliRunner

from panjereh.cli import app
from panjereh.core.config import get_settings
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
from panjereh.exchange.messagelog import LogWriter, seal_and_witness
from panjereh.exchange.signing import load_signer
from panjereh.exchange.witness import WITNESS_FILE, Witness
from panjereh.jobs import enqueue
from tests.conftest import WORKER
from tests.exchange.test_messagelog import record
from tests.support import databases
from tests.support.factories import create_citizen

runner = CliRunner()


def _scratch(name: str, folder: Path) -> str:
    """An empty database of this run's backend (PostgreSQL: created; dropped by `_drop`)."""
    return databases.fresh_database(f"{WORKER}_{name}", str(folder))


def _drop(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        names = inspect(connection).get_table_names()
        return {name: connection.scalar(select(func.count()).select_from(table(name))) or 0 for name in names}


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """A platform's home and database: citizens, a queued job, a message log sealed into its witness file."""
    home = tmp_path / "source-home"
    home.mkdir()
    url = _scratch("backup_source", tmp_path)
    engine = databases.migrated_engine(url)
    factory = make_sessionmaker(engine)
    signer = load_signer(home)  # the log's signing keys, made under home/keys
    witness = Witness(home / WITNESS_FILE, signer)
    writer = LogWriter(factory, signer, inline=True, seal_every_seconds=3600, witness=witness)
    for n in range(5):
        writer.submit(record(n))
    seal_and_witness(factory, signer, witness)
    with unit_of_work(factory) as session:
        create_citizen(session, "0499370899")
        create_citizen(session, "0684159414")
        enqueue(session, "test.backup", {"n": 1})
    engine.dispose()
    monkeypatch.setenv("PANJEREH_HOME", str(home))
    monkeypatch.setenv("PANJEREH_DATABASE_URL", url)
    monkeypatch.setenv("PANJEREH_ENV", "development")
    for name in ("PANJEREH_EXCHANGE_WITNESS_FILE", "PANJEREH_EXCHANGE_ARCHIVE_DIR", "PANJEREH_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield home, url
    get_settings.cache_clear()
    _drop(url)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A fresh home and an empty database to restore into."""
    url = _scratch("restore_target", tmp_path)
    yield tmp_path / "restored-home", url
    _drop(url)


def test_a_backup_restored_into_a_fresh_database_has_every_row_and_an_intact_log(
    source: tuple[Path, str], target: tuple[Path, str], tmp_path: Path
) -> None:
    home, url = source
    folder = tmp_path / "backup"
    made = runner.invoke(app, ["backup", str(folder)])
    assert made.exit_code == 0, made.output
    manifest = json.loads((folder / "manifest.json").read_text())
    source_engine = make_engine(url)
    expected = _counts(source_engine)
    source_engine.dispose()
    assert manifest["tables"] == expected
    assert manifest["tables"]["exchange_log"] == 5 and manifest["tables"]["delivery_job"] == 1
    assert WITNESS_FILE.as_posix() in manifest["files"]
    assert any(name.startswith("keys/") for name in manifest["files"])

    restored_home, restored_url = target
    result = runner.invoke(
        app, ["restore", str(folder), "--database-url", restored_url, "--home", str(restored_home)]
    )
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert f"{len(expected)} of {len(expected)} tables match" in output
    assert "restored message log intact: 5 entries" in output
    restored_engine = make_engine(restored_url)
    assert _counts(restored_engine) == expected  # counted here too, not only by the command
    restored_engine.dispose()
    assert (restored_home / WITNESS_FILE).read_bytes() == (home / WITNESS_FILE).read_bytes()

    # `exchange verify-log` on the restored platform, as an operator runs it after the drill.
    checked = runner.invoke(
        app,
        ["exchange", "verify-log"],
        env={"PANJEREH_DATABASE_URL": restored_url, "PANJEREH_HOME": str(restored_home)},
    )
    get_settings.cache_clear()
    assert checked.exit_code == 0, checked.output


def test_restore_refuses_a_database_that_is_not_empty(
    source: tuple[Path, str], target: tuple[Path, str], tmp_path: Path
) -> None:
    folder = tmp_path / "backup"
    assert runner.invoke(app, ["backup", str(folder)]).exit_code == 0
    restored_home, restored_url = target
    databases.migrated_engine(restored_url).dispose()  # a database in use
    result = runner.invoke(
        app, ["restore", str(folder), "--database-url", restored_url, "--home", str(restored_home)]
    )
    assert result.exit_code == 1
    assert "not empty" in result.output and not restored_home.exists()


def test_restore_refuses_a_damaged_backup(
    source: tuple[Path, str], target: tuple[Path, str], tmp_path: Path
) -> None:
    folder = tmp_path / "backup"
    assert runner.invoke(app, ["backup", str(folder)]).exit_code == 0
    witness = folder / "files" / WITNESS_FILE
    witness.write_text(witness.read_text().replace('"seq"', '"seq" ', 1))
    restored_home, restored_url = target
    result = runner.invoke(
        app, ["restore", str(folder), "--database-url", restored_url, "--home", str(restored_home)]
    )
    assert result.exit_code == 1
    assert "damaged" in result.output and WITNESS_FILE.as_posix() in " ".join(result.output.split())
    engine = make_engine(restored_url)
    assert inspect(engine).get_table_names() == []  # nothing restored from it
    engine.dispose()


def test_a_restore_that_loses_rows_is_reported_and_fails(
    source: tuple[Path, str], target: tuple[Path, str], tmp_path: Path
) -> None:
    """The comparison can fail: a manifest that claims a row the dump does not have is caught."""
    folder = tmp_path / "backup"
    assert runner.invoke(app, ["backup", str(folder)]).exit_code == 0
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["delivery_job"] += 1
    manifest_path.write_text(json.dumps(manifest))
    restored_home, restored_url = target
    result = runner.invoke(
        app,
        ["restore", str(folder), "--database-url", restored_url, "--home", str(restored_home), "--no-verify"],
    )
    assert result.exit_code == 1
    assert "≠" in result.output


def test_backup_goes_to_a_new_folder(source: tuple[Path, str], tmp_path: Path) -> None:
    folder = tmp_path / "used"
    folder.mkdir()
    (folder / "something").write_text("x")
    result = runner.invoke(app, ["backup", str(folder)])
    assert result.exit_code == 1 and "not empty" in result.output
