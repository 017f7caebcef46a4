"""`panjereh documents …` on a fresh embedded home: revoke (issuer only), verify, rotate-key, keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panjereh import migrations
from panjereh.cli import app
from panjereh.core.config import Settings, get_settings
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
from panjereh.documents.selectors import get_document
from tests.documents.conftest import issue
from tests.support.factories import create_demo_agencies

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("PANJEREH_HOME", str(tmp_path))
    monkeypatch.delenv("PANJEREH_DATABASE_URL", raising=False)
    monkeypatch.delenv("PANJEREH_DOCUMENTS_SIGNING_KEYS", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def issued_number(settings: Settings) -> str:
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    with unit_of_work(make_sessionmaker(engine)) as session:
        create_demo_agencies(session)
        number = issue(session, settings).number
    engine.dispose()
    return number


def test_revoke_from_the_command_line(home: Settings) -> None:
    number = issued_number(home)
    assert runner.invoke(app, ["documents", "verify", number]).exit_code == 0
    refused = runner.invoke(app, ["documents", "revoke", number, "--reason", "x", "--agency", "tax"])
    assert refused.exit_code == 1 and "issuing agency" in refused.output
    done = runner.invoke(app, ["documents", "revoke", number, "--reason", "ابطال به درخواست دادگاه"])
    assert done.exit_code == 0, done.output
    engine = make_engine(home.resolved_database_url)
    with unit_of_work(make_sessionmaker(engine)) as session:
        document = get_document(session, number)
        assert document.revoked_by == "judiciary" and document.revocation_reason == "ابطال به درخواست دادگاه"
    engine.dispose()
    verified = runner.invoke(app, ["documents", "verify", number])
    assert verified.exit_code == 1 and "revoked" in verified.output
    again = runner.invoke(app, ["documents", "revoke", number, "--reason", "twice"])
    assert again.exit_code == 1
    missing = runner.invoke(app, ["documents", "revoke", "1404-0000-0000-0000", "--reason", "x"])
    assert missing.exit_code == 1


def test_rotate_key_keeps_the_old_key_published(home: Settings) -> None:
    first = json.loads(runner.invoke(app, ["documents", "keys"]).output)["keys"]
    assert len(first) == 1
    assert runner.invoke(app, ["documents", "rotate-key"]).exit_code == 0
    after = json.loads(runner.invoke(app, ["documents", "keys"]).output)["keys"]
    assert len(after) == 2 and after[1]["kid"] == first[0]["kid"] and after[0]["kid"] != first[0]["kid"]


@pytest.mark.parametrize("command", [["documents"], ["documents", "revoke"], ["documents", "rotate-key"]])
def test_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output
