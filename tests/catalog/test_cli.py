"""`panjereh catalog import/export` against a real database file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panjereh import migrations
from panjereh.catalog import selectors
from panjereh.cli import app
from panjereh.core.config import get_settings
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
from tests.support.factories import create_demo_agencies


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("PANJEREH_DATABASE_URL", url)
    monkeypatch.setenv("PANJEREH_HOME", str(tmp_path))
    get_settings.cache_clear()
    engine = make_engine(url)
    migrations.upgrade(engine)
    with unit_of_work(make_sessionmaker(engine)) as session:
        create_demo_agencies(session)
    engine.dispose()
    yield url
    get_settings.cache_clear()


def count(url: str) -> int:
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as session:
        number = selectors.count_services(session)
    engine.dispose()
    return number


def test_import_and_export(database: str, tmp_path: Path) -> None:
    runner = CliRunner()
    good = tmp_path / "good.csv"
    good.write_text("slug,title_fa,life_event\npost-code,استعلام کد پستی,utilities\n", encoding="utf-8")
    result = runner.invoke(app, ["catalog", "import", str(good), "--agency", "post"])
    assert result.exit_code == 0, result.output
    assert count(database) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("slug,title_fa,life_event\nok-one,خدمت درست,other\nBAD,,nope\n", encoding="utf-8")
    result = runner.invoke(app, ["catalog", "import", str(bad), "--agency", "post"])
    assert result.exit_code == 1 and count(database) == 1
    out = tmp_path / "out.xlsx"
    result = runner.invoke(app, ["catalog", "export", str(out), "--agency", "post"])
    assert result.exit_code == 0 and out.exists()
    assert runner.invoke(app, ["catalog", "export", str(tmp_path / "out.pdf")]).exit_code == 2
