"""Every command of `panjereh` explains itself, and migrate/seed work on a fresh embedded database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from panjereh.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [[], ["demo"], ["serve"], ["migrate"], ["seed"], ["registries"], ["registries", "serve"]],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_migrate_then_seed_on_a_fresh_sqlite_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from panjereh.core.config import get_settings

    monkeypatch.setenv("PANJEREH_HOME", str(tmp_path))
    monkeypatch.delenv("PANJEREH_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert runner.invoke(app, ["migrate"]).exit_code == 0
        assert (tmp_path / "panjereh.sqlite3").exists()
        result = runner.invoke(app, ["seed"])
        assert result.exit_code == 0, result.output
        # Seeding twice adds nothing twice and does not fail.
        assert runner.invoke(app, ["seed"]).exit_code == 0
    finally:
        get_settings.cache_clear()
