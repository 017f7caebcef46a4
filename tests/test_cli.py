"""Every command of `panjereh` explains itself, and migrate/seed work on a fresh embedded database."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from panjereh.cli import _registries_process, app
from panjereh.core.config import Settings
from tests.support.servers import free_port

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


def test_demo_starts_the_registries_on_the_port_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`panjereh demo` with only PANJEREH_REGISTRIES_PORT set: the registries start there and answer."""
    monkeypatch.setenv("PANJEREH_HOME", str(tmp_path))
    monkeypatch.delenv("PANJEREH_REGISTRIES_URL", raising=False)
    port = free_port()
    monkeypatch.setenv("PANJEREH_REGISTRIES_PORT", str(port))
    settings = Settings()
    with _registries_process(settings):
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200


def test_demo_does_not_start_registries_that_live_elsewhere() -> None:
    settings = Settings(registries_url="http://registries.invalid:8100")
    with pytest.raises(typer.Exit), _registries_process(settings):
        pass
