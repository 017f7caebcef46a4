"""Settings fail fast on placeholders outside development and default to the embedded database."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from panjereh.core.config import Settings


def test_default_database_is_sqlite_under_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url=None)
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'panjereh.sqlite3').resolve()}"


def test_production_refuses_the_placeholder_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(env="production", registry_token="x" * 40)


def test_production_refuses_the_placeholder_registry_token() -> None:
    with pytest.raises(ValidationError, match="REGISTRY_TOKEN"):
        Settings(env="production", secret_key="s" * 40)


def test_production_accepts_real_secrets() -> None:
    settings = Settings(env="production", secret_key="s" * 40, registry_token="t" * 40)
    assert settings.env == "production"


def test_environment_variables_are_read_with_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANJEREH_PORT", "9123")
    monkeypatch.setenv("PANJEREH_REDIS_URL", "redis://127.0.0.1:6379/3")
    settings = Settings()
    assert settings.port == 9123
    assert settings.redis_url == "redis://127.0.0.1:6379/3"


def test_registries_url_follows_the_port_when_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PANJEREH_REGISTRIES_URL", raising=False)
    monkeypatch.setenv("PANJEREH_REGISTRIES_PORT", "8372")
    assert Settings().registries_url == "http://127.0.0.1:8372"
    assert Settings(registries_port=9001).registries_url == "http://127.0.0.1:9001"
    # Set explicitly, the URL wins (registries elsewhere, or behind a proxy).
    monkeypatch.setenv("PANJEREH_REGISTRIES_URL", "http://registries.internal:8100")
    assert Settings().registries_url == "http://registries.internal:8100"
    assert Settings(registries_url="http://127.0.0.1:9002").registries_url == "http://127.0.0.1:9002"
