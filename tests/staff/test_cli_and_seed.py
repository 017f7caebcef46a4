"""`panjereh staff grant|list` on a real database file, and the demo staff's seed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from panjereh import migrations
from panjereh.cli import app
from panjereh.core.config import Settings, get_settings
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
from panjereh.staff import selectors
from panjereh.staff.constants import Role
from panjereh.staff.seed import DEMO_AGENCY, seed_staff


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("PANJEREH_DATABASE_URL", url)
    monkeypatch.setenv("PANJEREH_HOME", str(tmp_path))
    get_settings.cache_clear()
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    yield url
    get_settings.cache_clear()


def test_grant_an_operator_and_list(database: str) -> None:
    runner = CliRunner()
    granted = runner.invoke(app, ["staff", "grant", "0499370899", "operator"])
    assert granted.exit_code == 0, granted.output
    listed = runner.invoke(app, ["staff", "list"])
    assert listed.output.split()[:2] == ["0499370899", "operator"]
    refused = runner.invoke(app, ["staff", "grant", "0499370899", "designer"])  # a designer needs an agency
    assert refused.exit_code != 0
    bad = runner.invoke(app, ["staff", "grant", "12", "operator"])
    assert bad.exit_code != 0
    engine = make_engine(database)
    with unit_of_work(make_sessionmaker(engine), writes=False) as session:
        assert selectors.is_operator(session, "0499370899")
        [entry] = selectors.audit_trail(session, None)
        assert (entry.actor, entry.action) == ("system", "staff.granted")
    engine.dispose()


def test_the_demo_staff_make_the_four_eyes_path_possible(db: Session, settings: Settings) -> None:
    seed_staff(db, settings, lambda _count: None)
    seed_staff(db, settings, lambda _count: None)  # idempotent
    assert selectors.is_operator(db, "0499370899")
    assert selectors.roles_in(db, "0499370899", DEMO_AGENCY) >= {Role.ADMINISTRATOR, Role.DESIGNER}
    assert [m.national_code for m in selectors.members(db, DEMO_AGENCY, Role.REVIEWER)] == ["7400076205"]
