"""A backup of the platform and its restore into a fresh database, with the proof that nothing was lost.

A backup is a folder: the database (PostgreSQL: `pg_dump`'s custom format; SQLite: a copy made with
SQLite's online backup API, consistent while the platform writes), the files under PANJEREH_HOME that
checking the message log needs (the witness file and the TSA's pinned roots, the signing keys, the log's
archive) with the rest of the home, and `manifest.json`: every table's row count taken in the same
snapshot as the dump, and each file's SHA-256. A restore checks those digests, refuses a database that
is not empty, restores, and counts every table again (`RestoreReport.tables`)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select, table
from sqlalchemy.engine import Connection, Engine, make_url

from panjereh import migrations
from panjereh.core.config import Settings
from panjereh.core.db import make_engine
from panjereh.exchange.witness import WITNESS_FILE

FORMAT = 1
MANIFEST = "manifest.json"
POSTGRES_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
FILES = "files"
# Where the message log's files sit in a backup, whatever the source configured (restored the same way).
WITNESS = WITNESS_FILE.as_posix()
ARCHIVE = "archive"
# Not backed up: the development outbox of SMS and e-mail (login codes, of no use later).
SKIPPED_FILES = {"outbox.jsonl"}


class BackupError(Exception):
    """A backup or restore that cannot be made; the message says why and what to do."""


@dataclass
class TableCount:
    name: str
    backup: int | None  # None: the table is not in the backup
    restored: int | None  # None: not in the restored database

    @property
    def matches(self) -> bool:
        return self.backup == self.restored


@dataclass
class RestoreReport:
    tables: list[TableCount]
    files: int
    replaced: list[Path] = field(default_factory=list)  # files that existed at the target, overwritten

    @property
    def ok(self) -> bool:
        return all(count.matches for count in self.tables)


def backup(settings: Settings, folder: Path) -> dict[str, Any]:
    """Back up the settings' database and home into `folder` (new); the manifest written."""
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: a backup goes to a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    engine = make_engine(url)
    try:
        if engine.dialect.name == "postgresql":
            database, counts = _dump_postgres(engine, url, folder / POSTGRES_DUMP)
        elif engine.dialect.name == "sqlite":
            database, counts = _copy_sqlite(_sqlite_path(url), folder / SQLITE_COPY)
        else:
            raise BackupError(f"no backup for {engine.dialect.name} databases")
        revision = migrations.current_revision(engine)
    finally:
        engine.dispose()
    files = {}
    for relative, source in _home_files(settings, folder):
        target = folder / FILES / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        files[relative] = _sha256(target)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "dialect": engine.dialect.name,
        "revision": revision,
        "database": {"file": database.name, "sha256": _sha256(database)},
        "tables": counts,
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    """The backup's manifest, its database and files checked against their digests."""
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} is not a backup (no {MANIFEST})")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r} is not {FORMAT}")
    expected = {manifest["database"]["file"]: manifest["database"]["sha256"]}
    expected.update({f"{FILES}/{name}": digest for name, digest in manifest["files"].items()})
    damaged = [
        name
        for name, digest in expected.items()
        if not (folder / name).is_file() or _sha256(folder / name) != digest
    ]
    if damaged:
        raise BackupError(f"the backup is damaged: {', '.join(sorted(damaged))} missing or changed")
    return manifest


def restore(folder: Path, settings: Settings) -> RestoreReport:
    """Restore a backup into the settings' database, which must be empty, and home; every table counted."""
    manifest = read_manifest(folder)
    url = settings.resolved_database_url
    engine = make_engine(url)
    try:
        if engine.dialect.name != manifest["dialect"]:
            raise BackupError(
                f"a {manifest['dialect']} backup restores into {manifest['dialect']}, "
                f"not {engine.dialect.name}"
            )
        existing = inspect(engine).get_table_names()
        if existing:
            raise BackupError(
                f"the target database is not empty ({len(existing)} tables): restore into a fresh one"
            )
        source = folder / manifest["database"]["file"]
        if engine.dialect.name == "postgresql":
            engine.dispose()  # pg_restore's single transaction must not wait on our connection
            _restore_postgres(source, url)
        else:
            engine.dispose()
            _restore_sqlite(source, _sqlite_path(url))
        with engine.connect() as connection:
            restored = _count_rows(connection)
    finally:
        engine.dispose()
    settings.home.mkdir(parents=True, exist_ok=True)
    replaced = []
    for relative in manifest["files"]:
        target = _restored_path(settings, relative)
        if target.exists():
            replaced.append(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / FILES / relative, target)
    backed_up: dict[str, int] = manifest["tables"]
    tables = [
        TableCount(name, backed_up.get(name), restored.get(name)) for name in sorted({*backed_up, *restored})
    ]
    return RestoreReport(tables, len(manifest["files"]), replaced)


def _count_rows(connection: Connection) -> dict[str, int]:
    """Rows of every table in the database (not only the platform's: nothing is left out of the count)."""
    names = sorted(inspect(connection).get_table_names())
    return {
        name: int(connection.scalar(select(func.count()).select_from(table(name))) or 0) for name in names
    }


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for pg_dump/pg_restore, and its password in the environment (not in `ps`)."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: postgresql-client of the server's version)")
    return path


def _dump_postgres(engine: Engine, url: str, target: Path) -> tuple[Path, dict[str, int]]:
    """pg_dump in the custom format, in the snapshot the rows were counted in: counts and dump agree even
    while the platform writes."""
    uri, env = _libpq(url)
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            counts = _count_rows(connection)
            subprocess.run(  # noqa: S603 — the installed pg_dump, fixed arguments
                [_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--file={target}", uri],
                env=env, check=True, capture_output=True,
            )  # fmt: skip
    return target, counts


def _restore_postgres(source: Path, url: str) -> None:
    uri, env = _libpq(url)
    result = subprocess.run(  # noqa: S603 — the installed pg_restore, fixed arguments
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
         f"--dbname={uri}", str(source)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()[-2000:]}")


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up or restore into")
    return Path(database)


def _copy_sqlite(source: Path, target: Path) -> tuple[Path, dict[str, int]]:
    """SQLite's online backup API: a consistent copy while others write; the rows counted in the copy."""
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    _sqlite_backup(source, target)
    engine = make_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return target, _count_rows(connection)
    finally:
        engine.dispose()


def _restore_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    _sqlite_backup(source, target)


def _sqlite_backup(source: Path, target: Path) -> None:
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)
    finally:
        writer.close()
        reader.close()


def _home_files(settings: Settings, folder: Path) -> Iterator[tuple[str, Path]]:
    """The files a restore needs besides the database: the home's (but its database and the outbox), and
    the message log's witness file and archive where they are configured outside the home."""
    home = settings.home.resolve()
    skipped: set[Path] = {folder.resolve()}
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        database = _sqlite_path(url).resolve()
        skipped |= {
            database,
            *(database.with_name(database.name + end) for end in ("-wal", "-shm", "-journal")),
        }
    for path in sorted(home.rglob("*")) if home.is_dir() else []:
        if not path.is_file() or path.name in SKIPPED_FILES or path.name.startswith("."):
            continue
        resolved = path.resolve()
        if resolved in skipped or any(parent in skipped for parent in resolved.parents):
            continue
        yield path.relative_to(home).as_posix(), path
    witness = settings.exchange.witness_file
    if witness is not None and witness.is_file() and not witness.resolve().is_relative_to(home):
        yield WITNESS, witness
    archive = settings.exchange.archive_dir
    if archive is not None and archive.is_dir() and not archive.resolve().is_relative_to(home):
        for path in sorted(archive.rglob("*")):
            if path.is_file():
                yield f"{ARCHIVE}/{path.relative_to(archive).as_posix()}", path


def _restored_path(settings: Settings, relative: str) -> Path:
    """Where a backed-up file goes: the target's configured witness file and archive, else its home."""
    if relative == WITNESS and settings.exchange.witness_file is not None:
        return settings.exchange.witness_file
    if relative.startswith(f"{ARCHIVE}/") and settings.exchange.archive_dir is not None:
        return settings.exchange.archive_dir / relative.removeprefix(f"{ARCHIVE}/")
    return settings.home / relative


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
